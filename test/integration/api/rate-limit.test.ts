import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { contactInput, SUBMIT } from '../../support/factories.ts';

describe('rate limits', () => {
  let t: TestApp;
  let trusted: TestApp;
  beforeAll(async () => {
    [t, trusted] = await Promise.all([
      startTestApp({ RATE_LIMIT_PER_MINUTE: '3', RATE_LIMIT_GLOBAL_PER_MINUTE: '1000' }),
      startTestApp({ RATE_LIMIT_PER_MINUTE: '2', RATE_LIMIT_GLOBAL_PER_MINUTE: '5', TRUST_PROXY: 'true' }),
    ]);
  });
  afterAll(() => Promise.all([t.stop(), trusted.stop()]));

  it('gives each client address a budget, with a retry-after hint, ignoring X-Forwarded-For by default', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await t.gql(SUBMIT, { input: contactInput() }, { 'x-forwarded-for': `10.0.0.${i}` });
      expect(ok.errors).toBeUndefined();
    }
    const r = await t.gql(SUBMIT, { input: contactInput() }, { 'x-forwarded-for': '10.0.0.99' });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'client' });
    expect(r.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(r.errors?.[0]?.extensions?.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('does not limit staff queries', async () => {
    const r = await t.staff('{ __typename }');
    expect(r.errors).toBeUndefined();
  });

  it('trusts the proxy-appended X-Forwarded-For entry when TRUST_PROXY is set, and has a global budget', async () => {
    const from = (ip: string) =>
      trusted.gql(SUBMIT, { input: contactInput() }, { 'x-forwarded-for': `203.0.113.7, ${ip}` });
    expect((await from('198.51.100.1')).errors).toBeUndefined();
    expect((await from('198.51.100.1')).errors).toBeUndefined();
    expect((await from('198.51.100.1')).errors?.[0]?.extensions?.scope).toBe('client');
    expect((await from('198.51.100.2')).errors).toBeUndefined();
    expect((await from('198.51.100.3')).errors).toBeUndefined();
    expect((await from('198.51.100.4')).errors).toBeUndefined();
    const over = await from('198.51.100.5');
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', scope: 'global' });
    const metrics = await (await fetch(`${trusted.url}/metrics`)).text();
    expect(metrics).toMatch(/^dossier_rate_limited_total\{scope="client"\} 1$/m);
    expect(metrics).toMatch(/^dossier_rate_limited_total\{scope="global"\} 1$/m);
  });

  it('keeps one budget for an IPv6 /64, the block one subscriber holds', async () => {
    const v6 = await startTestApp({ RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: 'true' });
    try {
      const from = async (ip: string) =>
        (await v6.gql(SUBMIT, { input: contactInput() }, { 'x-forwarded-for': ip })).errors?.[0]?.extensions
          ?.code ?? 'ok';
      expect([
        await from('2001:db8:1:2::1'),
        await from('2001:db8:1:2:ffff::9'),
        await from('2001:db8:1:2:abcd:1:2:3'),
        await from('2001:db8:1:3::1'),
      ]).toEqual(['ok', 'ok', 'RATE_LIMITED', 'ok']);
    } finally {
      await v6.stop();
    }
  });
});
