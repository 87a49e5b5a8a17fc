/**
 * The stand-in's relevancy, written from Meilisearch's documentation: words are lowercased and
 * stripped of diacritics; the last query word is a prefix unless the query ends with a separator;
 * typos follow minWordSizeForTypos (1 from 5 letters, 2 from 9) with a first-letter typo counting
 * twice; `"quoted words"` are phrases; only the first 10 terms count. Ranking: words (matching
 * strategy `last` drops terms from the end), typo, proximity, attribute, sort, exactness.
 */

export interface Token {
  norm: string;
  start: number;
  end: number;
  pos: number;
}

export interface Term {
  words: string[];
  phrase: boolean;
  prefix: boolean;
}

export interface TypoSettings {
  enabled: boolean;
  oneTypo: number;
  twoTypos: number;
}

interface Match {
  term: number;
  attr: number;
  pos: number;
  typos: number;
  exact: boolean;
  /** Token positions covered and, for a prefix match, how many characters matched. */
  tokens: { index: number; prefixLen?: number }[];
}

export interface Ranked {
  words: number;
  typos: number;
  maxTypos: number;
  proximity: number;
  attr: number;
  wordPos: number;
  exact: number;
  matches: Match[];
}

const wordRe = /[\p{L}\p{N}\p{M}]+/gu;
const maxTerms = 10;
const normalize = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  for (const m of s.matchAll(wordRe)) {
    const norm = normalize(m[0]);
    if (norm) out.push({ norm, start: m.index, end: m.index + m[0].length, pos: out.length });
  }
  return out;
}

export function parseQuery(q: string): Term[] {
  const terms: Term[] = [];
  const parts = q.split('"');
  parts.forEach((part, i) => {
    const words = tokenize(part).map((t) => t.norm);
    if (i % 2 === 1 && words.length > 0) terms.push({ words, phrase: true, prefix: false });
    else if (i % 2 === 0) for (const w of words) terms.push({ words: [w], phrase: false, prefix: false });
  });
  const kept = terms.slice(0, maxTerms);
  const last = kept.at(-1);
  // Prefix only when the query ends inside that word (search-as-you-type).
  if (last && !last.phrase && kept.length === terms.length && /[\p{L}\p{N}\p{M}]$/u.test(q))
    last.prefix = true;
  return kept;
}

export function allowedTypos(word: string, typo: TypoSettings): number {
  if (!typo.enabled) return 0;
  const len = [...word].length;
  return len >= typo.twoTypos ? 2 : len >= typo.oneTypo ? 1 : 0;
}

/** Levenshtein distance; with `prefix`, the distance from `a` to the closest prefix of `b`. */
function distance(a: string[], b: string[], prefix: boolean): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prefix ? Math.min(...prev) : prev[b.length]!;
}

function matchWord(
  term: Term,
  word: string,
  typo: TypoSettings,
): { typos: number; exact: boolean; prefixLen?: number } | null {
  const q = term.words[0]!;
  if (word === q) return { typos: 0, exact: true };
  if (term.prefix && word.startsWith(q)) return { typos: 0, exact: false, prefixLen: [...q].length };
  const allowed = allowedTypos(q, typo);
  if (allowed === 0) return null;
  const [qa, wa] = [[...q], [...word]];
  const d = distance(qa, wa, term.prefix) + (qa[0] === wa[0] ? 0 : 1);
  return d <= allowed ? { typos: d, exact: false } : null;
}

/** Every occurrence of every term in the document's searchable attributes (tokens per attribute). */
export function findMatches(terms: Term[], attrs: Token[][], typo: TypoSettings): Match[] {
  const out: Match[] = [];
  terms.forEach((term, t) => {
    attrs.forEach((tokens, attr) => {
      if (term.phrase) {
        const n = term.words.length;
        for (let i = 0; i + n <= tokens.length; i++) {
          if (term.words.every((w, k) => tokens[i + k]!.norm === w)) {
            const covered = term.words.map((_, k) => ({ index: i + k }));
            out.push({ term: t, attr, pos: tokens[i]!.pos, typos: 0, exact: true, tokens: covered });
          }
        }
        return;
      }
      for (const [index, token] of tokens.entries()) {
        const m = matchWord(term, token.norm, typo);
        if (m)
          out.push({
            term: t,
            attr,
            pos: token.pos,
            typos: m.typos,
            exact: m.exact,
            tokens: [{ index, prefixLen: m.prefixLen }],
          });
      }
    });
  });
  return out;
}

/** Ranks one document; null when it does not match (strategy `last`: at least the first term). */
export function rank(
  terms: Term[],
  matches: Match[],
  strategy: 'last' | 'all',
  typo: TypoSettings,
): Ranked | null {
  const byTerm = terms.map((_, t) => matches.filter((m) => m.term === t));
  let words = 0;
  while (words < terms.length && byTerm[words]!.length > 0) words++;
  if (words === 0 || (strategy === 'all' && words < terms.length)) return null;
  const used = byTerm.slice(0, words);
  const best = used.map((ms) =>
    ms.reduce((a, b) => (b.typos < a.typos || (b.typos === a.typos && b.exact && !a.exact) ? b : a)),
  );
  let proximity = 0;
  for (let t = 0; t + 1 < words; t++) {
    let closest = 8;
    for (const a of used[t]!) {
      for (const b of used[t + 1]!) {
        if (a.attr !== b.attr) continue;
        const gap = b.pos > a.pos ? b.pos - a.pos : a.pos - b.pos + 1;
        closest = Math.min(closest, gap, 7);
      }
    }
    proximity += closest;
  }
  const all = used.flat();
  const attr = Math.min(...all.map((m) => m.attr));
  return {
    words,
    typos: best.reduce((s, m) => s + m.typos, 0),
    maxTypos: terms.slice(0, words).reduce((s, t) => s + (t.phrase ? 0 : allowedTypos(t.words[0]!, typo)), 0),
    proximity,
    attr,
    wordPos: Math.min(...all.filter((m) => m.attr === attr).map((m) => m.pos)),
    exact: used.filter((ms) => ms.some((m) => m.exact)).length,
    matches,
  };
}

/** Mixed-radix score in (0, 1]: ordered like the ranking rules, 1 for a perfect match. */
export function rankingScore(r: Ranked, termCount: number, attrCount: number): number {
  const rules: [number, number][] = [
    [r.words, termCount],
    [r.maxTypos + 1 - r.typos, r.maxTypos + 1],
    [8 * Math.max(r.words - 1, 0) + 1 - r.proximity, 8 * Math.max(r.words - 1, 0) + 1],
    [attrCount - r.attr, attrCount],
    [r.exact + 1, r.words + 1],
  ];
  let score = 0;
  let scale = 1;
  for (const [value, max] of rules) {
    score += (scale * (value - 1)) / max;
    scale /= max;
  }
  return Math.round((score + scale) * 1e12) / 1e12;
}

interface Marked {
  index: number;
  prefixLen?: number;
}

function wrap(
  text: string,
  tokens: Token[],
  marks: Marked[],
  from: number,
  to: number,
  pre: string,
  post: string,
) {
  const byIndex = new Map(marks.map((m) => [m.index, m]));
  let out = '';
  let cursor = from;
  for (const tok of tokens) {
    if (tok.start < from || tok.end > to) continue;
    const mark = byIndex.get(tok.pos);
    if (!mark) continue;
    const original = text.slice(tok.start, tok.end);
    // A prefix match highlights only the typed prefix when characters map one to one.
    const cut =
      mark.prefixLen !== undefined && [...original].length === [...tok.norm].length
        ? [...original].slice(0, mark.prefixLen).join('').length
        : original.length;
    out += `${text.slice(cursor, tok.start)}${pre}${original.slice(0, cut)}${post}${original.slice(cut)}`;
    cursor = tok.end;
  }
  return out + text.slice(cursor, to);
}

export interface FormatOptions {
  highlight: boolean;
  crop: number | null;
  pre: string;
  post: string;
  marker: string;
}

/** Highlights and/or crops one string value around the words that match the query terms. */
export function formatValue(text: string, terms: Term[], typo: TypoSettings, opts: FormatOptions): string {
  const tokens = tokenize(text);
  const marks: Marked[] = findMatches(terms, [tokens], typo).flatMap((m) => m.tokens);
  const hl = opts.highlight ? marks : [];
  if (opts.crop === null || tokens.length <= opts.crop)
    return wrap(text, tokens, hl, 0, text.length, opts.pre, opts.post);
  const size = Math.max(opts.crop, 0);
  if (size === 0) return '';
  const matched = new Set(marks.map((m) => m.index));
  let bestStart = 0;
  let bestCount = -1;
  for (let s = 0; s + size <= tokens.length; s++) {
    let count = 0;
    for (let i = s; i < s + size; i++) if (matched.has(i)) count++;
    if (count > bestCount) [bestStart, bestCount] = [s, count];
  }
  const inWindow = [...matched].filter((i) => i >= bestStart && i < bestStart + size).sort((a, b) => a - b);
  if (inWindow.length > 0) {
    const spare = size - (inWindow.at(-1)! - inWindow[0]! + 1);
    bestStart = Math.max(0, Math.min(inWindow[0]! - Math.floor(spare / 2), tokens.length - size));
  }
  const last = bestStart + size - 1;
  const from = bestStart === 0 ? 0 : tokens[bestStart]!.start;
  const to = last === tokens.length - 1 ? text.length : tokens[last]!.end;
  const body = wrap(text, tokens, hl, from, to, opts.pre, opts.post);
  return `${bestStart > 0 ? opts.marker : ''}${body}${last < tokens.length - 1 ? opts.marker : ''}`;
}
