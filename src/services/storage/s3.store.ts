import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { Client, type ClientOptions, S3Error } from 'minio';
import { UnavailableError } from '../../errors.ts';
import { InstanceRoleCredentials } from './instance-role.ts';
import { assertObjectKey, assertObjectPrefix, InvalidObjectKeyError } from './object-key.ts';
import { type ByteRange, NotFoundObjectError, type ObjectStore } from './storage.ts';

export interface S3StoreOptions {
  /** e.g. `http://127.0.0.1:9000`; scheme, host and port only. */
  endpoint: string;
  /** Static keys; without them, the instance role's temporary credentials (IMDSv2) sign requests. */
  accessKey?: string;
  secretKey?: string;
  /** The instance metadata service (default http://169.254.169.254), for the instance role. */
  metadataEndpoint?: string;
  bucket: string;
  region?: string;
  /** A socket silent this long fails its request (default 30 s), so a blackholed endpoint cannot hang a put. */
  socketTimeoutMs?: number;
}

// S3's minimum part size is 5 MiB; 8 MiB keeps a 25 MiB upload to 4 parts and memory to one part per put.
const PART_SIZE = 8 * 1024 * 1024;
const HEALTH_TIMEOUT_MS = 5_000;
// What an S3-compatible endpoint that does not implement ListObjectVersions answers.
const NO_VERSIONS = new Set(['MethodNotAllowed', 'NotImplemented']);

const isMissing = (err: unknown) =>
  err instanceof S3Error && (err.code === 'NoSuchKey' || err.code === 'NotFound');

// Everything the backend answers (refused, reset, timed out, 5xx, denied) means storage is unusable now.
const storeError = (err: unknown) =>
  err instanceof InvalidObjectKeyError ? err : new UnavailableError('object storage', err);

function connection(endpoint: string) {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`S3 endpoint must be http(s): ${endpoint}`);
  if (url.pathname !== '/' || url.search || url.username) {
    throw new Error(`S3 endpoint must be scheme://host[:port] only: ${endpoint}`);
  }
  return {
    endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : undefined,
    useSSL: url.protocol === 'https:',
  };
}

/** A keep-alive agent whose sockets are destroyed after `ms` of silence, failing the request they carry. */
function silenceBoundedAgent(ssl: boolean, ms: number): HttpAgent {
  const agent = ssl
    ? new HttpsAgent({ keepAlive: true, timeout: ms })
    : new HttpAgent({ keepAlive: true, timeout: ms });
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const socket = create(options, callback);
    socket?.on('timeout', () => {
      socket.destroy(
        Object.assign(new Error(`no answer from object storage in ${ms} ms`), { code: 'ETIMEDOUT' }),
      );
    });
    return socket;
  };
  return agent;
}

/** Cuts a byte stream into parts of at least `size` bytes; the last (possibly empty) part is shorter. */
async function* cutParts(body: Readable, size: number): AsyncGenerator<Buffer> {
  let chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buffer);
    length += buffer.length;
    if (length >= size) {
      yield Buffer.concat(chunks, length);
      chunks = [];
      length = 0;
    }
  }
  yield Buffer.concat(chunks, length);
}

/** Objects in one S3 bucket (path-style). Streams of unknown length go up as multipart, one part in memory. */
export function createS3Store(opts: S3StoreOptions): ObjectStore {
  const { endPoint, port, useSSL } = connection(opts.endpoint);
  const region = opts.region ?? 'us-east-1';
  const { bucket } = opts;
  const client = new Client({
    endPoint,
    port,
    useSSL,
    ...(opts.accessKey && opts.secretKey
      ? { accessKey: opts.accessKey, secretKey: opts.secretKey }
      : {
          // The same class as minio's ESM build; its typings name the CommonJS build's declaration.
          credentialsProvider: new InstanceRoleCredentials(
            opts.metadataEndpoint,
          ) as unknown as ClientOptions['credentialsProvider'],
        }),
    // A known region spares a GetBucketLocation round trip before each call.
    region,
    pathStyle: true,
    // Retries belong to the caller (jobs, the client); the SDK's own retry also logs to the console.
    retryOptions: { disableRetry: true },
    transportAgent: silenceBoundedAgent(useSSL, opts.socketTimeoutMs ?? 30_000),
  });

  const upload = async (key: string, body: Readable, headers: Record<string, string>) => {
    const etags: { part: number; etag: string }[] = [];
    let uploadId: string | undefined;
    try {
      for await (const part of cutParts(body, PART_SIZE)) {
        if (uploadId === undefined && part.length < PART_SIZE) {
          await client.putObject(bucket, key, part, part.length, headers);
          return;
        }
        if (part.length === 0) break;
        uploadId ??= await client.initiateNewMultipartUpload(bucket, key, headers);
        const partNumber = etags.length + 1;
        const md5 = createHash('md5').update(part).digest('base64');
        const { etag } = await client.uploadPart(
          {
            bucketName: bucket,
            objectName: key,
            uploadID: uploadId,
            partNumber,
            headers: { 'Content-MD5': md5 },
          },
          part,
        );
        etags.push({ part: partNumber, etag });
      }
      if (uploadId !== undefined) await client.completeMultipartUpload(bucket, key, uploadId, etags);
    } catch (err) {
      // Best effort: a bucket lifecycle rule (AbortIncompleteMultipartUpload) sweeps what this misses.
      if (uploadId !== undefined) await client.abortMultipartUpload(bucket, key, uploadId).catch(() => {});
      throw err;
    }
  };

  const listEntries = async (prefix: string, versions: boolean) => {
    const entries: { name: string; versionId?: string }[] = [];
    for await (const item of client.listObjects(bucket, prefix, true, { IncludeVersion: versions })) {
      const { name, versionId } = item as { name?: string; versionId?: string | null };
      if (name) entries.push(versionId ? { name, versionId } : { name });
    }
    return entries;
  };

  return {
    kind: 's3',

    async init() {
      try {
        if (await client.bucketExists(bucket)) return;
        await client.makeBucket(bucket, region);
      } catch (err) {
        // Another process may have created it between the two calls.
        if (err instanceof S3Error && err.code === 'BucketAlreadyOwnedByYou') return;
        throw storeError(err);
      }
    },

    async put(key: string, body: Readable, meta: { contentType: string }) {
      let sourceError: unknown;
      const onSourceError = (err: unknown) => {
        sourceError ??= err;
      };
      body.on('error', onSourceError);
      try {
        assertObjectKey(key);
        await upload(key, body, { 'Content-Type': meta.contentType });
      } catch (err) {
        body.destroy();
        // The caller's stream failing (client gone, size limit) is its error, not storage's.
        throw sourceError ?? storeError(err);
      } finally {
        body.off('error', onSourceError);
      }
    },

    async get(key: string, range?: ByteRange) {
      assertObjectKey(key);
      try {
        return range
          ? await client.getPartialObject(bucket, key, range.start, range.end - range.start + 1)
          : await client.getObject(bucket, key);
      } catch (err) {
        if (isMissing(err)) throw new NotFoundObjectError(key);
        throw storeError(err);
      }
    },

    async presignGet(key, ttlSeconds, response) {
      assertObjectKey(key);
      try {
        // Signed locally: the region is known, so no request reaches the backend.
        return await client.presignedGetObject(bucket, key, ttlSeconds, {
          'response-content-type': response.contentType,
          'response-content-disposition': response.contentDisposition,
        });
      } catch (err) {
        throw storeError(err);
      }
    },

    async stat(key: string) {
      assertObjectKey(key);
      try {
        const { size } = await client.statObject(bucket, key);
        return { size };
      } catch (err) {
        if (isMissing(err)) return null;
        throw storeError(err);
      }
    },

    async remove(key: string) {
      assertObjectKey(key);
      try {
        await client.removeObject(bucket, key);
      } catch (err) {
        if (!isMissing(err)) throw storeError(err);
      }
    },

    async *list() {
      try {
        for await (const item of client.listObjectsV2(bucket, '', true) as AsyncIterable<{ name?: string }>) {
          if (item.name) yield item.name;
        }
      } catch (err) {
        throw storeError(err);
      }
    },

    async removePrefix(prefix: string) {
      assertObjectPrefix(prefix);
      try {
        // ListObjectVersions (IncludeVersion): every version and delete marker, each removed by its
        // versionId. An unversioned bucket answers with versionId "null", which S3 accepts as well.
        const entries = await listEntries(prefix, true).catch((err: unknown) => {
          // An endpoint without versioning at all (s3rver, some gateways) has one version per key.
          if (err instanceof S3Error && NO_VERSIONS.has(err.code ?? '')) return listEntries(prefix, false);
          throw err;
        });
        // DeleteObjects, 1000 entries per request (the SDK batches).
        // Plain names when unversioned: the SDK would otherwise send an empty <VersionId/>.
        const list = entries.every((e) => e.versionId) ? entries : entries.map((e) => e.name);
        const results = entries.length ? await client.removeObjects(bucket, list) : [];
        // The SDK's type says `{ Error }`; its parser answers the Error elements themselves: accept both.
        for (const r of results) {
          const e = (r && 'Error' in r ? r.Error : r) as { Code?: string } | null | undefined;
          if (e?.Code && e.Code !== 'NoSuchKey' && e.Code !== 'NoSuchVersion') {
            throw new Error(`S3 DeleteObjects refused an entry: ${e.Code}`);
          }
        }
        return entries.length;
      } catch (err) {
        throw storeError(err);
      }
    },

    async health() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer in ${HEALTH_TIMEOUT_MS} ms`)),
          HEALTH_TIMEOUT_MS,
        );
      });
      try {
        const exists = await Promise.race([client.bucketExists(bucket), timeout]);
        if (!exists) throw new Error(`bucket ${bucket} does not exist`);
      } catch (err) {
        throw storeError(err);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
