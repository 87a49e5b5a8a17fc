import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiError,
  applySettings,
  defaultSettings,
  describeValue,
  type IndexState,
  type Json,
  searchIndex,
  validateSettings,
} from './meili-standin-index.ts';

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

const uidRe = /^[A-Za-z0-9_-]{1,400}$/;
const docIdRe = /^[A-Za-z0-9_-]{1,511}$/;
const maxPayload = 100 * 1024 * 1024;
const now = () => new Date().toISOString();

function validId(id: unknown): string | null {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  return typeof id === 'string' && docIdRe.test(id) ? id : null;
}

/** Starts the stand-in on 127.0.0.1 and a free port; stop() closes it and every connection. */
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
      index = {
        uid,
        primaryKey,
        createdAt: now(),
        updatedAt: now(),
        docs: new Map(),
        fieldOrder: [],
        settings: defaultSettings(),
      };
      indexes.set(uid, index);
    }
    return index;
  };
  const indexView = (i: IndexState) => ({
    uid: i.uid,
    primaryKey: i.primaryKey,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  });

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
    const task: Task = {
      uid: tasks.length,
      batchUid: tasks.length,
      indexUid,
      status: 'enqueued',
      type,
      canceledBy: null,
      details,
      error: null,
      duration: null,
      enqueuedAt: now(),
      startedAt: null,
      finishedAt: null,
    };
    tasks.push(task);
    queue.push({ task, run });
    schedule();
    return {
      status: 202,
      body: { taskUid: task.uid, indexUid, status: 'enqueued', type, enqueuedAt: task.enqueuedAt },
    };
  };

  const addDocuments = (uid: string, docs: unknown[], pkParam: string | null) => {
    const index = ensureIndex(uid);
    if (pkParam && index.primaryKey && pkParam !== index.primaryKey) {
      throw new ApiError(
        400,
        'index_primary_key_already_exists',
        `Index \`${uid}\`: Index already has a primary key: \`${index.primaryKey}\`.`,
      );
    }
    let pk = index.primaryKey ?? pkParam;
    if (!pk) {
      const first = docs.find((d) => d && typeof d === 'object') as Json | undefined;
      const candidates = Object.keys(first ?? {}).filter((k) => k.toLowerCase().endsWith('id'));
      if (candidates.length === 0)
        throw new ApiError(
          400,
          'index_primary_key_no_candidate_found',
          `Index \`${uid}\`: The primary key inference failed as the engine did not find any field ending with \`id\` in its name. Please specify the primary key manually using the \`primaryKey\` query parameter.`,
        );
      if (candidates.length > 1)
        throw new ApiError(
          400,
          'index_primary_key_multiple_candidates_found',
          `Index \`${uid}\`: The primary key inference failed as the engine found ${candidates.length} fields ending with \`id\` in their names: '${candidates.join("' and '")}'. Please specify the primary key manually using the \`primaryKey\` query parameter.`,
        );
      pk = candidates[0]!;
    }
    const valid: [string, Json][] = [];
    for (const doc of docs) {
      if (!doc || typeof doc !== 'object' || Array.isArray(doc))
        throw new ApiError(400, 'malformed_payload', 'The `json` payload must contain objects.');
      const raw = (doc as Json)[pk];
      if (raw === undefined)
        throw new ApiError(
          400,
          'missing_document_id',
          `Document doesn't have a \`${pk}\` attribute: \`${JSON.stringify(doc)}\`.`,
        );
      const id = validId(raw);
      if (id === null)
        throw new ApiError(
          400,
          'invalid_document_id',
          `Document identifier \`${JSON.stringify(raw)}\` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.`,
        );
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
    if (!header)
      throw new ApiError(
        401,
        'missing_authorization_header',
        'The Authorization header is missing. It must use the bearer authorization method.',
        'auth',
      );
    const m = /^Bearer (.+)$/.exec(header);
    if (!m || m[1] !== opts.masterKey)
      throw new ApiError(403, 'invalid_api_key', 'The provided API key is invalid.', 'auth');
  };

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxPayload)
        throw new ApiError(
          413,
          'payload_too_large',
          `The provided payload reached the size limit. The maximum accepted payload size is 100 MiB.`,
        );
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new ApiError(
        415,
        'invalid_content_type',
        `The Content-Type \`${req.headers['content-type'] ?? ''}\` is invalid. Accepted values for the Content-Type header are: \`application/json\`, \`application/x-ndjson\`, \`text/csv\``,
      );
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ApiError(
        400,
        'malformed_payload',
        `The json payload provided is malformed. \`${(error as Error).message}\`.`,
      );
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
      if (!task || !/^\d+$/.test(uid))
        throw new ApiError(404, 'task_not_found', `Task \`${uid}\` not found.`);
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
      if (!uidRe.test(newUid))
        throw new ApiError(
          400,
          'invalid_index_uid',
          `\`${newUid}\` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.`,
        );
      const primaryKey = typeof body.primaryKey === 'string' ? body.primaryKey : null;
      return enqueue(newUid, 'indexCreation', { primaryKey }, () => {
        if (indexes.has(newUid))
          throw new ApiError(409, 'index_already_exists', `Index \`${newUid}\` already exists.`);
        ensureIndex(newUid, primaryKey);
        return undefined;
      });
    }
    if (!uidRe.test(uid))
      throw new ApiError(400, 'invalid_index_uid', `\`${uid}\` is not a valid index uid.`);
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
        if (!Array.isArray(body))
          throw new ApiError(
            400,
            'malformed_payload',
            "The `json` payload provided is malformed. `Couldn't serialize document value: invalid type: map, expected a sequence`.",
          );
        const pk = url.searchParams.get('primaryKey');
        return enqueue(
          uid,
          'documentAdditionOrUpdate',
          { receivedDocuments: body.length, indexedDocuments: null },
          () => addDocuments(uid, body, pk),
        );
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
        if (!/^\d+$/.test(raw))
          throw new ApiError(
            400,
            `invalid_document_${key}`,
            `Invalid value in parameter \`${key}\`: could not parse \`${raw}\` as a positive integer`,
          );
        return Number(raw);
      };
      const offset = num('offset', 0);
      const limit = num('limit', 20);
      const fields = url.searchParams
        .get('fields')
        ?.split(',')
        .map((f) => f.trim());
      const all = [...index.docs.values()].sort((a, b) => a.internalId - b.internalId);
      const results = all
        .slice(offset, offset + limit)
        .map(({ doc }) =>
          !fields || fields.includes('*')
            ? doc
            : Object.fromEntries(fields.filter((f) => f in doc).map((f) => [f, doc[f]])),
        );
      return { status: 200, body: { results, offset, limit, total: all.length } };
    }
    if (sub === 'documents' && action === 'delete-batch' && method === 'POST') {
      const body = await readJson(req);
      if (!Array.isArray(body) || body.some((id) => typeof id !== 'string' && typeof id !== 'number')) {
        throw new ApiError(
          400,
          'invalid_document_ids',
          'Invalid value type: expected an array of document ids.',
        );
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
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw new ApiError(
          400,
          'bad_request',
          `Invalid value type: expected an object, but found ${describeValue(body)}`,
        );
      return { status: 200, body: searchIndex(getIndex(uid), body as Json) };
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
      res
        .writeHead(503, { 'content-type': 'text/html' })
        .end('<html><body><h1>503 Service Unavailable</h1></body></html>');
      return;
    }
    if (failure === 'internal') {
      send(
        res,
        500,
        new ApiError(500, 'internal', 'Resource temporarily unavailable (os error 11)', 'internal').toJSON(),
      );
      return;
    }
    route(req, url).then(
      (out) => send(res, out.status, out.body),
      (error: unknown) => {
        const e =
          error instanceof ApiError ? error : new ApiError(500, 'internal', String(error), 'internal');
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
