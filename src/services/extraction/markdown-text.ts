const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const DROP_LINE = [
  /^\s{0,3}\[[^\]]+\]:\s*\S+.*$/, // reference definition
  /^\s{0,3}(?:=+|-+)\s*$/, // setext underline
  /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/, // thematic break
  /^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/, // table delimiter row
];
const INLINE: [RegExp, string][] = [
  [/(`+)(.+?)\1/g, '$2'], // inline code keeps its content
  [/!\[([^\]]*)\]\([^)]*\)/g, '$1'], // image: alt text
  [/\[([^\]]+)\]\([^)]*\)/g, '$1'], // link: its text
  [/\[([^\]]+)\]\[[^\]]*\]/g, '$1'], // reference link
  [/<((?:https?|mailto):[^>\s]+)>/g, '$1'], // autolink
  [/<\/?[a-zA-Z][^>]*>/g, ''], // inline HTML tag
  [/(\*\*|~~|\*)(?=\S)(.+?)(?<=\S)\1/g, '$2'],
  // Underscores only emphasise at word edges, so snake_case survives.
  [/(^|[^\p{L}\p{N}_])(__?)(?=\S)(.+?)(?<=\S)\2(?![\p{L}\p{N}_])/gu, '$1$3'],
];
// Escaped punctuation is parked in the private-use area so no rule above reads it as markup.
const ESCAPED = /\\([\\`*_{}[\]()#+\-.!|>~])/g;
const PARKED = /[\ue000-\ue07f]/g;

/** Reduces Markdown to its words: markup goes, text (including code blocks) stays, one line per line. */
export function markdownToText(markdown: string): string {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split(/\r?\n/)) {
    const marker = FENCE.exec(line)?.[1];
    if (fence) {
      if (marker?.[0] === fence[0] && marker.length >= fence.length) fence = null;
      else out.push(line);
      continue;
    }
    if (marker) {
      fence = marker;
      continue;
    }
    if (DROP_LINE.some((re) => re.test(line))) continue;
    out.push(inline(blockPrefix(line)));
  }
  return out.join('\n');
}

function blockPrefix(line: string): string {
  let s = line.replace(/^\s{0,3}#{1,6}(?:\s+|$)/, '').replace(/\s+#+\s*$/, ''); // ATX heading
  s = s.replace(/^\s*(?:>\s?)+/, ''); // blockquote
  s = s.replace(/^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/, ''); // list item, task box
  if (/^\s*\|/.test(s)) s = s.replace(/\s*\|\s*/g, ' ').trim(); // table row
  return s;
}

function inline(line: string): string {
  const parked = line.replace(ESCAPED, (_, c: string) => String.fromCharCode(0xe000 + c.charCodeAt(0)));
  const plain = INLINE.reduce((s, [re, to]) => s.replace(re, to), parked);
  return plain.replace(PARKED, (c) => String.fromCharCode(c.charCodeAt(0) - 0xe000));
}
