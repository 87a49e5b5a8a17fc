// Pure helpers of the PostgreSQL engine: query terms, indexed words, highlight restoring.

/** Characters the index turns into blanks before parsing (see the search migration); queries likewise. */
export const SPLIT_CHARS = '.-/\\@';
const splitRe = /[.\-/\\@]/g;
const tokenRe = /[\p{L}\p{M}\p{N}]+/gu;
const lettersRe = /^[\p{L}\p{M}]+$/u;
const nonLettersRe = /[^\p{L}\p{M}]+/u;

/** At most this many terms count, as in Meilisearch; the rest of a long query is ignored. */
export const MAX_TERMS = 10;
/** Only words of this many letters or more get a typo correction (trigrams of shorter words say little). */
export const MIN_TYPO_LENGTH = 4;
/** Indexed words (and correctable query words) are at most this long; longer tokens are noise. */
export const MAX_WORD_LENGTH = 40;

export interface QueryTerm {
  /** The words of the term, lowercased; a phrase when quoted. */
  text: string;
  phrase: boolean;
  /** A single word of letters that may be replaced by the closest indexed word. */
  correctable: boolean;
}

export interface ParsedQuery {
  terms: QueryTerm[];
  negated: QueryTerm[];
}

const length = (s: string) => [...s].length;
const compoundRe = /[\p{L}\p{M}\p{N}]+(?:[.\-/\\@][\p{L}\p{M}\p{N}]+)*/gu;

/** A term from the words of a quote or of a compound like `invoice-2024.pdf` (a phrase when several). */
function term(source: string, quoted: boolean): QueryTerm | null {
  const words = source.replace(splitRe, ' ').match(tokenRe);
  if (!words) return null;
  const text = words.join(' ').toLowerCase();
  const n = length(text);
  const correctable =
    !quoted && words.length === 1 && n >= MIN_TYPO_LENGTH && n <= MAX_WORD_LENGTH && lettersRe.test(text);
  return { text, phrase: words.length > 1, correctable };
}

/**
 * Splits a query into terms: `"quoted words"` and compounds (`invoice-2024.pdf`) are phrases,
 * `-word` and `-"phrase"` exclude, letters and digits make words, everything else separates, so no
 * input is an error. Only quotes, a leading `-` and the characters joining a compound mean anything.
 */
export function parseQuery(query: string): ParsedQuery {
  const terms: QueryTerm[] = [];
  const negated: QueryTerm[] = [];
  let negateQuote = false;
  query.split('"').forEach((part, i) => {
    if (i % 2 === 1) {
      const t = term(part, true);
      if (t) (negateQuote ? negated : terms).push(t);
      return;
    }
    for (const m of part.matchAll(compoundRe)) {
      const negate = part[m.index - 1] === '-' && (m.index === 1 || /\s/.test(part[m.index - 2]!));
      const t = term(m[0], false);
      if (t && negate) negated.push({ ...t, correctable: false });
      else if (t) terms.push(t);
    }
    negateQuote = /(^|\s)-$/.test(part);
  });
  return { terms: terms.slice(0, MAX_TERMS), negated: negated.slice(0, MAX_TERMS) };
}

/** The distinct lowercased words worth offering as typo corrections: runs of 3 to 40 letters. */
export function indexWords(texts: Iterable<string>, into: Set<string>): Set<string> {
  for (const text of texts) {
    for (const w of text.toLowerCase().split(nonLettersRe)) {
      if (w.length >= 3 && w.length <= MAX_WORD_LENGTH) into.add(w);
    }
  }
  return into;
}

/** PostgreSQL text cannot hold NUL; the keyword separator must not occur inside a keyword. */
export const cleanText = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', ' ') : s);
export const KEYWORD_SEPARATOR = '\u001f';
export const cleanKeyword = (s: string): string => cleanText(s).replaceAll(KEYWORD_SEPARATOR, ' ');

/**
 * Puts the `<em>` marks of a headline computed on split, escaped text back onto the escaped source
 * it came from, character for character (the split only turns SPLIT_CHARS into blanks). Without a
 * source, or if the two ever disagree, the headline itself is returned: it is escaped too.
 */
export function restore(headline: string, source: string | null): string {
  if (source === null) return headline;
  const chars = [...source];
  let out = '';
  let i = 0;
  for (let at = 0; at < headline.length; ) {
    const tag = headline.startsWith('<em>', at) ? '<em>' : headline.startsWith('</em>', at) ? '</em>' : null;
    if (tag) {
      out += tag;
      at += tag.length;
      continue;
    }
    const c = String.fromCodePoint(headline.codePointAt(at)!);
    const s = chars[i];
    if (s === undefined || (c !== s && !(c === ' ' && SPLIT_CHARS.includes(s)))) return headline;
    out += s;
    i++;
    at += c.length;
  }
  return i === chars.length ? out : headline;
}
