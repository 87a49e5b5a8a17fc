import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sesLocal from 'aws-ses-v2-local';

/** One message as aws-ses-v2-local keeps it (SendRawEmail is parsed with mailparser). */
export interface StoredEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
  attachments: { content: string; contentType: string; filename?: string; size: number }[];
  at: number;
}

export interface SesPeer {
  endpoint: string;
  emails(): Promise<StoredEmail[]>;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts aws-ses-v2-local on 127.0.0.1 and a free port. Its store is per process, not per peer. */
export async function startSesPeer(): Promise<SesPeer> {
  // CommonJS: plain Node ESM hands over module.exports (server on `.default`); vitest unwraps it already.
  const mod = sesLocal as typeof sesLocal | typeof sesLocal.default;
  const start = typeof mod === 'function' ? mod : mod.default;
  const server: Server = await start({ host: '127.0.0.1', port: 0 });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string) => {
    const res = await fetch(`${endpoint}${path}`, { method });
    if (!res.ok) throw new Error(`SES peer ${method} ${path}: HTTP ${res.status}`);
    return res;
  };
  return {
    endpoint,
    emails: async () => ((await (await call('GET', '/store')).json()) as { emails: StoredEmail[] }).emails,
    clear: async () => {
      await call('POST', '/clear-store');
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
