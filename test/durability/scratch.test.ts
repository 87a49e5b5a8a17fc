import { request } from 'node:http';
import type { Socket } from 'node:net';
import { it } from 'vitest';
import { startTestApp, STAFF_TOKEN } from '../support/app.ts';
import { UPLOAD } from '../support/upload.ts';

it('probe', async () => {
  const t = await startTestApp();
  const sockets: Socket[] = [];
  t.app.server.on('connection', (s) => sockets.push(s));
  const size = 26 * 1024 * 1024;
  const boundary = 'xxBOUNDARYxx';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: UPLOAD, variables: { file: null } })}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const total = head.length + size + tail.length;
  let written = 0;
  const result = await new Promise<any>((resolve) => {
    const req = request(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': total, 'apollo-require-preflight': '1', authorization: `Bearer ${STAFF_TOKEN}` },
    });
    let answeredAt = -1;
    req.on('response', (res) => {
      answeredAt = written;
      console.log('response at written', written, 'server read', sockets.map((s) => s.bytesRead));
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body, answeredAt }));
      res.on('error', (e) => resolve({ err: String(e), answeredAt }));
    });
    req.on('error', (e) => resolve({ err: String(e), written, answeredAt }));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      if (written === 0) { req.write(head); written += head.length; }
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        written += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { req.once('drain', pump); return; }
      }
      req.end(tail);
      written += tail.length;
    };
    pump();
  });
  console.log(result, 'total', total, 'server read', sockets.map((s) => [s.bytesRead, s.destroyed]));
  await new Promise((r) => setTimeout(r, 500));
  console.log('later server read', sockets.map((s) => [s.bytesRead, s.destroyed]));
  await t.stop();
});
