import {
  checkFilter,
  FilterError,
  type FilterNode,
  matchFilter,
  parseFilterParam,
} from './meili-standin-filter.ts';
import {
  type FormatOptions,
  findMatches,
  formatValue,
  parseQuery,
  type Ranked,
  rank,
  rankingScore,
  type Term,
  type Token,
  type TypoSettings,
  tokenize,
} from './meili-standin-search.ts';

/** One index of the Meilisearch stand-in: its settings (validated like Meilisearch) and search. */

export type Json = Record<string, unknown>;

export interface Settings {
  displayedAttributes: string[];
  searchableAttributes: string[];
  filterableAttributes: string[];
  sortableAttributes: string[];
  rankingRules: string[];
  typoTolerance: { enabled: boolean; minWordSizeForTypos: { oneTypo: number; twoTypos: number } } & Json;
  pagination: { maxTotalHits: number };
  [other: string]: unknown;
}

export interface IndexState {
  uid: string;
  primaryKey: string | null;
  createdAt: string;
  updatedAt: string;
  docs: Map<string, { internalId: number; doc: Json }>;
  fieldOrder: string[];
  settings: Settings;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: string;
  constructor(status: number, code: string, message: string, type = 'invalid_request') {
    super(message);
    this.status = status;
    this.code = code;
    this.type = type;
  }
  toJSON() {
    return {
      message: this.message,
      code: this.code,
      type: this.type,
      link: `https://docs.meilisearch.com/errors#${this.code}`,
    };
  }
}

const builtinRules = ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'];
export const defaultSettings = (): Settings => ({
  displayedAttributes: ['*'],
  searchableAttributes: ['*'],
  filterableAttributes: [],
  sortableAttributes: [],
  rankingRules: [...builtinRules],
  stopWords: [],
  nonSeparatorTokens: [],
  separatorTokens: [],
  dictionary: [],
  synonyms: {},
  distinctAttribute: null,
  proximityPrecision: 'byWord',
  typoTolerance: {
    enabled: true,
    minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 },
    disableOnWords: [],
    disableOnAttributes: [],
  },
  faceting: { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' } },
  pagination: { maxTotalHits: 1000 },
  searchCutoffMs: null,
});
const listSettings = [
  'displayedAttributes',
  'searchableAttributes',
  'filterableAttributes',
  'sortableAttributes',
  'rankingRules',
  'stopWords',
  'nonSeparatorTokens',
  'separatorTokens',
  'dictionary',
];
const searchKeys = new Set([
  'q',
  'offset',
  'limit',
  'page',
  'hitsPerPage',
  'filter',
  'facets',
  'attributesToRetrieve',
  'attributesToCrop',
  'cropLength',
  'cropMarker',
  'attributesToHighlight',
  'highlightPreTag',
  'highlightPostTag',
  'showMatchesPosition',
  'sort',
  'matchingStrategy',
  'showRankingScore',
  'showRankingScoreDetails',
  'attributesToSearchOn',
  'rankingScoreThreshold',
  'distinct',
  'locales',
  'retrieveVectors',
]);

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function describeValue(v: unknown): string {
  if (typeof v === 'number')
    return Number.isInteger(v)
      ? v < 0
        ? `a negative integer: \`${v}\``
        : `a positive integer: \`${v}\``
      : `a float: \`${v}\``;
  if (typeof v === 'string') return `a string: \`${JSON.stringify(v)}\``;
  if (Array.isArray(v)) return `an array: \`${JSON.stringify(v)}\``;
  if (v === null) return 'null';
  return typeof v === 'boolean' ? `a boolean: \`${v}\`` : `an object: \`${JSON.stringify(v)}\``;
}

const typeError = (key: string, expected: string, v: unknown, code: string) =>
  new ApiError(
    400,
    code,
    `Invalid value type at \`.${key}\`: expected ${expected}, but found ${describeValue(v)}`,
  );

function uint(body: Json, key: string, code: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw typeError(key, 'a positive integer', v, code);
  return v;
}

function strings(body: Json, key: string, code: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw typeError(key, 'an array of strings', v, code);
  return v as string[];
}

function str(body: Json, key: string, code: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(key, 'a string', v, code);
  return v;
}

/** Tokens of a field for search: strings, numbers and arrays/objects of them. */
function fieldTokens(value: unknown): Token[] {
  const out: Token[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number') {
      // Array elements sit apart so that proximity never joins two of them.
      const base = out.length === 0 ? 0 : out.at(-1)!.pos + 8;
      for (const t of tokenize(String(v))) out.push({ ...t, pos: base + t.pos });
    } else if (Array.isArray(v)) v.forEach(add);
    else if (v && typeof v === 'object') Object.values(v).forEach(add);
  };
  add(value);
  return out;
}

export function validateSettings(body: unknown): Partial<Settings> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ApiError(
      400,
      'bad_request',
      `Invalid value type: expected an object, but found ${describeValue(body)}`,
    );
  const known = Object.keys(defaultSettings());
  for (const [key, v] of Object.entries(body as Json)) {
    if (!known.includes(key))
      throw new ApiError(
        400,
        'bad_request',
        `Unknown field \`${key}\`: expected one of ${known.map((k) => `\`${k}\``).join(', ')}`,
      );
    const code = `invalid_settings_${snake(key)}`;
    if (v === null) continue;
    if (listSettings.includes(key) && (!Array.isArray(v) || v.some((x) => typeof x !== 'string')))
      throw typeError(key, 'an array', v, code);
    if (key === 'rankingRules') {
      for (const rule of v as string[]) {
        if (!builtinRules.includes(rule) && !/^[^:\s]+:(asc|desc)$/.test(rule)) {
          throw new ApiError(
            400,
            code,
            `Invalid value at \`.rankingRules[0]\`: \`${rule}\` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.`,
          );
        }
      }
    }
    if (key === 'pagination') {
      const max = (v as Json).maxTotalHits;
      if (
        typeof v !== 'object' ||
        (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1))
      )
        throw typeError('pagination.maxTotalHits', 'a positive integer', max, code);
    }
    if (key === 'typoTolerance') {
      const t = v as Json;
      if (typeof v !== 'object' || (t.enabled !== undefined && typeof t.enabled !== 'boolean'))
        throw typeError('typoTolerance.enabled', 'a boolean', t.enabled, code);
    }
  }
  return body as Partial<Settings>;
}

export function applySettings(index: IndexState, patch: Partial<Settings>) {
  const defaults = defaultSettings();
  const settings: Json = index.settings;
  for (const [key, v] of Object.entries(patch)) {
    if (v === null) settings[key] = defaults[key];
    else if (key === 'typoTolerance' || key === 'pagination' || key === 'faceting') {
      const merged = { ...(settings[key] as Json), ...(v as Json) };
      if (key === 'typoTolerance' && (v as Json).minWordSizeForTypos) {
        merged.minWordSizeForTypos = {
          ...index.settings.typoTolerance.minWordSizeForTypos,
          ...((v as Json).minWordSizeForTypos as Json),
        };
      }
      settings[key] = merged;
    } else settings[key] = v;
  }
}

function compareValues(a: unknown, b: unknown): number {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

interface Candidate {
  internalId: number;
  doc: Json;
  ranked: Ranked | null;
}

export function searchIndex(index: IndexState, body: Json) {
  const started = performance.now();
  for (const key of Object.keys(body)) {
    if (!searchKeys.has(key))
      throw new ApiError(
        400,
        'bad_request',
        `Unknown field \`${key}\`: expected one of ${[...searchKeys].map((k) => `\`${k}\``).join(', ')}`,
      );
  }
  const q = str(body, 'q', 'invalid_search_q') ?? '';
  const offset = uint(body, 'offset', 'invalid_search_offset') ?? 0;
  const limit = uint(body, 'limit', 'invalid_search_limit') ?? 20;
  const page = uint(body, 'page', 'invalid_search_page');
  const hitsPerPage = uint(body, 'hitsPerPage', 'invalid_search_hits_per_page');
  const cropLength = uint(body, 'cropLength', 'invalid_search_crop_length') ?? 10;
  const toRetrieve = strings(body, 'attributesToRetrieve', 'invalid_search_attributes_to_retrieve') ?? ['*'];
  const toHighlight = strings(body, 'attributesToHighlight', 'invalid_search_attributes_to_highlight') ?? [];
  const toCrop = strings(body, 'attributesToCrop', 'invalid_search_attributes_to_crop') ?? [];
  const sort = strings(body, 'sort', 'invalid_search_sort') ?? [];
  const pre = str(body, 'highlightPreTag', 'invalid_search_highlight_pre_tag') ?? '<em>';
  const post = str(body, 'highlightPostTag', 'invalid_search_highlight_post_tag') ?? '</em>';
  const marker = str(body, 'cropMarker', 'invalid_search_crop_marker') ?? '…';
  const strategy = str(body, 'matchingStrategy', 'invalid_search_matching_strategy') ?? 'last';
  if (!['last', 'all', 'frequency'].includes(strategy))
    throw new ApiError(
      400,
      'invalid_search_matching_strategy',
      `Unknown value \`${strategy}\` at \`.matchingStrategy\`: expected one of \`last\`, \`all\`, \`frequency\``,
    );
  if (body.showRankingScore !== undefined && typeof body.showRankingScore !== 'boolean')
    throw typeError(
      'showRankingScore',
      'a boolean',
      body.showRankingScore,
      'invalid_search_show_ranking_score',
    );

  const { settings } = index;
  let filter: FilterNode | null;
  try {
    filter = parseFilterParam(body.filter);
    if (filter) checkFilter(filter, settings.filterableAttributes, index.uid);
  } catch (error) {
    if (error instanceof FilterError) throw new ApiError(400, 'invalid_search_filter', error.message);
    throw error;
  }
  const sorters = sort.map((s) => {
    const m = /^([^:\s]+):(asc|desc)$/.exec(s);
    if (!m)
      throw new ApiError(
        400,
        'invalid_search_sort',
        `Invalid syntax for the sort parameter: expected expression ending by \`:asc\` or \`:desc\`, found \`${s}\`.`,
      );
    if (!settings.sortableAttributes.includes(m[1]!)) {
      throw new ApiError(
        400,
        'invalid_search_sort',
        `Index \`${index.uid}\`: Attribute \`${m[1]}\` of sort rule \`${s}\` is not sortable. Available sortable attributes are: \`${settings.sortableAttributes.join(', ')}\`.`,
      );
    }
    return { attr: m[1]!, dir: m[2] === 'asc' ? 1 : -1 };
  });

  const typo: TypoSettings = {
    enabled: settings.typoTolerance.enabled,
    ...settings.typoTolerance.minWordSizeForTypos,
  };
  const terms: Term[] = parseQuery(q);
  const searchable = settings.searchableAttributes.includes('*')
    ? index.fieldOrder
    : settings.searchableAttributes;
  const candidates: Candidate[] = [];
  for (const { internalId, doc } of index.docs.values()) {
    if (filter && !matchFilter(filter, doc)) continue;
    if (terms.length === 0) {
      candidates.push({ internalId, doc, ranked: null });
      continue;
    }
    const matches = findMatches(
      terms,
      searchable.map((a) => fieldTokens(doc[a])),
      typo,
    );
    const ranked = rank(terms, matches, strategy === 'all' ? 'all' : 'last', typo);
    if (ranked) candidates.push({ internalId, doc, ranked });
  }
  const bySort = (a: Candidate, b: Candidate) => {
    for (const s of sorters) {
      const c = compareValues(a.doc[s.attr], b.doc[s.attr]);
      if (c !== 0) return a.doc[s.attr] == null || b.doc[s.attr] == null ? c : c * s.dir;
    }
    return 0;
  };
  const rules = ['words', ...settings.rankingRules.filter((r) => r !== 'words')];
  candidates.sort((a, b) => {
    const [x, y] = [a.ranked, b.ranked];
    for (const rule of rules) {
      let c = 0;
      if (rule === 'sort') c = bySort(a, b);
      else if (x && y) {
        if (rule === 'words') c = y.words - x.words;
        else if (rule === 'typo') c = x.typos - y.typos;
        else if (rule === 'proximity') c = x.proximity - y.proximity;
        else if (rule === 'attribute') c = x.attr - y.attr || x.wordPos - y.wordPos;
        else if (rule === 'exactness') c = y.exact - x.exact;
      }
      const custom = /^(.+):(asc|desc)$/.exec(rule);
      if (custom) c = compareValues(a.doc[custom[1]!], b.doc[custom[1]!]) * (custom[2] === 'asc' ? 1 : -1);
      if (c !== 0) return c;
    }
    return a.internalId - b.internalId;
  });

  const capped = candidates.slice(0, settings.pagination.maxTotalHits);
  const finite = page !== undefined || hitsPerPage !== undefined;
  const perPage = hitsPerPage ?? 20;
  const pageNo = page ?? 1;
  const window = finite
    ? pageNo === 0
      ? []
      : capped.slice((pageNo - 1) * perPage, pageNo * perPage)
    : capped.slice(offset, offset + limit);

  const displayed = settings.displayedAttributes.includes('*') ? null : new Set(settings.displayedAttributes);
  const hits = window.map((c) => {
    const visible = Object.keys(c.doc).filter((k) => !displayed || displayed.has(k));
    const retrieved = toRetrieve.includes('*') ? visible : visible.filter((k) => toRetrieve.includes(k));
    const pick = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, c.doc[k]]));
    const hit: Json = pick(retrieved);
    const highlight = new Set(
      toHighlight.includes('*') ? retrieved : toHighlight.filter((k) => visible.includes(k)),
    );
    const crop = new Map<string, number>();
    for (const entry of toCrop) {
      const [name, len] = entry.split(':');
      for (const k of name === '*' ? retrieved : visible.filter((v) => v === name))
        crop.set(k, len ? Number(len) : cropLength);
    }
    if (highlight.size > 0 || crop.size > 0) {
      const formatted: Json = {};
      for (const k of new Set([...retrieved, ...highlight, ...crop.keys()])) {
        const opts: FormatOptions = {
          highlight: highlight.has(k),
          crop: crop.get(k) ?? null,
          pre,
          post,
          marker,
        };
        const fmt = (v: unknown): unknown =>
          typeof v === 'string' ? formatValue(v, terms, typo, opts) : Array.isArray(v) ? v.map(fmt) : v;
        formatted[k] = highlight.has(k) || crop.has(k) ? fmt(c.doc[k]) : c.doc[k];
      }
      hit._formatted = formatted;
    }
    if (body.showRankingScore === true)
      hit._rankingScore = c.ranked ? rankingScore(c.ranked, terms.length, searchable.length) : 1;
    return hit;
  });
  const base = { hits, query: q, processingTimeMs: Math.round(performance.now() - started) };
  if (finite) {
    const totalPages = perPage === 0 ? 0 : Math.ceil(capped.length / perPage);
    return { ...base, hitsPerPage: perPage, page: pageNo, totalPages, totalHits: capped.length };
  }
  return { ...base, limit, offset, estimatedTotalHits: capped.length };
}

/** Starts the stand-in on 127.0.0.1 and a free port. */
