import { createClient } from 'graphql-ws';
import { it } from 'vitest';
import WebSocket from 'ws';
import { STAFF_TOKEN, startTestApp } from '../support/app.ts';

it('probe', async () => {
  const t = await startTestApp({ NOTIFY_WAIT_SECONDS: '0' });
  await t.staff('query Q1 { document(id: "00000000-0000-0000-0000-000000000000") { id } }');
  await t.staff('{ document(id: "00000000-0000-0000-0000-000000000000") { id } }');
  await t.gql('query Q2 { document(id: "00000000-0000-0000-0000-000000000000") { id } }');
  await t.gql('query Q3 { nope }');
  await t.gql('query Q3 { ');
  const client = createClient({ url: `${t.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${STAFF_TOKEN}` }, retryAttempts: 0 });
  const r = await new Promise((ok, ko) => { const out: unknown[] = []; client.subscribe({ query: 'query WsQ { document(id: "00000000-0000-0000-0000-000000000000") { id } }' }, { next: (x) => out.push(x), error: ko, complete: () => ok(out) }); });
  console.log(JSON.stringify(r));
  await client.dispose();
  const text = await (await fetch(`${t.url}/metrics`)).text();
  console.log(text.split('\n').filter((l) => !l.startsWith('process_') && !l.startsWith('nodejs_') && !l.startsWith('# ') && !l.includes('_bucket')).join('\n'));
  console.log(text.split('\n').filter((l) => l.startsWith('# TYPE')).join('\n'));
  await t.stop();
});
