import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { createTestDatabase, query } from '../../support/db.ts';
import { makePdf } from '../../support/extraction-fixtures.ts';
import { filesUnder } from '../../support/files.ts';
import {
  dossierEnv,
  memoryKiB,
  resetPeak,
  type ServerProcess,
  startServerProcess,
  stopProcess,
  tempDir,
  uploadFile,
} from '../../support/processes.ts';
import { rawUpload } from '../../support/raw-upload.ts';
import { type S3Peer, startS3Peer } from '../../support/s3-peer.ts';
import { waitFor } from '../../support/wait.ts';

const MiB = 1024 * 1024;
const LIMIT = 25 * MiB; // the default MAX_UPLOAD_BYTES
const OVER = 26 * MiB;

const documentCount = async (databaseUrl: string) =>
  (await query<{ n: number }>(databaseUrl, 'select count(*)::int as n from documents'))[0]!.n;

describe('a file over the default 25 MiB limit, in-process', () => {
  let t: TestApp;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    t = await startTestApp();
    t.app.server.on('connection', (s: Socket) => sockets.push(s));
  });
  afterAll(() => t.stop());

  it('is refused with PAYLOAD_TOO_LARGE once its size is known, reading little of it and storing nothing', async () => {
    const r = await rawUpload(t.url, OVER);
    expect(r.status).toBe(413);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.sentBeforeAnswer).toBeLessThan(r.total);
    await waitFor(async () => sockets.every((s) => s.destroyed), 5_000, 'the connection to close');
    const read = sockets.reduce((n, s) => n + s.bytesRead, 0);
    console.info(
      `server read ${read} of ${r.total} bytes; client had sent ${r.sentBeforeAnswer} when answered`,
    );
    // The operations, the map, then what was in flight when the client learnt it should stop.
    expect(read).toBeLessThan(r.total / 2);
    expect(await documentCount(t.databaseUrl)).toBe(0);
    expect(await filesUnder(join(t.dataDir, 'objects', 'documents'))).toEqual([]);
  });
});

describe('server memory while uploading, in its own process', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await tempDir('dossier-limit-');
    // No workers: nothing but the upload itself runs in the process.
    server = await startServerProcess(dossierEnv(db.url, dataDir, { WORKERS: '0' }));
  });
  afterAll(async () => {
    await stopProcess(server);
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The peak RSS growth (MiB) of the server while `run` runs. */
  async function peakGrowth(run: () => Promise<void>): Promise<number> {
    const pid = server.child.pid!;
    await resetPeak(pid);
    const before = await memoryKiB(pid);
    await run();
    return ((await memoryKiB(pid)).peak - before.rss) / 1024;
  }

  it('refuses 26 MiB without its memory growing by the file size, and accepts exactly 25 MiB', async () => {
    // Warm-up: the first upload loads code the measured one should not pay for.
    expect((await rawUpload(server.url, 1024)).status).toBe(200);

    let refused: Awaited<ReturnType<typeof rawUpload>> | undefined;
    const growth = await peakGrowth(async () => {
      refused = await rawUpload(server.url, OVER);
    });
    expect(refused!.status).toBe(413);
    expect(refused!.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(refused!.sentBeforeAnswer).toBeLessThan(refused!.total);
    expect(growth).toBeLessThan(16);

    // The limit is inclusive, and Yoga's own whole-body limit (25,000,000 bytes) does not apply on top.
    const accepted = await rawUpload(server.url, LIMIT);
    expect(accepted.body.errors).toBeUndefined();
    expect(accepted.body.data?.uploadDocument).toMatchObject({ size: LIMIT, status: 'PENDING' });
    expect(await documentCount(db.url)).toBe(2);
  }, 60_000);
});

describe('limits with the S3 store', () => {
  const bucket = 'dossier-limits';
  let peer: S3Peer;
  let t: TestApp;
  let s3: Client;
  beforeAll(async () => {
    peer = await startS3Peer();
    t = await startTestApp({
      ...peer.env(bucket),
      // Above one 8 MiB part, so the refused upload has started a multipart upload.
      MAX_UPLOAD_BYTES: String(10 * MiB),
    });
    const { hostname, port } = new URL(peer.endpoint);
    s3 = new Client({
      endPoint: hostname,
      port: Number(port),
      useSSL: false,
      accessKey: peer.accessKey,
      secretKey: peer.secretKey,
      pathStyle: true,
      region: 'us-east-1',
    });
  });
  afterAll(async () => {
    await t.stop();
    await peer.stop();
  });

  const keys = async () => {
    const out: string[] = [];
    for await (const o of s3.listObjectsV2(bucket, '', true)) out.push((o as { name: string }).name);
    return out;
  };

  it('refuses a chunked upload over the limit mid-stream and leaves nothing in the bucket', async () => {
    const r = await rawUpload(t.url, 12 * MiB, { chunked: true });
    expect(r.status).toBe(413);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(peer.requests.some((q) => /^POST \/dossier-limits\/documents\/.+\?uploads/.test(q))).toBe(true);
    expect(peer.requests.some((q) => /^DELETE \/dossier-limits\/documents\/.+\?uploadId=/.test(q))).toBe(
      true,
    );
    expect(await keys()).toEqual([]);
    expect(await peer.pendingUploads(bucket)).toEqual([]);
    expect(await documentCount(t.databaseUrl)).toBe(0);
  });

  it('refuses a declared-too-large upload before it reaches the bucket', async () => {
    const before = peer.requests.length;
    const r = await rawUpload(t.url, 11 * MiB);
    expect(r.status).toBe(413);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(peer.requests.slice(before).filter((q) => q.includes('/documents/'))).toEqual([]);
    expect(await keys()).toEqual([]);
  });

  it('stores a normal upload in the bucket and extracts it from there', async () => {
    const pdf = await makePdf(['Cloves from Zanzibar.', 'Nutmeg from Grenada.']);
    const { id } = await uploadFile(t.url, 'spices.pdf', pdf);
    const doc = await waitFor(
      async () => {
        const res = await t.staff<{ document: { status: string; insights: { pageCount: number } | null } }>(
          'query($id: ID!) { document(id: $id) { status insights { pageCount } } }',
          { id },
        );
        return res.data?.document.status === 'COMPLETED' ? res.data.document : null;
      },
      20_000,
      'extraction from S3',
    );
    expect(doc.insights).toEqual({ pageCount: 2 });
    expect(await keys()).toEqual([`documents/unassigned/${id}/spices.pdf`]);
    expect((await s3.statObject(bucket, `documents/unassigned/${id}/spices.pdf`)).size).toBe(pdf.length);
  });
});
