import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'minio';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { UnavailableError } from '../../../src/errors.ts';
import { createDiskStore } from '../../../src/services/storage/disk.store.ts';
import { InvalidObjectKeyError } from '../../../src/services/storage/object-key.ts';
import { createS3Store } from '../../../src/services/storage/s3.store.ts';
import { NotFoundObjectError } from '../../../src/services/storage/storage.ts';
import { startImdsPeer } from '../../support/imds-peer.ts';
import { type S3Peer, startS3Peer } from '../../support/s3-peer.ts';
import { failingStream, objectStoreContract, readAll, streamOf } from './object-store.contract.ts';

const meta = { contentType: 'application/octet-stream' };
const MiB = 1024 * 1024;

const expectUnavailable = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnavailableError);
  expect((err as UnavailableError).code).toBe('SERVICE_UNAVAILABLE');
  expect((err as UnavailableError).extensions.code).toBe('SERVICE_UNAVAILABLE');
};

objectStoreContract('disk', async () => {
  const base = await mkdtemp(join(tmpdir(), 'dossier-disk-'));
  const dir = join(base, 'objects');
  return {
    store: createDiskStore(dir),
    leftovers: () => readdir(join(dir, '.tmp')),
    close: () => rm(base, { recursive: true, force: true }),
  };
});

objectStoreContract('s3', async () => {
  const peer = await startS3Peer();
  return {
    store: createS3Store({ ...peer, bucket: 'dossier-contract' }),
    leftovers: () => peer.pendingUploads('dossier-contract'),
    close: () => peer.stop(),
  };
});

// No static keys: every request is signed with the instance role's credentials from IMDSv2.
objectStoreContract('s3 with the instance role', async () => {
  const peer = await startS3Peer();
  const imds = await startImdsPeer('dossier-host', peer);
  return {
    store: createS3Store({ endpoint: peer.endpoint, bucket: 'dossier-role', metadataEndpoint: imds.url }),
    leftovers: () => peer.pendingUploads('dossier-role'),
    close: async () => {
      // The credentials came from the metadata service, with a session token.
      expect(imds.requests).toEqual(
        expect.arrayContaining([
          'PUT /latest/api/token',
          'GET /latest/meta-data/iam/security-credentials/dossier-host',
        ]),
      );
      await peer.stop();
      await imds.stop();
    },
  };
});

// The versioned path needs a real S3-compatible endpoint with versioning (s3rver has none): set
// S3_CONTRACT_ENDPOINT, S3_CONTRACT_ACCESS_KEY, S3_CONTRACT_SECRET_KEY and S3_CONTRACT_BUCKET to run it.
const real = {
  endpoint: process.env.S3_CONTRACT_ENDPOINT,
  accessKey: process.env.S3_CONTRACT_ACCESS_KEY,
  secretKey: process.env.S3_CONTRACT_SECRET_KEY,
  bucket: process.env.S3_CONTRACT_BUCKET,
};
if (real.endpoint && real.accessKey && real.secretKey && real.bucket) {
  const opts = {
    ...real,
    endpoint: real.endpoint,
    accessKey: real.accessKey,
    secretKey: real.secretKey,
    bucket: real.bucket,
  };
  objectStoreContract('s3 (versioned, real endpoint)', async () => {
    const url = new URL(opts.endpoint);
    const client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      useSSL: url.protocol === 'https:',
      accessKey: opts.accessKey,
      secretKey: opts.secretKey,
      pathStyle: true,
    });
    const store = createS3Store(opts);
    await store.init();
    await client.setBucketVersioning(opts.bucket, { Status: 'Enabled' });
    return {
      store,
      leftovers: async () => [],
      versions: async (prefix) => {
        const found: string[] = [];
        for await (const o of client.listObjects(opts.bucket, prefix, true, { IncludeVersion: true })) {
          found.push(`${(o as { name?: string }).name}@${(o as { versionId?: string }).versionId}`);
        }
        return found;
      },
      close: async () => undefined,
    };
  });
}

describe('disk store', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'dossier-disk-'));
    dir = join(base, 'objects');
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('never writes outside its directory, whatever the key', async () => {
    const store = createDiskStore(dir);
    await store.init();
    for (const bad of ['../escape', 'a/../../escape', '/tmp/escape', '..\\escape', '.tmp/x', '.tmp']) {
      await expect(store.put(bad, streamOf(Buffer.from('x')), meta)).rejects.toBeInstanceOf(
        InvalidObjectKeyError,
      );
    }
    expect(await readdir(base)).toEqual(['objects']);
    expect(await readdir(dir)).toEqual(['.tmp']);
    expect(await readdir(join(dir, '.tmp'))).toEqual([]);
  });

  it('treats a directory as no object', async () => {
    const store = createDiskStore(dir);
    await store.put('folder/inner.txt', streamOf(Buffer.from('x')), meta);
    expect(await store.stat('folder')).toBeNull();
    await expect(store.get('folder')).rejects.toBeInstanceOf(NotFoundObjectError);
    await expect(store.remove('folder')).resolves.toBeUndefined();
    expect(await store.stat('folder/inner.txt')).toEqual({ size: 1 });
  });

  it('init sweeps temp files left by a crashed put, not fresh ones', async () => {
    const store = createDiskStore(dir);
    await store.init();
    const stale = join(dir, '.tmp', 'crashed');
    const fresh = join(dir, '.tmp', 'in-flight');
    await writeFile(stale, 'partial');
    await writeFile(fresh, 'partial');
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    await utimes(stale, dayAgo, dayAgo);
    await store.init();
    expect(await readdir(join(dir, '.tmp'))).toEqual(['in-flight']);
    await rm(fresh);
  });

  it('reports unavailable when its directory is unusable', async () => {
    const gone = join(base, 'gone');
    const store = createDiskStore(gone);
    await store.init();
    await rm(gone, { recursive: true });
    await writeFile(gone, 'a file where the directory was');
    await expectUnavailable(store.health());
    await expectUnavailable(store.put('a.txt', streamOf(Buffer.from('x')), meta));
    await expectUnavailable(store.init());
  });
});

describe('s3 store', () => {
  let peer: S3Peer;
  beforeAll(async () => {
    peer = await startS3Peer();
  });
  afterAll(() => peer?.stop());

  it('creates its bucket on init, and is unhealthy before', async () => {
    const store = createS3Store({ ...peer, bucket: 'fresh-bucket' });
    await expectUnavailable(store.health());
    await store.init();
    await store.health();
    await store.init();
  });

  it('sends a small object in one PUT with its content type', async () => {
    const store = createS3Store({ ...peer, bucket: 'dossier-s3' });
    await store.init();
    const from = peer.requests.length;
    await store.put('docs/small.txt', streamOf(Buffer.from('hello')), { contentType: 'text/plain' });
    expect(peer.requests.slice(from)).toEqual(['PUT /dossier-s3/docs/small.txt']);
    const head = await fetch(`${peer.endpoint}/dossier-s3/docs/small.txt`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/plain');
  });

  it('sends a stream of unknown length as a multipart upload of 8 MiB parts', async () => {
    const store = createS3Store({ ...peer, bucket: 'dossier-s3' });
    await store.init();
    const from = peer.requests.length;
    const data = randomBytes(20 * MiB);
    await store.put('docs/big.bin', streamOf(data), { contentType: 'application/pdf' });
    const sent = peer.requests.slice(from).map((r) => r.replace(/uploadId=[0-9a-f]+/, 'uploadId=ID'));
    expect(sent).toEqual([
      'POST /dossier-s3/docs/big.bin?uploads',
      'PUT /dossier-s3/docs/big.bin?uploadId=ID&partNumber=1',
      'PUT /dossier-s3/docs/big.bin?uploadId=ID&partNumber=2',
      'PUT /dossier-s3/docs/big.bin?uploadId=ID&partNumber=3',
      'POST /dossier-s3/docs/big.bin?uploadId=ID',
    ]);
    expect((await readAll(await store.get('docs/big.bin'))).equals(data)).toBe(true);
    const head = await fetch(`${peer.endpoint}/dossier-s3/docs/big.bin`, { method: 'HEAD' });
    expect(head.headers.get('content-type')).toBe('application/pdf');
  });

  it('aborts the multipart upload when the source fails', async () => {
    const store = createS3Store({ ...peer, bucket: 'dossier-s3' });
    await store.init();
    const from = peer.requests.length;
    const boom = new Error('cut');
    await expect(store.put('docs/cut.bin', failingStream(17 * MiB, boom), meta)).rejects.toBe(boom);
    const sent = peer.requests.slice(from);
    expect(sent.filter((r) => r.startsWith('PUT '))).toHaveLength(2);
    expect(sent.at(-1)).toMatch(/^DELETE \/dossier-s3\/docs\/cut\.bin\?uploadId=[0-9a-f]+$/);
    expect(await peer.pendingUploads('dossier-s3')).toEqual([]);
    expect(await store.stat('docs/cut.bin')).toBeNull();
  });

  it('refuses an endpoint that is not scheme://host:port', () => {
    const base = { accessKey: 'k', secretKey: 's', bucket: 'dossier' };
    expect(() => createS3Store({ ...base, endpoint: 'ftp://127.0.0.1:9000' })).toThrow(/http/);
    expect(() => createS3Store({ ...base, endpoint: 'http://127.0.0.1:9000/prefix' })).toThrow(/only/);
    expect(() => createS3Store({ ...base, endpoint: 'not a url' })).toThrow();
  });

  it('a stopped peer makes every call reject with SERVICE_UNAVAILABLE', async () => {
    const own = await startS3Peer();
    onTestFinished(() => own.stop());
    const store = createS3Store({ ...own, bucket: 'dossier-down' });
    await store.init();
    await store.put('a.txt', streamOf(Buffer.from('x')), meta);
    await own.stop();
    await expectUnavailable(store.health());
    const body = streamOf(randomBytes(1000));
    await expectUnavailable(store.put('b.txt', body, meta));
    expect(body.destroyed).toBe(true);
    await expectUnavailable(store.put('c.bin', streamOf(randomBytes(9 * MiB)), meta));
    await expectUnavailable(store.get('a.txt'));
    await expectUnavailable(store.stat('a.txt'));
    await expectUnavailable(store.remove('a.txt'));
    await expectUnavailable(store.init());
  });

  describe('against an endpoint that accepts connections and never answers', () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    let endpoint: string;
    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      if (!address || typeof address === 'string') throw new Error('no address');
      endpoint = `http://127.0.0.1:${address.port}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('fails health and put after the socket timeout instead of hanging', async () => {
      const store = createS3Store({
        endpoint,
        accessKey: 'k',
        secretKey: 's',
        bucket: 'dossier',
        socketTimeoutMs: 300,
      });
      const started = Date.now();
      await expectUnavailable(store.health());
      await expectUnavailable(store.put('a.txt', streamOf(Buffer.from('x')), meta));
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });
});
