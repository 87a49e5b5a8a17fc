import MarkdownIt, { type Token } from 'markdown-it';

// A real CommonMark parser (tables and strikethrough included) in linear time, where hand-written
// regexes backtracked quadratically on long runs of spaces, '#' or unclosed markers.
const parser = new MarkdownIt('default', { html: true });
const TASK_BOX = /^\[[ xX]\] /;
// Each match stops at the next '<', so a run of unclosed tags is scanned once.
const TAG = /<[^<>]*>/g;

/** Reduces Markdown to its words: markup goes, text (including code blocks) stays, one line per block. */
export function markdownToText(markdown: string): string {
  const out: string[] = [];
  let row: string[] | null = null;
  let listItem = false;
  for (const token of parser.parse(markdown, {})) {
    if (token.type === 'tr_open') row = [];
    else if (token.type === 'tr_close' && row) {
      out.push(row.join(' ').trim());
      row = null;
    } else if (token.type === 'list_item_open') listItem = true;
    else if (token.type === 'inline') {
      let text = inlineText(token.children ?? []);
      if (listItem) text = text.replace(TASK_BOX, '');
      listItem = false;
      if (row) row.push(text);
      else out.push(text);
    } else if (token.type === 'fence' || token.type === 'code_block') out.push(token.content.trimEnd());
    else if (token.type === 'html_block') out.push(token.content.replace(TAG, '').trim());
  }
  return out.join('\n');
}

function inlineText(tokens: Token[]): string {
  let text = '';
  for (const t of tokens) {
    if (t.type === 'text' || t.type === 'code_inline' || t.type === 'image') text += t.content;
    else if (t.type === 'softbreak' || t.type === 'hardbreak') text += '\n';
  }
  return text;
}
