import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../../src/schema/index.ts';
import { postGraphQL, STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { asBearer, createToken, errorCode } from '../../support/identity.ts';
import { scrape, total } from '../../support/metrics.ts';
import { multipart, UPLOAD } from '../../support/upload.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.stop());

interface Event {
  id: string;
  actor: string;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  requestId: string | null;
  details: string | null;
}
interface Page {
  auditEvents: {
    totalCount: number;
    edges: { cursor: string; node: Event }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const EVENTS = /* GraphQL */ `
  query($actor: String, $action: String, $subjectId: ID, $first: Int, $after: String) {
    auditEvents(actor: $actor, action: $action, subjectId: $subjectId, first: $first, after: $after) {
      totalCount
      edges { cursor node { id actor action subjectType subjectId requestId details } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const events = async (filter: Record<string, unknown>) => {
  const r = await t.staff<Page>(EVENTS, filter);
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.auditEvents;
};

describe('the audit log', () => {
  it('records token create and revoke by root, with the request id', async () => {
    const requestId = `req-${randomUUID()}`;
    const created = await postGraphQL<{ createApiToken: { apiToken: { id: string } } }>(
      t.url,
      'mutation { createApiToken(name: "auditor", scopes: [ADMIN]) { apiToken { id } } }',
      {},
      { authorization: `Bearer ${STAFF_TOKEN}`, 'x-request-id': requestId },
    );
    const id = created.data!.createApiToken.apiToken.id;
    await t.staff('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id });
    const page = await events({ subjectId: id });
    expect(page.edges.map((e) => e.node.action)).toEqual(['token.revoke', 'token.create']);
    const create = page.edges[1]!.node;
    expect(create).toMatchObject({ actor: 'root', subjectType: 'ApiToken', subjectId: id, requestId });
    expect(JSON.parse(create.details!)).toMatchObject({ name: 'auditor', scopes: ['ADMIN'] });
  });

  it("records an upload under the API token's actor", async () => {
    const { token, apiToken } = await createToken(t.url, ['WRITE']);
    const r = await multipart<{ uploadDocument: { id: string } }>(
      t.url,
      UPLOAD,
      { file: null },
      [{ path: 'variables.file', name: 'a.txt', content: 'audit me' }],
      { headers: { authorization: `Bearer ${token}` } },
    );
    const docId = r.data!.uploadDocument.id;
    const [event] = (await events({ subjectId: docId })).edges;
    expect(event!.node).toMatchObject({
      actor: `api-token:${apiToken.id}`,
      action: 'document.upload',
      subjectType: 'Document',
    });
  });

  it('writes nothing when the change fails, and no change when its event cannot be written', async () => {
    const before = (await events({})).totalCount;
    const missing = await t.staff('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', {
      id: randomUUID(),
    });
    expect(errorCode(missing)).toBe('NOT_FOUND');
    const upload = await multipart(
      t.url,
      UPLOAD,
      { file: null, contactId: randomUUID() },
      [{ path: 'variables.file', name: 'a.txt', content: 'x' }],
      { staff: true },
    );
    expect(errorCode(upload)).toBe('NOT_FOUND');
    expect((await events({})).totalCount).toBe(before);

    // The event and the change share one transaction: an event the database refuses takes the token with it.
    await query(
      t.databaseUrl,
      `alter table audit_events add constraint no_tokens check (action <> 'token.create') not valid`,
    );
    try {
      const r = await t.staff('mutation { createApiToken(name: "orphan", scopes: [READ]) { token } }');
      expect(r.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await query(t.databaseUrl, 'alter table audit_events drop constraint no_tokens');
    }
    expect(await query(t.databaseUrl, `select id from api_tokens where name = 'orphan'`)).toEqual([]);
  });

  it('records denied attempts with their reason and counts them by reason', async () => {
    const reader = await createToken(t.url, ['READ']);
    const revoked = await createToken(t.url, ['ADMIN']);
    await t.staff('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: revoked.apiToken.id });
    const count = async (reason: string) =>
      total(await scrape(t.url), 'dossier_auth_denials_total', { reason }) ?? 0;
    const [scope0, revoked0, missing0] = [
      await count('insufficient_scope'),
      await count('revoked'),
      await count('missing'),
    ];

    const r0 = await asBearer(t.url, reader.token, '{ apiTokens { id } }');
    expect(errorCode(r0)).toBe('FORBIDDEN');
    expect(errorCode(await asBearer(t.url, revoked.token, '{ apiTokens { id } }'))).toBe('UNAUTHENTICATED');
    expect(errorCode(await postGraphQL(t.url, '{ apiTokens { id } }'))).toBe('UNAUTHENTICATED');

    expect(await count('insufficient_scope')).toBe(scope0 + 1);
    expect(await count('revoked')).toBe(revoked0 + 1);
    expect(await count('missing')).toBe(missing0 + 1);
    const denied = await waitFor(
      async () => {
        const page = await events({ action: 'auth.denied' });
        return page.totalCount >= 2 && page;
      },
      5000,
      'the denied attempts in the log',
    );
    const byActor = Object.fromEntries(denied.edges.map((e) => [e.node.actor, JSON.parse(e.node.details!)]));
    expect(byActor[`api-token:${reader.apiToken.id}`]).toMatchObject({
      reason: 'insufficient_scope',
      field: 'Query.apiTokens',
    });
    expect(byActor[`api-token:${revoked.apiToken.id}`]).toMatchObject({
      reason: 'revoked',
      field: 'Query.apiTokens',
    });
    // No credential at all: counted, but nothing to attribute, so not written.
    expect(byActor.anonymous).toBeUndefined();
  });

  it('lists newest first, filters, and pages with opaque cursors', async () => {
    const { token, apiToken } = await createToken(t.url, ['ADMIN']);
    const actor = `api-token:${apiToken.id}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await asBearer<{ createApiToken: { apiToken: { id: string } } }>(
        t.url,
        token,
        `mutation { createApiToken(name: "n${i}", scopes: [READ]) { apiToken { id } } }`,
      );
      ids.push(r.data!.createApiToken.apiToken.id);
    }
    const first = await events({ actor, action: 'token.create', first: 2 });
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e) => e.node.subjectId)).toEqual([ids[4], ids[3]]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.pageInfo.endCursor).not.toContain(first.edges[1]!.node.id);
    const rest = await events({ actor, first: 10, after: first.pageInfo.endCursor });
    expect(rest.edges.map((e) => e.node.subjectId)).toEqual([ids[2], ids[1], ids[0]]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect((await events({ actor: 'nobody' })).totalCount).toBe(0);
  });

  it('refuses page sizes outside 1..100 and cursors it did not give out', async () => {
    for (const [v, path] of [
      [{ first: 0 }, 'first'],
      [{ first: 101 }, 'first'],
      [{ after: 'bm9wZQ' }, 'after'],
    ] as const) {
      const r = await t.staff(EVENTS, v);
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.errors![0]!.extensions!.issues![0]!.path).toEqual([path]);
    }
  });

  it('cannot be changed: no mutation touches it and the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    expect(mutations.filter((m) => /audit/i.test(m))).toEqual([]);
    for (const sql of [
      "update audit_events set actor = 'someone else'",
      'delete from audit_events',
      'truncate audit_events',
    ]) {
      await expect(query(t.databaseUrl, sql)).rejects.toThrow(/append-only/);
    }
  });
});
