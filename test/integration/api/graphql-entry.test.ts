import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GqlError, startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { filesUnder } from '../../support/files.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';

// Room for 2,000 small fields, so that only a field cap can refuse them.
const LIMIT = 1024 * 1024;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ MAX_UPLOAD_BYTES: String(LIMIT) });
});
afterAll(() => t.stop());

const documents = async () =>
  Number((await query<{ n: string }>(t.databaseUrl, 'select count(*) as n from documents'))[0]!.n);
const storedObjects = async () => (await filesUnder(`${t.dataDir}/objects`)).length;
const upload = (content: string, opts: Parameters<typeof multipart>[4] = {}) =>
  multipart<{ uploadDocument: { id: string } }>(
    t.url,
    UPLOAD,
    { file: null },
    [{ path: 'variables.file', name: 'notes.txt', content }],
    { staff: true, ...opts },
  );

describe('every spelling of /graphql', () => {
  it('goes through the same upload handling: CSRF header, file limit', async () => {
    for (const path of ['/graphql/', '//graphql', '/graphql?x=1', '/graphql//']) {
      const bare = await upload('hello', { path, csrf: false });
      expect([path, bare.status, bare.errors?.[0]?.extensions?.code]).toEqual([path, 403, 'FORBIDDEN']);
      const big = await upload('x'.repeat(LIMIT + 1), { path });
      expect([path, big.status, big.errors?.[0]?.extensions?.code]).toEqual([path, 413, 'PAYLOAD_TOO_LARGE']);
    }
    expect(await documents()).toBe(0);
    const ok = await upload('hello world', { path: '/graphql/' });
    expect(ok.data?.uploadDocument.id).toBeTruthy();
  });

  it('a path that only ends in /graphql is not GraphQL', async () => {
    for (const path of ['/x/graphql', '/status?q=/graphql', '/GRAPHQL']) {
      const res = await fetch(`${t.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect([path, res.status]).toEqual([path, 404]);
      await res.text();
    }
  });
});

describe('JSON bodies', () => {
  const big = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } });

  it('over 1 MiB are refused with PAYLOAD_TOO_LARGE, with or without a Content-Length', async () => {
    const sized = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(sized.status).toBe(413);
    expect(((await sized.json()) as { errors: GqlError[] }).errors[0]!.extensions?.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    const chunked = await new Promise<number>((ok, fail) => {
      const req = request(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      });
      req.on('error', fail);
      for (let i = 0; i < big.length; i += 64 * 1024) req.write(big.slice(i, i + 64 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('under the limit still work', async () => {
    const r = await t.gql('query($pad: String!) { __type(name: $pad) { name } }', {
      pad: 'x'.repeat(512 * 1024),
    });
    expect(r.data).toEqual({ __type: null });
  });
});

describe('small things an attacker tries', () => {
  it('an empty file is BAD_USER_INPUT and nothing is written', async () => {
    const [rows, objects] = [await documents(), await storedObjects()];
    const r = await upload('');
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.issues?.[0]?.path).toEqual(['file']);
    expect([await documents(), await storedObjects()]).toEqual([rows, objects]);
  });

  it('a multipart body with 2,000 extra fields is refused', async () => {
    const rows = await documents();
    const r = await upload('hello', { extraFields: 2000 });
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await documents()).toBe(rows);
  });

  it('searchDocuments beyond offset 10,000 is BAD_USER_INPUT', async () => {
    const search = (offset: number) =>
      t.staff(`{ searchDocuments(query: "hello", offset: ${offset}) { totalHits } }`);
    const r = await search(1_000_000_000);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.issues?.map((i) => i.path)).toEqual([['offset']]);
    expect((await search(10_000)).errors).toBeUndefined();
  });
});
