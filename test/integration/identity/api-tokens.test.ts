import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postGraphQL, STAFF_TOKEN, startTestApp, type TestApp } from '../../support/app.ts';
import { query } from '../../support/db.ts';
import { asBearer, CREATE_TOKEN, createToken, errorCode, VIEWER } from '../../support/identity.ts';
import {
  dossierEnv,
  type ServerProcess,
  startServerProcess,
  stopProcess,
  tempDir,
} from '../../support/processes.ts';
import { waitFor } from '../../support/wait.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.stop());

const LIST = '{ apiTokens { id name scopes expiresAt lastUsedAt revokedAt } }';
const REVOKE = 'mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }';

describe('API tokens', () => {
  it('shows a dsr_ secret of 32 random bytes once and keeps only its hash', async () => {
    const { token, apiToken } = await createToken(t.url, ['READ', 'WRITE'], { name: 'ci reader' });
    expect(token).toMatch(/^dsr_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(apiToken).toMatchObject({ name: 'ci reader', scopes: ['READ', 'WRITE'], revokedAt: null });
    const rows = await query<Record<string, unknown>>(
      t.databaseUrl,
      'select * from api_tokens where id = $1',
      [apiToken.id],
    );
    expect(JSON.stringify(rows)).not.toContain(token.slice(4));
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const listed = await t.staff<{ apiTokens: { id: string }[] }>(LIST);
    expect(listed.data!.apiTokens.map((a) => a.id)).toContain(apiToken.id);
    expect(JSON.stringify(listed.data)).not.toContain(token);
  });

  it('says who is calling: root, or the token with its scopes', async () => {
    const root = await t.staff(VIEWER);
    expect(root.data).toEqual({
      viewer: { id: 'root', name: 'root', kind: 'root', scopes: ['READ', 'WRITE', 'ADMIN'] },
    });
    const { token, apiToken } = await createToken(t.url, ['READ'], { name: 'dashboard' });
    const me = await asBearer(t.url, token, VIEWER);
    expect(me.data).toEqual({
      viewer: { id: apiToken.id, name: 'dashboard', kind: 'api-token', scopes: ['READ'] },
    });
  });

  it('records lastUsedAt once, not on every request', async () => {
    const { token, apiToken } = await createToken(t.url, ['READ']);
    const lastUsed = async () =>
      (
        await query<{ last_used_at: Date | null }>(
          t.databaseUrl,
          'select last_used_at from api_tokens where id = $1',
          [apiToken.id],
        )
      )[0]!.last_used_at;
    expect(await lastUsed()).toBeNull();
    await asBearer(t.url, token, VIEWER);
    const first = await waitFor(lastUsed, 5000, 'lastUsedAt');
    for (let i = 0; i < 5; i++) expect((await asBearer(t.url, token, VIEWER)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 200));
    expect(await lastUsed()).toEqual(first);
    const listed = await t.staff<{ apiTokens: { id: string; lastUsedAt: string }[] }>(LIST);
    expect(listed.data!.apiTokens.find((a) => a.id === apiToken.id)!.lastUsedAt).toBe(first!.toISOString());
  });

  it('refuses an expired token at once', async () => {
    const { token } = await createToken(t.url, ['READ'], { expiresAt: new Date(Date.now() + 1500) });
    expect((await asBearer(t.url, token, VIEWER)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1600));
    expect(errorCode(await asBearer(t.url, token, VIEWER))).toBe('UNAUTHENTICATED');
  });

  it('refuses a revoked token at once on the process that revoked it; revoking twice changes nothing', async () => {
    const { token, apiToken } = await createToken(t.url, ['READ']);
    expect((await asBearer(t.url, token, VIEWER)).errors).toBeUndefined();
    const revoked = await t.staff<{ revokeApiToken: { id: string; revokedAt: string } }>(REVOKE, {
      id: apiToken.id,
    });
    expect(revoked.data!.revokeApiToken.revokedAt).toBeTruthy();
    expect(errorCode(await asBearer(t.url, token, VIEWER))).toBe('UNAUTHENTICATED');
    const again = await t.staff<{ revokeApiToken: { revokedAt: string } }>(REVOKE, { id: apiToken.id });
    expect(again.data!.revokeApiToken.revokedAt).toBe(revoked.data!.revokeApiToken.revokedAt);
  });

  it('refuses unknown, malformed and made-up dsr_ tokens', async () => {
    for (const bad of [`dsr_${'A'.repeat(43)}`, 'dsr_short', `dsr_${'A'.repeat(44)}`]) {
      expect(errorCode(await asBearer(t.url, bad, VIEWER))).toBe('UNAUTHENTICATED');
    }
    expect(errorCode(await t.staff(REVOKE, { id: '00000000-0000-4000-8000-000000000000' }))).toBe(
      'NOT_FOUND',
    );
  });

  it('validates name, scopes and expiresAt', async () => {
    const create = (v: Record<string, unknown>) =>
      postGraphQL(
        t.url,
        CREATE_TOKEN,
        { name: 'x', scopes: ['READ'], ...v },
        { authorization: `Bearer ${STAFF_TOKEN}` },
      );
    for (const [v, path] of [
      [{ scopes: [] }, ['scopes']],
      [{ name: '  ' }, ['name']],
      [{ name: 'a\nb' }, ['name']],
      [{ expiresAt: new Date(Date.now() - 1000).toISOString() }, ['expiresAt']],
    ] as const) {
      const r = await create(v);
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.errors![0]!.extensions!.issues![0]!.path).toEqual(path);
    }
  });
});

describe('a revoke seen by a second process', () => {
  let other: ServerProcess | null = null;
  afterAll(async () => {
    if (other) await stopProcess(other);
  });

  it('refuses the token there within its cache time', async () => {
    const { token, apiToken } = await createToken(t.url, ['READ']);
    other = await startServerProcess(
      dossierEnv(t.databaseUrl, await tempDir('dossier-tokens-'), {
        WORKERS: '0',
        API_TOKEN_CACHE_SECONDS: '2',
      }),
    );
    // Used there first, so the other process holds it in its cache when the revoke happens here.
    expect((await asBearer(other.url, token, VIEWER)).errors).toBeUndefined();
    await t.staff(REVOKE, { id: apiToken.id });
    // The bound is the cache time (2 s here); the wait allows for a loaded machine.
    await waitFor(
      async () => errorCode(await asBearer(other!.url, token, VIEWER)) === 'UNAUTHENTICATED',
      10_000,
      'the revoke on the other process',
    );
  });
});
