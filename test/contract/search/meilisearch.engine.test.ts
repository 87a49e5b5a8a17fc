import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/errors.ts';
import {
  buildFilter,
  createMeilisearchEngine,
  pageFor,
  quoteFilterValue,
} from '../../../src/services/search/meilisearch.engine.ts';
import { type MeiliStandin, type StandinFailure, startMeiliStandin } from '../../support/meili-standin.ts';
import {
  defineSearchEngineContract,
  makeSearchDocument,
  removeEverything,
} from './search-engine.contract.ts';

const masterKey = 'standin-master-key-for-tests';
const realUrl = process.env.MEILI_URL;
const realKey = process.env.MEILI_API_KEY;
const uniqueIndex = (prefix: string) => `${prefix}_${Date.now()}_${randomBytes(4).toString('hex')}`;

defineSearchEngineContract('meilisearch on the stand-in', async () => {
  const standin = await startMeiliStandin({ masterKey });
  const engine = createMeilisearchEngine({ url: standin.url, apiKey: standin.apiKey });
  return { engine, reset: () => removeEverything(engine), teardown: () => standin.stop() };
});

if (realUrl) {
  defineSearchEngineContract('meilisearch on MEILI_URL', async () => {
    const index = uniqueIndex('dossier_contract');
    const engine = createMeilisearchEngine({ url: realUrl, apiKey: realKey, index });
    const teardown = async () => {
      await fetch(`${realUrl}/indexes/${index}`, { method: 'DELETE', headers: authHeaders(realKey) });
    };
    return { engine, reset: () => removeEverything(engine), teardown };
  });
}

function authHeaders(key: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
}

/** A raw HTTP client for one Meilisearch-compatible server, waiting on tasks like the SDK does. */
function peer(url: string, key: string | undefined) {
  const call = async (method: string, path: string, body?: unknown, headers = authHeaders(key)) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const wait = async (taskUid: number) => {
    for (let i = 0; i < 200; i++) {
      const { body } = await call('GET', `/tasks/${taskUid}`);
      if (body.status !== 'enqueued' && body.status !== 'processing') return body;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`task ${taskUid} did not finish`);
  };
  const task = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ taskUid: expect.any(Number), status: 'enqueued' });
    return wait(res.body.taskUid);
  };
  return { call, task };
}

const targets: {
  name: string;
  keyed: boolean;
  start: () => Promise<{ url: string; key: string | undefined; stop(): Promise<void> }>;
}[] = [
  {
    name: 'the stand-in',
    keyed: true,
    start: async () => {
      const s = await startMeiliStandin({ masterKey });
      return { url: s.url, key: s.apiKey, stop: () => s.stop() };
    },
  },
];
if (realUrl)
  targets.push({
    name: 'MEILI_URL',
    keyed: realKey !== undefined,
    start: async () => ({ url: realUrl, key: realKey, stop: async () => {} }),
  });

for (const target of targets) {
  describe(`Meilisearch API as answered by ${target.name}`, () => {
    let server: Awaited<ReturnType<(typeof target)['start']>>;
    let api: ReturnType<typeof peer>;
    const uid = uniqueIndex('conformance');

    beforeAll(async () => {
      server = await target.start();
      api = peer(server.url, server.key);
      const created = await api.task('POST', '/indexes', { uid, primaryKey: 'id' });
      expect(created.status).toBe('succeeded');
      const settings = await api.task('PATCH', `/indexes/${uid}/settings`, {
        filterableAttributes: ['status', 'documentType', 'createdAt'],
        searchableAttributes: ['filename', 'text'],
      });
      expect(settings.status).toBe('succeeded');
      const added = await api.task('POST', `/indexes/${uid}/documents`, [
        {
          id: 'a1',
          filename: 'a.txt',
          text: 'Zanzibar cloves',
          status: 'COMPLETED',
          documentType: 'say "hi" \\ there',
          createdAt: 10,
        },
        {
          id: 'b2',
          filename: 'b.txt',
          text: 'Rotterdam containers',
          status: 'FAILED',
          documentType: 'notes',
          createdAt: 20,
        },
      ]);
      expect(added.status).toBe('succeeded');
    });
    afterAll(async () => {
      await api?.call('DELETE', `/indexes/${uid}`);
      await server?.stop();
    });

    const expectError = (
      res: { status: number; body: Record<string, unknown> },
      status: number,
      code: string,
    ) => {
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({
        code,
        message: expect.any(String),
        type: expect.any(String),
        link: expect.any(String),
      });
    };

    it('serves /health without a key', async () => {
      expect(await api.call('GET', '/health', undefined, {})).toEqual({
        status: 200,
        body: { status: 'available' },
      });
    });

    it.runIf(target.keyed)('rejects a missing key (401) and a wrong key (403)', async () => {
      const missing = await api.call('GET', `/indexes/${uid}`, undefined, {});
      expectError(missing, 401, 'missing_authorization_header');
      expect(missing.body.type).toBe('auth');
      const wrong = await api.call('GET', `/indexes/${uid}`, undefined, authHeaders('not-the-key'));
      expectError(wrong, 403, 'invalid_api_key');
    });

    it('answers index_not_found (404) for a missing index', async () => {
      expectError(
        await api.call('POST', `/indexes/${uniqueIndex('missing')}/search`, { q: 'x' }),
        404,
        'index_not_found',
      );
      expectError(await api.call('GET', `/indexes/${uniqueIndex('missing')}`), 404, 'index_not_found');
    });

    it('rejects a filter on a non-filterable attribute and bad filter syntax', async () => {
      for (const filter of [
        'filename = "a.txt"',
        'status =',
        'status = "open',
        '(status = x',
        'status = x AND',
        'status x',
        'AND = x',
      ]) {
        expectError(
          await api.call('POST', `/indexes/${uid}/search`, { q: '', filter }),
          400,
          'invalid_search_filter',
        );
      }
    });

    it('rejects negative or non-integer paging values', async () => {
      const search = (body: object) => api.call('POST', `/indexes/${uid}/search`, body);
      expectError(await search({ limit: -1 }), 400, 'invalid_search_limit');
      expectError(await search({ offset: -1 }), 400, 'invalid_search_offset');
      expectError(await search({ hitsPerPage: -1 }), 400, 'invalid_search_hits_per_page');
      expectError(await search({ page: 'two' }), 400, 'invalid_search_page');
    });

    it('reads escaped quotes and backslashes in filter values', async () => {
      const res = await api.call('POST', `/indexes/${uid}/search`, {
        q: '',
        filter: `documentType = ${quoteFilterValue('say "hi" \\ there')}`,
      });
      expect(res.body.hits.map((h: { id: string }) => h.id)).toEqual(['a1']);
      const injected = await api.call('POST', `/indexes/${uid}/search`, {
        q: '',
        filter: `documentType = ${quoteFilterValue('x" OR status != "')}`,
      });
      expect(injected.body.hits).toEqual([]);
    });

    it('evaluates AND, OR, NOT, parentheses and number comparisons', async () => {
      const found = async (filter: string | string[]) => {
        const res = await api.call('POST', `/indexes/${uid}/search`, { q: '', filter });
        expect(res.status).toBe(200);
        return res.body.hits.map((h: { id: string }) => h.id).sort();
      };
      expect(await found('createdAt >= 20')).toEqual(['b2']);
      expect(await found('createdAt < 20 OR status = failed')).toEqual(['a1', 'b2']);
      expect(await found('NOT (status = "COMPLETED" AND createdAt > 5)')).toEqual(['b2']);
      expect(await found(['status != FAILED', 'createdAt <= 10'])).toEqual(['a1']);
      expect(await found('status IN [completed, nothing]')).toEqual(['a1']);
    });

    it('pages exhaustively with page/hitsPerPage and reports totals', async () => {
      const res = await api.call('POST', `/indexes/${uid}/search`, { q: '', page: 2, hitsPerPage: 1 });
      expect(res.body).toMatchObject({ page: 2, hitsPerPage: 1, totalHits: 2, totalPages: 2 });
      expect(res.body.hits).toHaveLength(1);
      const estimated = await api.call('POST', `/indexes/${uid}/search`, { q: 'zanzibar', limit: 1 });
      expect(estimated.body).toMatchObject({ limit: 1, offset: 0, estimatedTotalHits: 1 });
    });

    it('fails a task whose documents have an invalid id', async () => {
      const task = await api.task('POST', `/indexes/${uid}/documents`, [{ id: 'not valid!', text: 'x' }]);
      expect(task.status).toBe('failed');
      expect(task.error.code).toBe('invalid_document_id');
    });

    it('cannot infer a primary key from documents with two *id fields', async () => {
      const other = uniqueIndex('inference');
      const task = await api.task('POST', `/indexes/${other}/documents`, [
        { id: 'x1', contactId: 'c1', text: 'x' },
      ]);
      expect(task.status).toBe('failed');
      expect(task.error.code).toBe('index_primary_key_multiple_candidates_found');
      await api.call('DELETE', `/indexes/${other}`);
    });
  });
}

describe('the stand-in only', () => {
  let standin: MeiliStandin;
  beforeAll(async () => {
    standin = await startMeiliStandin({ masterKey, taskDelayMs: 150 });
  });
  afterAll(async () => {
    await standin.stop();
  });

  it('rejects comparisons against values that are not numbers', async () => {
    const api = peer(standin.url, masterKey);
    await api.task('PATCH', '/indexes/cmp/settings', { filterableAttributes: ['createdAt'] });
    const res = await api.call('POST', '/indexes/cmp/search', { filter: 'createdAt >= yesterday' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_search_filter');
  });

  it('keeps a task enqueued until it is processed, and the engine polls it', async () => {
    const engine = createMeilisearchEngine({ url: standin.url, apiKey: masterKey, index: 'polled' });
    await engine.ensureSettings();
    const doc = makeSearchDocument({ text: 'Cormorant roost count.' });
    const before = standin.requests.length;
    const started = performance.now();
    await engine.index([doc]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    const polls = standin.requests
      .slice(before)
      .filter((r) => r.method === 'GET' && r.path.startsWith('/tasks/'));
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(
      (await engine.search({ query: 'cormorant', filter: {}, limit: 5, offset: 0 })).hits.map((h) => h.id),
    ).toEqual([doc.id]);
  });
});

describe('the Meilisearch engine', () => {
  let standin: MeiliStandin;
  beforeAll(async () => {
    standin = await startMeiliStandin({ masterKey });
  });
  afterEach(() => {
    standin.setFailure(null);
  });
  afterAll(async () => {
    await standin.stop();
  });

  it('applies its settings to the index', async () => {
    const engine = createMeilisearchEngine({ url: standin.url, apiKey: masterKey, index: 'configured' });
    await engine.ensureSettings();
    const res = await fetch(`${standin.url}/indexes/configured/settings`, {
      headers: authHeaders(masterKey),
    });
    expect(await res.json()).toMatchObject({
      searchableAttributes: ['filename', 'text', 'keywords', 'contactName'],
      filterableAttributes: ['documentType', 'contactId', 'status', 'language', 'createdAt'],
      sortableAttributes: ['createdAt'],
    });
    const index = await fetch(`${standin.url}/indexes/configured`, { headers: authHeaders(masterKey) });
    expect(await index.json()).toMatchObject({ uid: 'configured', primaryKey: 'id' });
  });

  it('builds filters with every value quoted and escaped', () => {
    expect(quoteFilterValue('plain')).toBe('"plain"');
    expect(quoteFilterValue('a "b" \\ c\\')).toBe('"a \\"b\\" \\\\ c\\\\"');
    expect(
      buildFilter({
        documentType: 'x" OR status != "',
        status: 'COMPLETED',
        createdAfter: new Date(1_700_000_000_000),
        createdBefore: new Date(1_800_000_000_000),
      }),
    ).toBe(
      'documentType = "x\\" OR status != \\"" AND status = "COMPLETED" AND createdAt >= 1700000000000 AND createdAt < 1800000000000',
    );
    expect(buildFilter({})).toBeUndefined();
    expect(() => buildFilter({ createdAfter: new Date('nope') })).toThrow(/Invalid date/);
  });

  it('maps offset/limit onto exhaustive pages', () => {
    expect(pageFor(0, 10)).toEqual({ page: 1, hitsPerPage: 10, skip: 0 });
    expect(pageFor(20, 10)).toEqual({ page: 3, hitsPerPage: 10, skip: 0 });
    expect(pageFor(5, 10)).toEqual({ page: 1, hitsPerPage: 15, skip: 5 });
    expect(pageFor(3, 0)).toEqual({ page: 1, hitsPerPage: 0, skip: 0 });
  });

  it('pages through inventory()', async () => {
    const engine = createMeilisearchEngine({
      url: standin.url,
      apiKey: masterKey,
      index: 'inventory',
      inventoryPageSize: 2,
    });
    await engine.ensureSettings();
    const docs = Array.from({ length: 5 }, (_, i) => makeSearchDocument({ version: i + 1 }));
    await engine.index(docs);
    const before = standin.requests.length;
    expect(await engine.inventory()).toEqual(new Map(docs.map((d) => [d.id, d.version])));
    const pages = standin.requests.slice(before).filter((r) => r.path === '/indexes/inventory/documents');
    expect(pages).toHaveLength(3);
  });

  const expectUnavailable = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).code).toBe('SERVICE_UNAVAILABLE');
  };

  it.each(['reset', 'proxy-503', 'internal'] satisfies StandinFailure[])(
    'throws UnavailableError when the engine fails (%s)',
    async (mode) => {
      const engine = createMeilisearchEngine({
        url: standin.url,
        apiKey: masterKey,
        index: `down_${mode.replace('-', '_')}`,
      });
      await engine.ensureSettings();
      standin.setFailure(mode);
      await expectUnavailable(engine.search({ query: 'x', filter: {}, limit: 5, offset: 0 }));
      await expectUnavailable(engine.index([makeSearchDocument()]));
      await expectUnavailable(engine.remove(['x']));
      await expectUnavailable(engine.inventory());
      await expectUnavailable(engine.health());
      await expectUnavailable(engine.ensureSettings());
    },
  );

  it('throws UnavailableError when the engine does not answer in time', async () => {
    const engine = createMeilisearchEngine({ url: standin.url, apiKey: masterKey, requestTimeoutMs: 200 });
    standin.setFailure('hang');
    await expectUnavailable(engine.health());
    await expectUnavailable(engine.search({ query: 'x', filter: {}, limit: 5, offset: 0 }));
  });

  it('throws UnavailableError when nothing listens', async () => {
    const gone = await startMeiliStandin();
    await gone.stop();
    const engine = createMeilisearchEngine({ url: gone.url });
    await expectUnavailable(engine.health());
    await expectUnavailable(engine.search({ query: 'x', filter: {}, limit: 5, offset: 0 }));
  });

  it('reports a rejected key or a failed task as an ordinary error, not as unavailability', async () => {
    const wrongKey = createMeilisearchEngine({ url: standin.url, apiKey: 'wrong' });
    const keyError = await wrongKey.inventory().catch((e: unknown) => e);
    expect(keyError).toBeInstanceOf(Error);
    expect(keyError).not.toBeInstanceOf(UnavailableError);
    expect(String(keyError)).toMatch(/403/);
    const engine = createMeilisearchEngine({ url: standin.url, apiKey: masterKey, index: 'rejects' });
    await engine.ensureSettings();
    const taskError = await engine
      .index([makeSearchDocument({ id: 'not a valid id!' })])
      .catch((e: unknown) => e);
    expect(taskError).toBeInstanceOf(Error);
    expect(taskError).not.toBeInstanceOf(UnavailableError);
    expect(String(taskError)).toMatch(/invalid_document_id/);
  });
});
