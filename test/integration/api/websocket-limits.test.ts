import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { capturedLog, STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { closeCode, nextMessage, openSocket } from '../../support/ws.ts';

const { log, lines } = capturedLog();

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ WS_CONNECTIONS_PER_ADDRESS: '3' }, { log });
});
afterAll(() => t.stop());

const init = (authorization?: string) =>
  JSON.stringify({ type: 'connection_init', payload: authorization ? { authorization } : {} });

describe('WebSocket edge', () => {
  it('closes a socket that sends a 1 MB frame with 1009, before any auth', async () => {
    const ws = await openSocket(t.url);
    const closed = closeCode(ws);
    ws.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(1024 * 1024) } }));
    expect(await closed).toBe(1009);
  });

  it('refuses connection_init without a valid staff credential with 4403', async () => {
    for (const authorization of [undefined, 'Bearer not-the-staff-token-at-all']) {
      const ws = await openSocket(t.url);
      const closed = closeCode(ws);
      ws.send(init(authorization));
      expect(await closed).toBe(4403);
    }
    const staff = await openSocket(t.url);
    staff.send(init(`Bearer ${STAFF_TOKEN}`));
    expect((await nextMessage(staff)).type).toBe('connection_ack');
    staff.close();
  });

  it('errors a malformed subscribe on its own, keeps the socket, logs JSON and prints nothing', async () => {
    const consoleError = vi.spyOn(console, 'error');
    try {
      const ws = await openSocket(t.url);
      ws.send(init(`Bearer ${STAFF_TOKEN}`));
      await nextMessage(ws);
      const closed = closeCode(ws, 500);
      ws.send(JSON.stringify({ id: 'bad', type: 'subscribe', payload: { query: 'subscription {' } }));
      const error = await nextMessage(ws);
      expect(error).toMatchObject({ id: 'bad', type: 'error' });
      expect(JSON.stringify(error.payload)).toContain('Syntax Error');
      ws.send(JSON.stringify({ id: 'ok', type: 'subscribe', payload: { query: '{ __typename }' } }));
      expect(await nextMessage(ws)).toEqual({
        id: 'ok',
        type: 'next',
        payload: { data: { __typename: 'Query' } },
      });
      expect(await closed).toBe('open');
      ws.close();
      await closeCode(ws);
      expect(consoleError).not.toHaveBeenCalled();
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: 'websocket operation refused', id: 'bad' }),
      );
    } finally {
      consoleError.mockRestore();
    }
  });

  it('caps the open sockets per client address', async () => {
    const open = await Promise.all([openSocket(t.url), openSocket(t.url), openSocket(t.url)]);
    await expect(openSocket(t.url)).rejects.toThrow(/429/);
    open[0]!.close();
    await closeCode(open[0]!);
    await new Promise((r) => setTimeout(r, 50));
    const again = await openSocket(t.url);
    for (const ws of [again, ...open.slice(1)]) ws.close();
  });
});
