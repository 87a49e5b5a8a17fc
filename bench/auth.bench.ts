// The same staff query with the root token, an API token and an OIDC JWT, interleaved in one run.
// Run: npm run bench:auth   (BENCH_REQUESTS=3000 per credential)
import { randomUUID } from 'node:crypto';
import { createLogger } from '../src/logger.ts';
import { createAuditService } from '../src/services/audit/audit.service.ts';
import { createApiTokens } from '../src/services/auth/api-tokens.service.ts';
import { type AuthService, createAuthService } from '../src/services/auth/auth.service.ts';
import { createOidcVerifier } from '../src/services/auth/oidc.verifier.ts';
import { initORM } from '../src/services/db/orm.ts';
import { createMetrics } from '../src/services/metrics/metrics.ts';
import { AUDIENCE, forge, signingKey, startOidcPeer } from '../test/support/oidc-peer.ts';
import {
  bench,
  fixed,
  postGraphQL,
  printTable,
  STAFF_TOKEN,
  startDatabase,
  startServer,
  summarize,
  verdict,
} from './support.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const BLOCK = 100;
const QUERY = 'query Doc($id: ID!) { document(id: $id) { id status } }';
const CALLS = 5000;

/** Microseconds per `auth.viewer(header)` call, in this process: verification alone, no HTTP around it. */
async function perCall(auth: AuthService, header: () => string): Promise<number> {
  for (let i = 0; i < 200; i++) await auth.viewer(header());
  const headers = Array.from({ length: CALLS }, header);
  const t0 = performance.now();
  for (const h of headers) {
    const v = await auth.viewer(h);
    if (!v.authenticated) throw new Error(`refused: ${v.denial}`);
  }
  return ((performance.now() - t0) * 1000) / CALLS;
}

await bench(async () => {
  console.log(
    `${QUERY} with each credential, ${REQUESTS} requests each, one at a time, in blocks of ${BLOCK} taken in turn ` +
      '(server child, WORKERS=0, NODE_ENV=production; the OpenID provider is oidc-provider in this process).',
  );
  const db = await startDatabase();
  const url = await db.create('auth');
  await (await initORM(url)).close(true);
  const key = await signingKey('bench');
  const peer = await startOidcPeer([key]);
  try {
    const server = await startServer(url, {
      WORKERS: '0',
      OIDC_ISSUER: peer.issuer,
      OIDC_AUDIENCE: AUDIENCE,
    });
    const made = await postGraphQL<{ createApiToken: { token: string } }>(
      server.url,
      'mutation { createApiToken(name: "bench", scopes: [READ]) { token } }',
      {},
      { staff: true },
    );
    // Signed with the provider's key, each one distinct: every request pays the full RS256 check.
    const fresh = await Promise.all(Array.from({ length: REQUESTS + 100 }, () => forge(key, peer.issuer)));
    type Auth = { staff?: boolean; token?: string | (() => string) };
    const credentials: [string, Auth][] = [
      ['root token (ADMIN_TOKEN)', { staff: true }],
      ['API token (dsr_, cached hash lookup)', { token: made.body.data!.createApiToken.token }],
      ['OIDC JWT, the same one each request', { token: await peer.token('dossier:read') }],
      ['OIDC JWT, a new one each request (RS256 check)', { token: () => fresh.pop()! }],
    ];
    const run = async ({ staff, token }: Auth) => {
      const auth = { staff, token: typeof token === 'function' ? token() : token };
      const r = await postGraphQL(server.url, QUERY, { id: randomUUID() }, auth);
      if (r.body.errors) throw new Error(JSON.stringify(r.body.errors));
      return r.ms;
    };
    for (let i = 0; i < 300; i++) await run(credentials[i % 3]![1]);

    const samples = credentials.map(() => [] as number[]);
    const cpu = credentials.map(() => 0);
    for (let done = 0; done < REQUESTS; done += BLOCK) {
      for (const [k, [, auth]] of credentials.entries()) {
        const before = server.cpuSeconds();
        for (let i = 0; i < BLOCK; i++) samples[k]!.push(await run(auth));
        cpu[k]! += server.cpuSeconds() - before;
      }
    }
    await server.stop();
    const stats = samples.map(summarize);
    const rootMedian = stats[0]!.p50;
    const cpuPerRequest = (k: number) => (cpu[k]! * 1000) / samples[k]!.length;
    printTable(
      ['credential', 'p50 ms', 'p95 ms', 'added p50 ms', 'server CPU ms/req', 'added CPU ms/req'],
      credentials.map(([name], k) => [
        name,
        fixed(stats[k]!.p50, 3),
        fixed(stats[k]!.p95, 3),
        k ? fixed(stats[k]!.p50 - rootMedian, 3) : '',
        fixed(cpuPerRequest(k), 3),
        k ? fixed(cpuPerRequest(k) - cpuPerRequest(0), 3) : '',
      ]),
    );
    console.log('("added" = over the root token, same run; CPU from /proc of the server process)');
    console.log('\nTargets');
    printTable(
      ['target', 'measured', 'verdict'],
      credentials.slice(1).map(([name], i) => {
        const added = stats[i + 1]!.p50 - rootMedian;
        return [`${name}: adds <= 0.3 ms median over root`, `${fixed(added, 3)} ms`, verdict(added <= 0.3)];
      }),
    );

    // The same credentials verified in this process, without HTTP, Yoga or the query around them.
    const orm = await initORM(url);
    const log = createLogger('silent');
    const apiTokens = createApiTokens({
      orm,
      audit: createAuditService({ orm, metrics: createMetrics(), log }),
      log,
      cacheSeconds: 5,
    });
    const oidc = createOidcVerifier(
      {
        issuer: peer.issuer,
        audience: AUDIENCE,
        algorithms: ['RS256'],
        clockToleranceSeconds: 30,
        jwksCooldownSeconds: 30,
        jwksMaxAgeSeconds: 600,
        scopeClaims: ['scope', 'scp'],
      },
      log,
    );
    const auth = createAuthService({ root: { token: STAFF_TOKEN, generated: false }, apiTokens, oidc });
    const more = await Promise.all(Array.from({ length: CALLS + 200 }, () => forge(key, peer.issuer)));
    const bearer = (token: string) => () => `Bearer ${token}`;
    const micro: [string, () => string][] = [
      ['root token', bearer(STAFF_TOKEN)],
      ['API token', bearer(made.body.data!.createApiToken.token)],
      ['OIDC JWT, the same one', bearer(await peer.token('dossier:read'))],
      ['OIDC JWT, a new one each call', () => `Bearer ${more.pop()!}`],
    ];
    const us: number[] = [];
    for (const [, header] of micro) us.push(await perCall(auth, header));
    await orm.close(true);
    console.log(`\nVerification alone (auth.viewer in this process, ${CALLS} calls each)`);
    printTable(
      ['credential', 'µs per call', 'added over root µs'],
      micro.map(([name], k) => [name, fixed(us[k]!, 1), k ? fixed(us[k]! - us[0]!, 1) : '']),
    );
    printTable(
      ['target', 'measured', 'verdict'],
      micro.slice(1).map(([name], i) => {
        const added = us[i + 1]! - us[0]!;
        return [
          `${name}: verification adds <= 300 µs over root`,
          `${fixed(added, 1)} µs`,
          verdict(added <= 300),
        ];
      }),
    );
    console.log(
      '(the HTTP medians above move by more than 0.3 ms between runs on a busy machine; these do not)',
    );
  } finally {
    await peer.stop();
  }
});
