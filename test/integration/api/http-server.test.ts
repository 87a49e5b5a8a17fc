import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { capturedLog, startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { filesUnder } from '../../support/files.ts';
import { scrape, total } from '../../support/metrics.ts';
import { rawUpload } from '../../support/raw-upload.ts';
import { waitFor } from '../../support/wait.ts';

// This file's own temp dir, so that the upload spool (os.tmpdir()) can be looked at alone; restored after
// it (files share a worker process).
const spool = await mkdtemp(join(tmpdir(), 'dossier-spool-'));
vi.stubEnv('TMPDIR', spool);

const { log, lines } = capturedLog();
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ HTTP_CONNECTIONS_PER_ADDRESS: '10', HTTP_HEADERS_TIMEOUT_MS: '2000' }, { log });
});
afterAll(async () => {
  await t.stop();
  vi.unstubAllEnvs();
  await rm(spool, { recursive: true, force: true });
});

/** A slowloris client: a request line, then one header line every 500 ms, never the end of the headers. */
function slowClient(port: number): { socket: Socket; closed: Promise<void> } {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\n');
  const drip = setInterval(() => socket.write(`X-Slow-${Date.now()}: 1\r\n`), 500);
  const closed = new Promise<void>((ok) =>
    socket.once('close', () => {
      clearInterval(drip);
      ok();
    }),
  );
  return { socket, closed };
}

const served = async (localAddress: string) =>
  new Promise<number>((ok, fail) => {
    const socket = connect({
      host: '127.0.0.1',
      port: new URL(t.url).port as unknown as number,
      localAddress,
    });
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
      if (answer.includes('\r\n\r\n')) {
        ok(Number(answer.split(' ')[1]));
        socket.destroy();
      }
    });
    socket.on('error', fail);
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });

describe('the HTTP server', () => {
  it('keeps serving others while a slowloris client holds connections; drops the slow ones', async () => {
    const port = Number(new URL(t.url).port);
    const slow = Array.from({ length: 40 }, () => slowClient(port));
    await new Promise((r) => setTimeout(r, 500));
    const open = () => slow.filter((s) => !s.socket.destroyed && s.socket.readyState === 'open').length;
    expect(open()).toBeLessThanOrEqual(10);
    expect(await served('127.0.0.2')).toBe(200);
    await Promise.race([Promise.all(slow.map((s) => s.closed)), new Promise((r) => setTimeout(r, 6_000))]);
    expect(open()).toBe(0);
    expect(await served('127.0.0.1')).toBe(200);
  });

  it('counts a client that leaves mid-upload as aborted: no row, object, temp file or error log', async () => {
    const r = await rawUpload(t.url, 4 * 1024 * 1024, { abortAfter: 1024 * 1024 });
    expect(r.status).toBe(0);
    const s = await waitFor(
      async () => {
        const samples = await scrape(t.url);
        return total(samples, 'dossier_uploads_refused_total', { reason: 'aborted' }) === 1 && samples;
      },
      10_000,
      'the abort to be counted',
    );
    expect(total(s, 'dossier_graphql_errors_total', { code: 'INTERNAL_SERVER_ERROR' }) ?? 0).toBe(0);
    const rows = await query<{ n: string }>(t.databaseUrl, 'select count(*) as n from documents');
    expect(rows[0]!.n).toBe('0');
    expect(await filesUnder(join(t.dataDir, 'objects'))).toEqual([]);
    const spooled = async () => (await readdir(spool)).filter((f) => f.startsWith('capacitor-'));
    await waitFor(async () => (await spooled()).length === 0, 5_000, 'the spooled upload to be removed');
    expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'request', path: '/graphql', aborted: true }),
    );
  });
});
