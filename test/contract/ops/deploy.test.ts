import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../support/ops-run.ts';
import { tempDir } from '../../support/processes.ts';

// The decision logic of stack/deploy.sh, run by sh against a stand-in `docker` on PATH (no engine
// here): it records every call, "runs" the version of the last `up`, and answers the /ready check
// with failure for the versions listed as broken.
let dir: string;
const fakeDocker = `#!/bin/sh
echo "\${DOSSIER_VERSION:--} $*" >> "$FAKE_DIR/calls"
case "$*" in
  "image inspect "*) grep -qx "\${3#*:}" "$FAKE_DIR/images" ;;
  *" up -d "*) echo "$DOSSIER_VERSION" > "$FAKE_DIR/running" ;;
  *" exec -T app "*) ! grep -qx "$(cat "$FAKE_DIR/running")" "$FAKE_DIR/broken" ;;
  *) exit 0 ;;
esac
`;

beforeAll(async () => {
  dir = await tempDir('dossier-deploy-');
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'env'), 'DOMAIN=dossier.example.com\nDOSSIER_VERSION=v0\n');
  await writeFile(join(dir, 'bin', 'docker'), fakeDocker);
  await chmod(join(dir, 'bin', 'docker'), 0o755);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function deploy(version: string, world: { images?: string[]; broken?: string[] } = {}) {
  await writeFile(join(dir, 'images'), `${(world.images ?? ['v1', 'v2', 'v3', 'v4']).join('\n')}\n`);
  await writeFile(join(dir, 'broken'), `${(world.broken ?? []).join('\n')}\n`);
  await writeFile(join(dir, 'calls'), '');
  const result = run('sh', ['stack/deploy.sh', version], {
    PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
    FAKE_DIR: dir,
    DEPLOY_STATE: join(dir, 'deployed'),
    DEPLOY_ENV_FILE: join(dir, 'env'),
    DEPLOY_TIMEOUT: '3', // a loaded machine's fake docker exec can take over a second
    DEPLOY_INTERVAL: '0.2',
  });
  const calls = (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n').filter(Boolean);
  const ups = calls.filter((c) => c.includes(' up -d ')).map((c) => c.split(' ')[0]);
  const deployed = await readFile(join(dir, 'deployed'), 'utf8').then(
    (s) => s.trim(),
    () => null,
  );
  const envVersion = /^DOSSIER_VERSION=(.*)$/m.exec(await readFile(join(dir, 'env'), 'utf8'))?.[1];
  const running = await readFile(join(dir, 'running'), 'utf8').then(
    (s) => s.trim(),
    () => null,
  );
  return { status: result.status, output: result.output, calls, ups, deployed, running, envVersion };
}

describe('stack/deploy.sh', () => {
  it('deploys a ready version, restarting only app and worker, and records it', async () => {
    const first = await deploy('v1');
    expect(first.status, first.output).toBe(0);
    const second = await deploy('v2');
    expect(second.status, second.output).toBe(0);
    expect(second.ups).toEqual(['v2']);
    expect(second.calls.find((c) => c.includes(' up -d '))).toMatch(
      / up -d --no-deps --no-build app worker$/,
    );
    expect(second.deployed).toBe('v2');
    // The next boot starts the same version.
    expect(second.envVersion).toBe('v2');
  });

  it('rolls back to the previous version when /ready fails, and says so with exit 1', async () => {
    const r = await deploy('v3', { broken: ['v3'] });
    expect(r.status, r.output).toBe(1);
    expect(r.ups).toEqual(['v3', 'v2']);
    expect(r.running).toBe('v2');
    expect(r.deployed).toBe('v2');
    expect(r.envVersion).toBe('v2');
    expect(r.output).toContain('rolling back to v2');
  });

  it('exits 2 when the previous version is not ready either', async () => {
    const r = await deploy('v4', { broken: ['v4', 'v2'] });
    expect(r.status).toBe(2);
    expect(r.ups).toEqual(['v4', 'v2']);
    expect(r.deployed).toBe('v2');
  });

  it('refuses latest, odd names and missing images before touching anything', async () => {
    for (const version of ['latest', '', 'v1;reboot']) {
      const r = await deploy(version);
      expect(r.status, version).toBe(64);
      expect(r.ups).toEqual([]);
    }
    const missing = await deploy('v9');
    expect(missing.status).toBe(64);
    expect(missing.output).toContain('dossier:v9 is missing');
    expect(missing.ups).toEqual([]);
  });

  it('does nothing for the version already running', async () => {
    const r = await deploy('v2');
    expect(r.status).toBe(0);
    expect(r.ups).toEqual([]);
  });
});
