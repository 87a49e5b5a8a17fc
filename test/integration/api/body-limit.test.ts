import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../src/http/body-limit.ts';
import { startTestApp, type TestApp } from '../../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.stop());

/** A JSON POST whose body is `size` bytes of padding around `{ __typename }`, chunked or with a declared length. */
function post(size: number, opts: { chunked?: boolean; declared?: number } = {}) {
  const query = Buffer.from(JSON.stringify({ query: '{ __typename }' }));
  const padding = Buffer.alloc(1024 * 1024, ' ');
  return new Promise<{
    status: number;
    body: { data?: unknown; errors?: { extensions?: { code?: string } }[] };
  }>((resolve, reject) => {
    // A connection of its own: a refused request's connection is closed after the answer.
    const req = request(`${t.url}/graphql`, {
      agent: false,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(opts.chunked ? {} : { 'content-length': opts.declared ?? size }),
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
      });
    });
    // Once answered, the server may close the connection on the rest of the body: that is the point.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    (async () => {
      if (opts.declared !== undefined) return req.end();
      let left = size - query.length;
      req.write(query);
      while (left > 0 && !req.destroyed && !answered) {
        const part = padding.subarray(0, Math.min(padding.length, left));
        left -= part.length;
        if (!req.write(part)) await new Promise((ok) => req.once('drain', ok));
      }
      req.end();
    })().catch(reject);
  });
}

describe('request body limit', () => {
  it('answers a body within the limit, chunked or not', async () => {
    expect((await post(512 * 1024)).body).toEqual({ data: { __typename: 'Query' } });
    expect((await post(512 * 1024, { chunked: true })).body).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a declared Content-Length over the limit at once, with PAYLOAD_TOO_LARGE', async () => {
    const r = await post(0, { declared: MAX_BODY_BYTES + 1 });
    expect(r.status).toBe(413);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a chunked body once it passes the limit', async () => {
    const r = await post(MAX_BODY_BYTES + 1024, { chunked: true });
    expect(r.status).toBe(413);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
