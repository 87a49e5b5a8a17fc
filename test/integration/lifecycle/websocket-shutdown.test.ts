import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp } from '../../support/app.ts';

describe('shutdown', () => {
  it('closes open WebSockets with 1001 Going Away', async () => {
    const t = await startTestApp();
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((ok) => ws.once('open', ok));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${STAFF_TOKEN}` } }));
    await new Promise((ok) => ws.once('message', ok));
    const closed = new Promise<number>((ok) => ws.once('close', (code) => ok(code)));
    await t.stop();
    expect(await closed).toBe(1001);
  });
});
