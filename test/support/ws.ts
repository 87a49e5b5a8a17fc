import WebSocket from 'ws';

/** A raw graphql-transport-ws socket to `${url}/graphql`, once open. */
export async function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  await new Promise((ok, fail) => {
    ws.once('open', ok);
    ws.once('error', fail);
  });
  return ws;
}

/** The close code the server sends within `ms`, or 'open' when the socket is still open then. */
export function closeCode(ws: WebSocket, ms = 5_000): Promise<number | 'open'> {
  return new Promise((ok) => {
    const timer = setTimeout(() => ok('open'), ms);
    ws.once('close', (code) => {
      clearTimeout(timer);
      ok(code);
    });
  });
}

/** The next protocol message the server sends. */
export const nextMessage = (ws: WebSocket): Promise<{ type: string; id?: string; payload?: unknown }> =>
  new Promise((ok) => ws.once('message', (data) => ok(JSON.parse(String(data)))));
