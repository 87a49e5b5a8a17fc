import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Peer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Where s3rver keeps buckets, objects and their metadata on disk. */
  directory: string;
  /** `METHOD /path?query` of every request received, oldest first. */
  requests: string[];
  /** Keys of multipart uploads started in `bucket` and neither completed nor aborted. */
  pendingUploads(bucket: string): Promise<string[]>;
  /** The S3_* variables that point Dossier at this peer and `bucket`. */
  env(bucket: string): Record<'S3_ENDPOINT' | 'S3_ACCESS_KEY' | 'S3_SECRET_KEY' | 'S3_BUCKET', string>;
  stop(): Promise<void>;
}

const xmlEscape = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`);

/**
 * Starts s3rver on 127.0.0.1 and a free port, in its own temp dir. s3rver lacks ListMultipartUploads
 * and AbortMultipartUpload, so a request hook answers those two from s3rver's own upload directories;
 * it also answers DeleteObjects (see deleteMany).
 */
export async function startS3Peer(): Promise<S3Peer> {
  const directory = await mkdtemp(join(tmpdir(), 'dossier-s3-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const { port } = await s3rver.run();
  const server = s3rver.httpServer;
  const requests: string[] = [];
  const uploadsDir = (bucket: string) => s3rver.store.getResourcePath(bucket, undefined, 'uploads');

  const pending = async (bucket: string, prefix = '') => {
    const ids = await readdir(uploadsDir(bucket)).catch(() => [] as string[]);
    const uploads = await Promise.all(
      ids.map(async (id) => ({ id, key: await readFile(join(uploadsDir(bucket), id, 'key'), 'utf8') })),
    );
    return uploads.filter((u) => u.key.startsWith(prefix));
  };

  const listUploads = async (bucket: string, url: URL, res: ServerResponse) => {
    const uploads = await pending(bucket, url.searchParams.get('prefix') ?? '');
    const entries = uploads
      .map((u) => `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.id}</UploadId></Upload>`)
      .join('');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?>' +
        '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlEscape(bucket)}</Bucket><IsTruncated>false</IsTruncated>${entries}` +
        '</ListMultipartUploadsResult>',
    );
  };

  const abortUpload = async (bucket: string, uploadId: string, res: ServerResponse) => {
    // The id is echoed into a path: accept only what s3rver generates (hex).
    if (!/^[0-9a-f]+$/.test(uploadId)) {
      res.writeHead(404).end();
      return;
    }
    await rm(join(uploadsDir(bucket), uploadId), { recursive: true, force: true });
    res.writeHead(204).end();
  };

  // s3rver deletes a batch's keys in parallel, and each then removes its emptied folders: two keys in
  // one folder race and the request fails with a 500. Delete them one at a time instead.
  const deleteMany = async (bucket: string, req: IncomingMessage, res: ServerResponse) => {
    let xml = '';
    for await (const chunk of req) xml += chunk;
    const xmlUnescape = (v: string) =>
      v.replace(
        /&(lt|gt|amp|apos|quot);/g,
        (_, e: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[e]!,
      );
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => xmlUnescape(m[1]!));
    for (const key of keys) await s3rver.store.deleteObject(bucket, key);
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>',
    );
  };

  const [s3rverHandler] = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://peer');
    const [, bucket = '', ...key] = url.pathname.split('/');
    const uploadId = url.searchParams.get('uploadId');
    let hooked: Promise<void> | undefined;
    if (req.method === 'GET' && key.length === 0 && url.searchParams.has('uploads')) {
      hooked = listUploads(decodeURIComponent(bucket), url, res);
    } else if (req.method === 'DELETE' && key.length > 0 && uploadId) {
      hooked = abortUpload(decodeURIComponent(bucket), uploadId, res);
    }
    if (req.method === 'POST' && key.length === 0 && url.searchParams.has('delete')) {
      deleteMany(decodeURIComponent(bucket), req, res).catch((err: unknown) =>
        res.writeHead(500).end(String(err)),
      );
      return;
    }
    if (!hooked) return s3rverHandler(req, res);
    req.resume();
    hooked.catch((err: unknown) => res.writeHead(500).end(String(err)));
  });

  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    env: (bucket) => ({
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY: 'S3RVER',
      S3_SECRET_KEY: 'S3RVER',
      S3_BUCKET: bucket,
    }),
    directory,
    requests,
    pendingUploads: async (bucket) => (await pending(bucket)).map((u) => u.key),
    stop: async () => {
      if (server.listening) {
        const closed = s3rver.close();
        server.closeAllConnections();
        await closed;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
