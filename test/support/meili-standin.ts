import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkFilter, FilterError, type FilterNode, matchFilter, parseFilterParam } from './meili-standin-filter.ts';
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

/**
 * A Meilisearch stand-in for tests, written from Meilisearch's API reference: /health, indexes,
 * documents (add or replace, delete-batch, browse), settings, asynchronous tasks, and search with
 * filters, paging, highlighting, cropping and ranking scores; errors as `{ message, code, type, link }`.
 */

/** How the stand-in misbehaves: drop the connection, never answer, a proxy's 503 page, a 500 error. */
export type StandinFailure = 'reset' | 'hang' | 'proxy-503' | 'internal';

export interface MeiliStandinOptions {
  /** When set, every route but /health needs `Authorization: Bearer <masterKey>`. */
  masterKey?: string;
  /** Time each task stays enqueued before it is processed; 10 ms by default. */
  taskDelayMs?: number;
}

export interface MeiliStandin {
  url: string;
  apiKey: string | undefined;
  /** Every request received, in order. */
  requests: { method: string; path: string }[];
  setFailure(mode: StandinFailure | null): void;
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;

interface Settings {
  displayedAttributes: string[];
  searchableAttributes: string[];
  filterableAttributes: string[];
  sortableAttributes: string[];
  rankingRules: string[];
  typoTolerance: { enabled: boolean; minWordSizeForTypos: { oneTypo: number; twoTypos: number } } & Json;
  pagination: { maxTotalHits: number };
  [other: string]: unknown;
}

interface IndexState {
  uid: string;
  primaryKey: string | null;
  createdAt: string;
  updatedAt: string;
  docs: Map<string, { internalId: number; doc: Json }>;
  fieldOrder: string[];
  settings: Settings;
}

interface Task {
  uid: number;
  batchUid: number | null;
  indexUid: string | null;
  status: 'enqueued' | 'succeeded' | 'failed';
  type: string;
  canceledBy: null;
  details: Json;
  error: Json | null;
  duration: string | null;
  enqueuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

class ApiError extends Error {
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
    return { message: this.message, code: this.code, type: this.type, link: `https://docs.meilisearch.com/errors#${this.code}` };
  }
}

const builtinRules = ['words', 'typo', 'proximity', 'attribute', 'sort', 'exactness'];
const defaultSettings = (): Settings => ({
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
const listSettings = ['displayedAttributes', 'searchableAttributes', 'filterableAttributes', 'sortableAttributes', 'rankingRules', 'stopWords', 'nonSeparatorTokens', 'separatorTokens', 'dictionary'];
const searchKeys = new Set(['q', 'offset', 'limit', 'page', 'hitsPerPage', 'filter', 'facets', 'attributesToRetrieve', 'attributesToCrop', 'cropLength', 'cropMarker', 'attributesToHighlight', 'highlightPreTag', 'highlightPostTag', 'showMatchesPosition', 'sort', 'matchingStrategy', 'showRankingScore', 'showRankingScoreDetails', 'attributesToSearchOn', 'rankingScoreThreshold', 'distinct', 'locales', 'retrieveVectors']);
const uidRe = /^[A-Za-z0-9_-]{1,400}$/;
const docIdRe = /^[A-Za-z0-9_-]{1,511}$/;
const maxPayload = 100 * 1024 * 1024;

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const now = () => new Date().toISOString();

function describe(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? (v < 0 ? `a negative integer: \`${v}\`` : `a positive integer: \`${v}\``) : `a float: \`${v}\``;
  if (typeof v === 'string') return `a string: \`${JSON.stringify(v)}\``;
  if (Array.isArray(v)) return `an array: \`${JSON.stringify(v)}\``;
  if (v === null) return 'null';
  return typeof v === 'boolean' ? `a boolean: \`${v}\`` : `an object: \`${JSON.stringify(v)}\``;
}

const typeError = (key: string, expected: string, v: unknown, code: string) =>
  new ApiError(400, code, `Invalid value type at \`.${key}\`: expected ${expected}, but found ${describe(v)}`);

function uint(body: Json, key: string, code: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw typeError(key, 'a positive integer', v, code);
  return v;
}

function strings(body: Json, key: string, code: string): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw typeError(key, 'an array of strings', v, code);
  return v as string[];
}

function str(body: Json, key: string, code: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(key, 'a string', v, code);
  return v;
}

function validId(id: unknown): string | null {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  return typeof id === 'string' && docIdRe.test(id) ? id : null;
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

function validateSettings(body: unknown): Partial<Settings> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'bad_request', `Invalid value type: expected an object, but found ${describe(body)}`);
  const known = Object.keys(defaultSettings());
  for (const [key, v] of Object.entries(body as Json)) {
    if (!known.includes(key)) throw new ApiError(400, 'bad_request', `Unknown field \`${key}\`: expected one of ${known.map((k) => `\`${k}\``).join(', ')}`);
    const code = `invalid_settings_${snake(key)}`;
    if (v === null) continue;
    if (listSettings.includes(key) && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw typeError(key, 'an array', v, code);
    if (key === 'rankingRules') {
      for (const rule of v as string[]) {
        if (!builtinRules.includes(rule) && !/^[^:\s]+:(asc|desc)$/.test(rule)) {
          throw new ApiError(400, code, `Invalid value at \`.rankingRules[0]\`: \`${rule}\` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.`);
        }
      }
    }
    if (key === 'pagination') {
      const max = (v as Json).maxTotalHits;
      if (typeof v !== 'object' || (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1))) throw typeError('pagination.maxTotalHits', 'a positive integer', max, code);
    }
    if (key === 'typoTolerance') {
      const t = v as Json;
      if (typeof v !== 'object' || (t.enabled !== undefined && typeof t.enabled !== 'boolean')) throw typeError('typoTolerance.enabled', 'a boolean', t.enabled, code);
    }
  }
  return body as Partial<Settings>;
}

function applySettings(index: IndexState, patch: Partial<Settings>) {
  const defaults = defaultSettings();
  for (const [key, v] of Object.entries(patch)) {
    if (v === null) index.settings[key] = defaults[key];
    else if (key === 'typoTolerance' || key === 'pagination' || key === 'faceting') {
      const merged = { ...(index.settings[key] as Json), ...(v as Json) };
      if (key === 'typoTolerance' && (v as Json).minWordSizeForTypos) {
        merged.minWordSizeForTypos = { ...index.settings.typoTolerance.minWordSizeForTypos, ...((v as Json).minWordSizeForTypos as Json) };
      }
      index.settings[key] = merged;
    } else index.settings[key] = v;
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

function search(index: IndexState, body: Json) {
  const started = performance.now();
  for (const key of Object.keys(body)) {
    if (!searchKeys.has(key)) throw new ApiError(400, 'bad_request', `Unknown field \`${key}\`: expected one of ${[...searchKeys].map((k) => `\`${k}\``).join(', ')}`);
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
  if (!['last', 'all', 'frequency'].includes(strategy)) throw new ApiError(400, 'invalid_search_matching_strategy', `Unknown value \`${strategy}\` at \`.matchingStrategy\`: expected one of \`last\`, \`all\`, \`frequency\``);
  if (body.showRankingScore !== undefined && typeof body.showRankingScore !== 'boolean') throw typeError('showRankingScore', 'a boolean', body.showRankingScore, 'invalid_search_show_ranking_score');

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
    if (!m) throw new ApiError(400, 'invalid_search_sort', `Invalid syntax for the sort parameter: expected expression ending by \`:asc\` or \`:desc\`, found \`${s}\`.`);
    if (!settings.sortableAttributes.includes(m[1]!)) {
      throw new ApiError(400, 'invalid_search_sort', `Index \`${index.uid}\`: Attribute \`${m[1]}\` of sort rule \`${s}\` is not sortable. Available sortable attributes are: \`${settings.sortableAttributes.join(', ')}\`.`);
    }
    return { attr: m[1]!, dir: m[2] === 'asc' ? 1 : -1 };
  });

  const typo: TypoSettings = { enabled: settings.typoTolerance.enabled, ...settings.typoTolerance.minWordSizeForTypos };
  const terms: Term[] = parseQuery(q);
  const searchable = settings.searchableAttributes.includes('*') ? index.fieldOrder : settings.searchableAttributes;
  const candidates: Candidate[] = [];
  for (const { internalId, doc } of index.docs.values()) {
    if (filter && !matchFilter(filter, doc)) continue;
    if (terms.length === 0) {
      candidates.push({ internalId, doc, ranked: null });
      continue;
    }
    const matches = findMatches(terms, searchable.map((a) => fieldTokens(doc[a])), typo);
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
  const window = finite ? (pageNo === 0 ? [] : capped.slice((pageNo - 1) * perPage, pageNo * perPage)) : capped.slice(offset, offset + limit);

  const displayed = settings.displayedAttributes.includes('*') ? null : new Set(settings.displayedAttributes);
  const hits = window.map((c) => {
    const visible = Object.keys(c.doc).filter((k) => !displayed || displayed.has(k));
    const retrieved = toRetrieve.includes('*') ? visible : visible.filter((k) => toRetrieve.includes(k));
    const pick = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, c.doc[k]]));
    const hit: Json = pick(retrieved);
    const highlight = new Set(toHighlight.includes('*') ? retrieved : toHighlight.filter((k) => visible.includes(k)));
    const crop = new Map<string, number>();
    for (const entry of toCrop) {
      const [name, len] = entry.split(':');
      for (const k of name === '*' ? retrieved : visible.filter((v) => v === name)) crop.set(k, len ? Number(len) : cropLength);
    }
    if (highlight.size > 0 || crop.size > 0) {
      const formatted: Json = {};
      for (const k of new Set([...retrieved, ...highlight, ...crop.keys()])) {
        const opts: FormatOptions = { highlight: highlight.has(k), crop: crop.get(k) ?? null, pre, post, marker };
        const fmt = (v: unknown): unknown =>
          typeof v === 'string' ? formatValue(v, terms, typo, opts) : Array.isArray(v) ? v.map(fmt) : v;
        formatted[k] = highlight.has(k) || crop.has(k) ? fmt(c.doc[k]) : c.doc[k];
      }
      hit._formatted = formatted;
    }
    if (body.showRankingScore === true) hit._rankingScore = c.ranked ? rankingScore(c.ranked, terms.length, searchable.length) : 1;
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
export async function startMeiliStandin(opts: MeiliStandinOptions = {}): Promise<MeiliStandin> {
  const indexes = new Map<string, IndexState>();
  const tasks: Task[] = [];
  const queue: { task: Task; run: () => Json | undefined }[] = [];
  const requests: { method: string; path: string }[] = [];
  const delay = opts.taskDelayMs ?? 10;
  let failure: StandinFailure | null = null;
  let timer: NodeJS.Timeout | null = null;
  let nextInternalId = 0;

  const indexNotFound = (uid: string) => new ApiError(404, 'index_not_found', `Index \`${uid}\` not found.`);
  const getIndex = (uid: string) => {
    const index = indexes.get(uid);
    if (!index) throw indexNotFound(uid);
    return index;
  };
  const ensureIndex = (uid: string, primaryKey: string | null = null) => {
    let index = indexes.get(uid);
    if (!index) {
      index = { uid, primaryKey, createdAt: now(), updatedAt: now(), docs: new Map(), fieldOrder: [], settings: defaultSettings() };
      indexes.set(uid, index);
    }
    return index;
  };
  const indexView = (i: IndexState) => ({ uid: i.uid, primaryKey: i.primaryKey, createdAt: i.createdAt, updatedAt: i.updatedAt });

  const processNext = () => {
    timer = null;
    const next = queue.shift();
    if (!next) return;
    const { task } = next;
    task.startedAt = now();
    try {
      const details = next.run();
      if (details) task.details = { ...task.details, ...details };
      task.status = 'succeeded';
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(500, 'internal', String(error), 'internal');
      task.status = 'failed';
      task.error = e.toJSON();
    }
    task.finishedAt = now();
    task.duration = `PT${((Date.parse(task.finishedAt) - Date.parse(task.startedAt)) / 1000).toFixed(3)}S`;
    if (queue.length > 0) schedule();
  };
  const schedule = () => {
    timer ??= setTimeout(processNext, delay);
  };
  const enqueue = (indexUid: string | null, type: string, details: Json, run: () => Json | undefined) => {
    const task: Task = { uid: tasks.length, batchUid: tasks.length, indexUid, status: 'enqueued', type, canceledBy: null, details, error: null, duration: null, enqueuedAt: now(), startedAt: null, finishedAt: null };
    tasks.push(task);
    queue.push({ task, run });
    schedule();
    return { status: 202, body: { taskUid: task.uid, indexUid, status: 'enqueued', type, enqueuedAt: task.enqueuedAt } };
  };

  const addDocuments = (uid: string, docs: unknown[], pkParam: string | null) => {
    const index = ensureIndex(uid);
    if (pkParam && index.primaryKey && pkParam !== index.primaryKey) {
      throw new ApiError(400, 'index_primary_key_already_exists', `Index \`${uid}\`: Index already has a primary key: \`${index.primaryKey}\`.`);
    }
    let pk = index.primaryKey ?? pkParam;
    if (!pk) {
      const first = docs.find((d) => d && typeof d === 'object') as Json | undefined;
      const candidates = Object.keys(first ?? {}).filter((k) => k.toLowerCase().endsWith('id'));
      if (candidates.length === 0) throw new ApiError(400, 'index_primary_key_no_candidate_found', `Index \`${uid}\`: The primary key inference failed as the engine did not find any field ending with \`id\` in its name. Please specify the primary key manually using the \`primaryKey\` query parameter.`);
      if (candidates.length > 1) throw new ApiError(400, 'index_primary_key_multiple_candidates_found', `Index \`${uid}\`: The primary key inference failed as the engine found ${candidates.length} fields ending with \`id\` in their names: '${candidates.join("' and '")}'. Please specify the primary key manually using the \`primaryKey\` query parameter.`);
      pk = candidates[0]!;
    }
    const valid: [string, Json][] = [];
    for (const doc of docs) {
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ApiError(400, 'malformed_payload', 'The `json` payload must contain objects.');
      const raw = (doc as Json)[pk];
      if (raw === undefined) throw new ApiError(400, 'missing_document_id', `Document doesn't have a \`${pk}\` attribute: \`${JSON.stringify(doc)}\`.`);
      const id = validId(raw);
      if (id === null) throw new ApiError(400, 'invalid_document_id', `Document identifier \`${JSON.stringify(raw)}\` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.`);
      valid.push([id, doc as Json]);
    }
    index.primaryKey = pk;
    for (const [id, doc] of valid) {
      const existing = index.docs.get(id);
      index.docs.set(id, { internalId: existing?.internalId ?? nextInternalId++, doc });
      for (const k of Object.keys(doc)) if (!index.fieldOrder.includes(k)) index.fieldOrder.push(k);
    }
    index.updatedAt = now();
    return { indexedDocuments: valid.length };
  };

  const checkAuth = (req: IncomingMessage) => {
    if (!opts.masterKey) return;
    const header = req.headers.authorization;
    if (!header) throw new ApiError(401, 'missing_authorization_header', 'The Authorization header is missing. It must use the bearer authorization method.', 'auth');
    const m = /^Bearer (.+)$/.exec(header);
    if (!m || m[1] !== opts.masterKey) throw new ApiError(403, 'invalid_api_key', 'The provided API key is invalid.', 'auth');
  };

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxPayload) throw new ApiError(413, 'payload_too_large', `The provided payload reached the size limit. The maximum accepted payload size is 100 MiB.`);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new ApiError(415, 'invalid_content_type', `The Content-Type \`${req.headers['content-type'] ?? ''}\` is invalid. Accepted values for the Content-Type header are: \`application/json\`, \`application/x-ndjson\`, \`text/csv\``);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ApiError(400, 'malformed_payload', `The json payload provided is malformed. \`${(error as Error).message}\`.`);
    }
  };

  const route = async (req: IncomingMessage, url: URL): Promise<{ status: number; body?: unknown }> => {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (method === 'GET' && url.pathname === '/health') return { status: 200, body: { status: 'available' } };
    checkAuth(req);
    const [root, uid, sub, action] = parts;
    if (root === 'tasks' && uid !== undefined && parts.length === 2 && method === 'GET') {
      const task = tasks[Number(uid)];
      if (!task || !/^\d+$/.test(uid)) throw new ApiError(404, 'task_not_found', `Task \`${uid}\` not found.`);
      return { status: 200, body: task };
    }
    if (root !== 'indexes') throw new ApiError(404, 'not_found', 'Not found.');
    if (uid === undefined) {
      if (method === 'GET') {
        const all = [...indexes.values()].map(indexView);
        return { status: 200, body: { results: all, offset: 0, limit: 20, total: all.length } };
      }
      if (method !== 'POST') throw new ApiError(405, 'method_not_allowed', 'Method not allowed.');
      const body = (await readJson(req)) as Json;
      const newUid = body?.uid;
      if (typeof newUid !== 'string') throw new ApiError(400, 'missing_index_uid', 'Missing field `uid`');
      if (!uidRe.test(newUid)) throw new ApiError(400, 'invalid_index_uid', `\`${newUid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`);
      const primaryKey = typeof body.primaryKey === 'string' ? body.primaryKey : null;
      return enqueue(newUid, 'indexCreation', { primaryKey }, () => {
        if (indexes.has(newUid)) throw new ApiError(409, 'index_already_exists', `Index \`${newUid}\` already exists.`);
        ensureIndex(newUid, primaryKey);
        return undefined;
      });
    }
    if (!uidRe.test(uid)) throw new ApiError(400, 'invalid_index_uid', `\`${uid}\` is not a valid index uid.`);
    if (sub === undefined) {
      if (method === 'GET') return { status: 200, body: indexView(getIndex(uid)) };
      if (method === 'DELETE') {
        return enqueue(uid, 'indexDeletion', { deletedDocuments: 0 }, () => {
          const index = getIndex(uid);
          indexes.delete(uid);
          return { deletedDocuments: index.docs.size };
        });
      }
      throw new ApiError(405, 'method_not_allowed', 'Method not allowed.');
    }
    if (sub === 'documents' && action === undefined) {
      if (method === 'POST' || method === 'PUT') {
        const body = await readJson(req);
        if (!Array.isArray(body)) throw new ApiError(400, 'malformed_payload', 'The `json` payload provided is malformed. `Couldn\'t serialize document value: invalid type: map, expected a sequence`.');
        const pk = url.searchParams.get('primaryKey');
        return enqueue(uid, 'documentAdditionOrUpdate', { receivedDocuments: body.length, indexedDocuments: null }, () => addDocuments(uid, body, pk));
      }
      if (method === 'DELETE') {
        return enqueue(uid, 'documentDeletion', { deletedDocuments: null }, () => {
          const index = getIndex(uid);
          const deletedDocuments = index.docs.size;
          index.docs.clear();
          return { deletedDocuments };
        });
      }
      const index = getIndex(uid);
      const num = (key: string, fallback: number) => {
        const raw = url.searchParams.get(key);
        if (raw === null) return fallback;
        if (!/^\d+$/.test(raw)) throw new ApiError(400, `invalid_document_${key}`, `Invalid value in parameter \`${key}\`: could not parse \`${raw}\` as a positive integer`);
        return Number(raw);
      };
      const offset = num('offset', 0);
      const limit = num('limit', 20);
      const fields = url.searchParams.get('fields')?.split(',').map((f) => f.trim());
      const all = [...index.docs.values()].sort((a, b) => a.internalId - b.internalId);
      const results = all.slice(offset, offset + limit).map(({ doc }) => (!fields || fields.includes('*') ? doc : Object.fromEntries(fields.filter((f) => f in doc).map((f) => [f, doc[f]]))));
      return { status: 200, body: { results, offset, limit, total: all.length } };
    }
    if (sub === 'documents' && action === 'delete-batch' && method === 'POST') {
      const body = await readJson(req);
      if (!Array.isArray(body) || body.some((id) => typeof id !== 'string' && typeof id !== 'number')) {
        throw new ApiError(400, 'invalid_document_ids', 'Invalid value type: expected an array of document ids.');
      }
      return enqueue(uid, 'documentDeletion', { providedIds: body.length, deletedDocuments: null }, () => {
        const index = getIndex(uid);
        let deletedDocuments = 0;
        for (const id of body) if (index.docs.delete(String(id))) deletedDocuments++;
        return { deletedDocuments };
      });
    }
    if (sub === 'settings' && action === undefined) {
      if (method === 'GET') return { status: 200, body: getIndex(uid).settings };
      if (method !== 'PATCH') throw new ApiError(405, 'method_not_allowed', 'Method not allowed.');
      const patch = validateSettings(await readJson(req));
      return enqueue(uid, 'settingsUpdate', { ...patch }, () => {
        applySettings(ensureIndex(uid), patch);
        return undefined;
      });
    }
    if (sub === 'search' && method === 'POST') {
      const body = await readJson(req);
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError(400, 'bad_request', `Invalid value type: expected an object, but found ${describe(body)}`);
      return { status: 200, body: search(getIndex(uid), body as Json) };
    }
    throw new ApiError(404, 'not_found', 'Not found.');
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? 'GET', path: url.pathname });
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    if (failure === 'hang') return;
    if (failure === 'proxy-503') {
      res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body><h1>503 Service Unavailable</h1></body></html>');
      return;
    }
    if (failure === 'internal') {
      send(res, 500, new ApiError(500, 'internal', 'Resource temporarily unavailable (os error 11)', 'internal').toJSON());
      return;
    }
    route(req, url).then(
      (out) => send(res, out.status, out.body),
      (error: unknown) => {
        const e = error instanceof ApiError ? error : new ApiError(500, 'internal', String(error), 'internal');
        send(res, e.status, e.toJSON());
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey: opts.masterKey,
    requests,
    setFailure(mode) {
      failure = mode;
    },
    async stop() {
      if (timer) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
