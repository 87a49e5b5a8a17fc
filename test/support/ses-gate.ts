import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A switch in front of the SES peer, on a fixed loopback port: passes requests through, answers as
 * SES does when it rejects a message (the emulator cannot), or stops listening (connection refused).
 */
export interface SesGate {
  endpoint: string;
  /** true: every request gets SES's 400 MessageRejected answer. */
  rejectAll(on: boolean): void;
  /** Rejects (as rejectAll does) only the messages whose raw MIME text contains `text`; null: none. */
  rejectContaining(text: string | null): void;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

const rejection =
  '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>' +
  '<Code>MessageRejected</Code><Message>Email address is not verified.</Message></Error>' +
  '<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>';

export async function startSesGate(target: string): Promise<SesGate> {
  let reject = false;
  let rejectText: string | null = null;
  // SendRawEmail is a form post: the message is base64 in RawMessage.Data.
  const rawMessage = (body: Buffer) =>
    Buffer.from(new URLSearchParams(body.toString()).get('RawMessage.Data') ?? '', 'base64').toString();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (reject || (rejectText !== null && rawMessage(body).includes(rejectText))) {
      res.writeHead(400, { 'content-type': 'text/xml' }).end(rejection);
      return;
    }
    const upstream = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Kept-alive sockets would otherwise keep the "stopped" endpoint answering.
      server.closeAllConnections();
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  let listening = true;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    rejectAll: (on) => {
      reject = on;
    },
    rejectContaining: (text) => {
      rejectText = text;
    },
    down: async () => {
      if (listening) await close();
      listening = false;
    },
    up: async () => {
      if (!listening) await listen(port);
      listening = true;
    },
    stop: async () => {
      if (listening) await close();
      listening = false;
    },
  };
}
