import * as stopwords from 'stopword';
import { detect, supportedLanguages, toISO2 } from 'tinyld';
import type { Insights } from '../../entities/document.entity.ts';

const MAX_KEYWORDS = 10;
const MIN_KEYWORD_LENGTH = 3;
/** Below this many words tinyld guesses wildly (it calls "Hello" Italian), so the language stays null. */
const MIN_WORDS_FOR_LANGUAGE = 5;
/** Language detection reads a sample: its cost grows with the text, its answer does not. */
const LANGUAGE_SAMPLE_CHARS = 20_000;
/** A PDF averaging fewer non-blank characters per page than this has no real text layer. */
const MIN_CHARS_PER_PAGE = 16;
/**
 * Distinct keyword candidates tracked; later new words are not counted. Bounds the table's memory and
 * keeps each of its reallocations small (a worker's heap limit is only reliable for small allocations).
 */
const MAX_VOCABULARY = 100_000;

// tinyld speaks ISO 639-3; the stopword package uses the same codes save a few aliases.
const STOPWORD_KEY: Record<string, string> = { cmn: 'zho', pes: 'fas', lvs: 'lav' };
const stopwordLists = stopwords as unknown as Record<string, string[] | undefined>;
const STOPWORDS_BY_ISO2 = new Map<string, Set<string>>();
for (const iso3 of supportedLanguages) {
  const list = stopwordLists[STOPWORD_KEY[iso3] ?? iso3];
  const iso2 = toISO2(iso3);
  if (list && iso2) STOPWORDS_BY_ISO2.set(iso2, new Set(list));
}
const ENGLISH_STOPWORDS = new Set(stopwords.eng);

const segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/**
 * Word count, language, keywords and the OCR hint for an extracted text. Pure and deterministic.
 * `scannedPages`: pages known to lack a text layer; `ocr`: the text already holds their recognised text.
 */
export function computeInsights(
  text: string,
  pageCount: number | null,
  { scannedPages = 0, ocr = false }: { scannedPages?: number; ocr?: boolean } = {},
): Insights {
  // One pass, counting as it goes: no array of every word, so memory follows the vocabulary, not the length.
  let wordCount = 0;
  const counts = new Map<string, number>();
  for (const segment of segmenter.segment(text)) {
    if (!segment.isWordLike) continue;
    wordCount++;
    const key = keywordForm(segment.segment);
    if (!key) continue;
    const count = counts.get(key);
    if (count !== undefined) counts.set(key, count + 1);
    else if (counts.size < MAX_VOCABULARY) counts.set(key, 1);
  }
  const language = detectLanguage(text, wordCount);
  return {
    wordCount,
    pageCount,
    language,
    keywords: topKeywords(counts, (language && STOPWORDS_BY_ISO2.get(language)) || ENGLISH_STOPWORDS),
    needsOcr:
      !ocr && (scannedPages > 0 || (pageCount !== null && pageCount > 0 && lacksTextLayer(text, pageCount))),
    ocr,
  };
}

function detectLanguage(text: string, wordCount: number): string | null {
  if (wordCount < MIN_WORDS_FOR_LANGUAGE) return null;
  const found = detect(text.slice(0, LANGUAGE_SAMPLE_CHARS));
  // tinyld answers ISO 639-1 where one exists; a three-letter answer has none.
  const iso2 = found.length === 3 ? toISO2(found) : found;
  return /^[a-z]{2}$/.test(iso2) ? iso2 : null;
}

/** Most frequent first, ties in code-point order; a running top ten, so no sort of the whole vocabulary. */
function topKeywords(counts: Map<string, number>, stop: Set<string>): string[] {
  const top: [string, number][] = [];
  const before = ([a, x]: [string, number], [b, y]: [string, number]) => x > y || (x === y && a < b);
  for (const entry of counts) {
    if (stop.has(entry[0])) continue;
    if (top.length === MAX_KEYWORDS && !before(entry, top[MAX_KEYWORDS - 1]!)) continue;
    let i = Math.min(top.length, MAX_KEYWORDS - 1);
    while (i > 0 && before(entry, top[i - 1]!)) i--;
    top.splice(i, 0, entry);
    if (top.length > MAX_KEYWORDS) top.pop();
  }
  return top.map(([word]) => word);
}

/** One page's text is too thin to be a text layer: it needs OCR. */
export const pageLacksText = (pageText: string) => lacksTextLayer(pageText, 1);

/** True when the text averages fewer than MIN_CHARS_PER_PAGE non-blank characters per page. */
function lacksTextLayer(text: string, pageCount: number): boolean {
  const needed = pageCount * MIN_CHARS_PER_PAGE;
  let found = 0;
  for (let i = 0; i < text.length && found < needed; i++) if (!/\s/.test(text[i]!)) found++;
  return found < needed;
}

/** Lowercased, elision ("l'", "qu'") and possessive "'s" removed; null for numbers, short words, contractions. */
function keywordForm(word: string): string | null {
  const w = word
    .toLowerCase()
    .replace(/\u2019/g, "'")
    .replace(/^(?:qu|\p{L})'/u, '')
    .replace(/'s$/, '');
  if (w.includes("'") || !/\p{L}/u.test(w)) return null;
  return [...w].length >= MIN_KEYWORD_LENGTH ? w : null;
}
