import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, run } from '../../support/ops-run.ts';
import { loadYaml, parseYaml } from '../../support/yaml.ts';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  user?: string;
  restart?: string;
  ports?: unknown[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  environment?: Record<string, string | null>;
  volumes?: string[];
  networks?: Record<string, unknown> | string[];
}
interface Compose {
  version?: string;
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { internal?: boolean } | null>;
}

const composeFile = 'stack/docker-compose.yml';
/** True when `dist/src/<x>.js` is the build of a source that exists (src/<x>.ts). */
const builtFrom = (entry: string) =>
  existsSync(join(root, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
/** The monitoring services: the public site must never wait for one of them. */
const MONITORING = [
  'prometheus',
  'alertmanager',
  'grafana',
  'loki',
  'alloy',
  'blackbox',
  'node-exporter',
  'cadvisor',
];
const raw = readFileSync(join(root, composeFile), 'utf8');
const exampleText = readFileSync(join(root, 'stack/.env.example'), 'utf8');

// Variables of .env.example; a "# secret" comment right above marks a secret (which must stay empty).
const example = new Map<string, { value: string; secret: boolean }>();
{
  let secret = false;
  for (const line of exampleText.split('\n')) {
    const variable = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (variable) example.set(variable[1], { value: variable[2], secret });
    secret = /^# secret\b/.test(line);
  }
}
const secrets = [...example].filter(([, v]) => v.secret).map(([name]) => name);
// Optional credentials: empty means "use the AWS default chain" (instance role), so they cannot be required.
const optionalSecrets = [
  // Empty on AWS, where the instance role signs; minio-setup refuses to run without them.
  'S3_SECRET_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'BACKUP_S3_ACCESS_KEY',
  'BACKUP_S3_SECRET_KEY',
];

// Fake values for the secrets, so that `config` can resolve the file as a filled-in .env would.
const filledSecrets = Object.fromEntries(
  secrets.map((name) => [
    name,
    name === 'ADMIN_UI_PASSWORD_HASH' ? '$2a$14$fake.hash' : `test-${name.toLowerCase()}-0123456789`,
  ]),
);

function compose(args: string[], extraEnv: Record<string, string> = {}) {
  return run('docker-compose', ['-f', composeFile, '--env-file', 'stack/.env.example', ...args], {
    PATH: process.env.PATH,
    ...extraEnv,
  });
}

const resolved = (() => {
  const { status, output } = compose(['config'], filledSecrets);
  if (status !== 0) throw new Error(`docker-compose config failed:\n${output}`);
  return parseYaml(output) as Compose;
})();
const rawParsed = loadYaml(join(root, composeFile)) as Compose;
const services = resolved.services;

function dependents(name: string) {
  return Object.entries(services).filter(([, s]) => {
    const deps = s.depends_on;
    return deps && !Array.isArray(deps) && deps[name]?.condition === 'service_completed_successfully';
  });
}

// docker-compose 1.29 prints mounts as source:target[:mode]; a source without a slash is a named volume.
function mounts(service: Service) {
  return (service.volumes ?? []).map((v) => {
    const [source, target, mode = 'rw'] = v.split(':');
    return { source, target, mode, named: !source.includes('/') };
  });
}

// The health check program of each service: its image's own binary (the dossier image's node, etc.).
const ownProbe: Record<string, string> = {
  app: 'node',
  worker: 'node',
  postgres: 'pg_isready',
  redis: 'redis-cli',
  minio: 'mc',
  prometheus: 'promtool',
  alertmanager: 'amtool',
};

// Host paths the monitoring agents read (read-only); anything else mounted must live in the repository.
const hostMounts: Record<string, string[]> = {
  alloy: ['/var/run/docker.sock'],
  'node-exporter': ['/'],
  cadvisor: ['/', '/var/run', '/sys', '/var/lib/docker'],
};

// The last stage's USER, as the container runs it.
function finalUser(dockerfile: string): string | null {
  const lastStage = dockerfile.split(/^FROM /m).at(-1) ?? '';
  const users = [...lastStage.matchAll(/^USER\s+(\S+)/gm)];
  return users.at(-1)?.[1] ?? null;
}

describe('stack/docker-compose.yml', () => {
  it('passes docker-compose config -q with the .env.example values and the secrets filled in', () => {
    const { status, output } = compose(['config', '-q'], filledSecrets);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('refuses to start while a secret of .env.example is still empty', () => {
    const { status, output } = compose(['config', '-q']);
    expect(status).not.toBe(0);
    expect(output).toMatch(/set [A-Z_]+/);
  });

  it.each(secrets.filter((s) => !optionalSecrets.includes(s)))(
    'requires the secret %s (VAR:? interpolation)',
    (name) => {
      expect(example.get(name)?.value, `${name} must be empty in .env.example`).toBe('');
      const { [name]: _missing, ...others } = filledSecrets;
      const { status, output } = compose(['config', '-q'], others);
      expect(status).not.toBe(0);
      expect(output).toContain(`set ${name}`);
    },
  );

  it('keeps every variable it reads in .env.example, and nothing else there', () => {
    const used = new Set([...raw.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    expect([...used].filter((v) => !example.has(v)).sort()).toEqual([]);
    expect([...example.keys()].filter((v) => !used.has(v)).sort()).toEqual([]);
    for (const name of optionalSecrets) expect(example.get(name)?.value).toBe('');
  });

  it('uses the 3.x file format without a top-level name', () => {
    expect(rawParsed.version).toMatch(/^3\.\d+$/);
    expect(rawParsed).not.toHaveProperty('name');
    expect(raw).not.toMatch(/^name:/m);
  });

  it('has every service asked for', () => {
    for (const name of [
      'app',
      'worker',
      'postgres',
      'minio',
      'minio-setup',
      'meilisearch',
      'redis',
      ...MONITORING,
      'caddy',
    ]) {
      expect(services, name).toHaveProperty(name);
    }
    expect(services).not.toHaveProperty('promtail');
  });

  it('checks health with a program each image is built around; one-shots run once and gate their dependents', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no') {
        expect(service.healthcheck, name).toBeUndefined();
        expect(dependents(name).length, `${name} is a one-shot nobody waits for`).toBeGreaterThan(0);
        continue;
      }
      expect(service.restart, name).toBe('unless-stopped');
      const test = service.healthcheck?.test;
      if (!test) continue;
      // Exec form: no shell, no wget or curl, which slimmer or distroless releases drop.
      expect(test[0], name).toBe('CMD');
      expect(test[1], name).toBe(ownProbe[name]);
    }
    // Whoever others wait for must have one.
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, spec] of Object.entries(service.depends_on ?? {})) {
        if ((spec as { condition?: string }).condition === 'service_healthy')
          expect(ownProbe[dep], `${name} waits for ${dep}`).toBeDefined();
      }
    }
  });

  it('watches the services without a health check through Prometheus', () => {
    const prometheus = loadYaml(join(root, 'stack/prometheus/prometheus.yml')) as {
      scrape_configs: { static_configs?: { targets: string[] }[] }[];
    };
    const scraped = new Set(
      prometheus.scrape_configs.flatMap((j) =>
        (j.static_configs ?? []).flatMap((c) =>
          c.targets.map((t) => t.replace(/^https?:\/\//, '').split(':')[0]),
        ),
      ),
    );
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no' || service.healthcheck?.test) continue;
      // Caddy: probed through the public URL (blackbox-public); Meilisearch: the app reports it
      // (dossier_search_engine_up, DossierSearchEngineDown); backup: its metrics file
      // (dossier_backup_last_success_timestamp_seconds, DossierBackupTooOld).
      if (['caddy', 'meilisearch', 'backup'].includes(name)) continue;
      expect(scraped.has(name), `${name} has neither a health check nor a scrape job`).toBe(true);
    }
  });

  it('runs scheduled backups whose metrics file node-exporter reads from the same volume', () => {
    const backup = services.backup;
    const flag = (args: string[] | undefined, name: string) =>
      args?.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    const metricsFile = flag(backup.command, 'metrics-file') ?? '';
    const textfileDir = flag(services['node-exporter'].command, 'collector.textfile.directory');
    const volumeAt = (service: Service, target: string) =>
      mounts(service).find((m) => m.target === target)?.source;
    expect(metricsFile.startsWith(`${textfileDir}/`)).toBe(true);
    expect(volumeAt(backup, textfileDir ?? '')).toBe('backup-metrics');
    expect(volumeAt(services['node-exporter'], textfileDir ?? '')).toBe('backup-metrics');
    expect(volumeAt(backup, flag(backup.command, 'dir') ?? '')).toBe('backups');
    expect(flag(backup.command, 'every')).toBe(example.get('BACKUP_EVERY')?.value);
    // The image creates both directories for its user, so the fresh volumes are writable.
    expect(readFileSync(join(root, 'stack/Dockerfile'), 'utf8')).toMatch(
      /mkdir -p \/data \/backups \/textfile && chown node:node/,
    );
  });

  it('lets only app, worker and backup out through egress, the network allowed to reach instance metadata', () => {
    const on = (network: string) =>
      Object.entries(services)
        .filter(([, s]) => Object.keys(s.networks ?? {}).includes(network))
        .map(([name]) => name)
        .sort();
    expect(on('egress')).toEqual(['app', 'backup', 'worker']);
    expect(on('web')).toEqual(['app', 'caddy']);
    expect(resolved.networks?.web?.internal).toBe(true);
    const egress = rawParsed.networks?.egress as { ipam?: { config?: { subnet: string }[] } };
    expect(egress.ipam?.config?.[0].subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
  });

  it('starts the public site without waiting for monitoring: Caddy depends on the app only', () => {
    expect(Object.keys(services.caddy.depends_on ?? {})).toEqual(['app']);
    // Nothing on the path from Caddy to the app's dependencies waits for a monitoring service.
    const seen = new Set<string>();
    const walk = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const dep of Object.keys(services[name].depends_on ?? {})) walk(dep);
    };
    walk('caddy');
    expect([...seen].filter((s) => MONITORING.includes(s))).toEqual([]);
  });

  it('declares every depends_on with a condition', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, spec] of Object.entries(service.depends_on ?? {})) {
        expect(Array.isArray(service.depends_on), name).toBe(false);
        expect(services, `${name} depends on unknown ${dep}`).toHaveProperty(dep);
        const condition = (spec as { condition?: string }).condition;
        expect(
          ['service_healthy', 'service_completed_successfully', 'service_started'],
          `${name} -> ${dep}`,
        ).toContain(condition);
        if (condition === 'service_healthy') expect(services[dep].healthcheck, dep).toBeDefined();
      }
    }
    const app = services.app.depends_on as Record<string, { condition: string }>;
    expect(app.postgres.condition).toBe('service_healthy');
    expect(app['minio-setup'].condition).toBe('service_completed_successfully');
  });

  it('builds app and worker from the repository root with stack/Dockerfile and runs them as non-root', () => {
    const dockerfile = readFileSync(join(root, 'stack/Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length, 'multi-stage').toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^HEALTHCHECK [^\n]*\\\n\s*CMD [^\n]*\/health/m);
    const user = finalUser(dockerfile);
    expect(user).not.toBeNull();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    for (const name of ['app', 'worker']) {
      const service = services[name];
      expect(service.build?.context, name).toBe(root.replace(/\/$/, ''));
      expect(service.build?.dockerfile, name).toBe('stack/Dockerfile');
      expect(service.user ?? user, name).not.toMatch(/^(root|0)(:|$)/);
      for (const copied of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
        for (const path of copied[1].split(' '))
          expect(existsSync(join(root, path)), `COPY ${path}`).toBe(true);
      }
    }
    // One image per version, never an implicit latest; app, worker and backup run the same one.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's own ${VAR} syntax, on purpose.
    expect(raw).toContain('image: ${DOSSIER_IMAGE:-dossier}:${DOSSIER_VERSION:?set DOSSIER_VERSION}');
    for (const name of ['app', 'worker', 'backup'])
      expect(services[name].image, name).toBe(`dossier:${example.get('DOSSIER_VERSION')?.value}`);
    expect(services.worker.command).toEqual(['node', 'dist/src/worker.js']);
    // Every service runs the build: a dist/src/<x>.js compiled from a src/<x>.ts that exists.
    for (const name of ['app', 'worker', 'backup']) {
      const entry = (services[name].command as string[])[1]!;
      expect(entry, name).toMatch(/^dist\/src\/[\w-]+\.js$/);
      expect(builtFrom(entry), name).toBe(true);
    }
  });

  it('tells operators commands the image can run: no npm scripts (it has no sources), built tools that exist', () => {
    const ops = readFileSync(join(root, 'docs/operations.md'), 'utf8').split('\n');
    const inContainer = ops.filter((l) => /container|docker-compose/.test(l));
    expect(inContainer.filter((l) => /npm run/.test(l))).toEqual([]);
    const tools = ops.flatMap((l) => [...l.matchAll(/dist\/src\/[\w-]+\.js/g)].map((m) => m[0]));
    expect(tools.length).toBeGreaterThan(0);
    for (const tool of tools) expect(builtFrom(tool), tool).toBe(true);
    expect(services.app.environment?.JOB_CONCURRENCY).toBe('0');
  });

  it('publishes ports on Caddy only and keeps the data stores on the internal network', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'caddy') expect(service.ports, name).toBeUndefined();
    }
    expect(resolved.networks?.backend?.internal).toBe(true);
    for (const name of ['postgres', 'minio', 'meilisearch', 'redis', 'loki']) {
      expect(Object.keys(services[name].networks ?? {}), name).toEqual(['backend']);
    }
  });

  it('keeps state in named volumes and mounts files that exist inside the repository', () => {
    const named = new Set(Object.keys(resolved.volumes ?? {}));
    for (const [name, service] of Object.entries(services)) {
      for (const mount of mounts(service)) {
        if (mount.named) expect(named.has(mount.source), `${name}: ${mount.source}`).toBe(true);
        else if (hostMounts[name]?.includes(mount.source))
          expect(mount.mode, `${name}: ${mount.source} must be read-only`).toMatch(/^ro\b/);
        else {
          expect(existsSync(mount.source), `${name}: ${mount.source}`).toBe(true);
          expect(relative(root, mount.source).startsWith('..'), `${name} mounts outside the repo`).toBe(
            false,
          );
        }
      }
    }
    for (const name of [
      'postgres',
      'minio',
      'meilisearch',
      'redis',
      'prometheus',
      'alertmanager',
      'grafana',
      'loki',
      'caddy',
    ]) {
      expect(
        mounts(services[name]).some((m) => m.named),
        `${name} keeps its data in a named volume`,
      ).toBe(true);
    }
  });

  it('passes only settings the app knows (src/config.ts) to app and worker', () => {
    const config = readFileSync(join(root, 'src/config.ts'), 'utf8');
    const known = new Set([...config.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]));
    expect(known.size).toBeGreaterThan(10);
    for (const name of ['app', 'worker']) {
      const unknown = Object.keys(services[name].environment ?? {}).filter(
        (k) => !known.has(k) && !optionalSecrets.includes(k),
      );
      expect(unknown, name).toEqual([]);
    }
  });
});

describe('stack configuration files', () => {
  it('prometheus.yml is valid and loads the rules of alerts/ through its mount', () => {
    const { status, output } = run('promtool', [
      'check',
      'config',
      '--syntax-only',
      'stack/prometheus/prometheus.yml',
    ]);
    expect(status, output).toBe(0);
    const prometheus = loadYaml(join(root, 'stack/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
    };
    const mount = mounts(services.prometheus).find((m) => m.target === '/etc/prometheus/rules');
    expect(mount?.source).toBe(join(root, 'alerts'));
    const pattern = prometheus.rule_files[0];
    expect(pattern.startsWith('/etc/prometheus/rules/')).toBe(true);
    const suffix = pattern.slice('/etc/prometheus/rules/*'.length);
    expect(readdirSync(join(root, 'alerts')).filter((f) => f.endsWith(suffix))).toContain(
      'dossier.rules.yml',
    );
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((j) => [j.job_name, j]));
    expect(jobs.dossier.static_configs?.flatMap((s) => s.targets)).toEqual(['app:9464', 'worker:9464']);
    expect(jobs['blackbox-health'].static_configs?.flatMap((s) => s.targets)).toEqual([
      'http://app:4000/health',
    ]);
    expect(jobs).toHaveProperty('minio');
    for (const [job, target] of [
      ['node', 'node-exporter:9100'],
      ['cadvisor', 'cadvisor:8080'],
      ['alertmanager', 'alertmanager:9093'],
    ])
      expect(jobs[job].static_configs?.flatMap((s) => s.targets)).toEqual([target]);
  });

  it('Prometheus probes the public URL from DOMAIN and labels alerts with the runbook base', () => {
    const prometheus = loadYaml(join(root, 'stack/prometheus/prometheus.yml')) as {
      global: { external_labels: Record<string, string> };
      scrape_configs: {
        job_name: string;
        params?: { module: string[] };
        file_sd_configs?: { files: string[] }[];
      }[];
    };
    // Prometheus 3 expands ${VAR} in external labels; compose passes the variable.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Prometheus's own ${VAR} syntax, on purpose.
    expect(prometheus.global.external_labels.runbook_base).toBe('${RUNBOOK_BASE_URL}');
    expect(services.prometheus.environment?.RUNBOOK_BASE_URL).toBe(example.get('RUNBOOK_BASE_URL')?.value);
    const publicJob = prometheus.scrape_configs.find((j) => j.job_name === 'blackbox-public');
    const [file] = publicJob?.file_sd_configs?.[0].files ?? [];
    expect(publicJob?.params?.module).toEqual(['https_public']);
    // The entrypoint writes that file from DOMAIN before exec'ing Prometheus, in a tmpfs.
    const entrypoint = (rawParsed.services.prometheus as { entrypoint: string[] }).entrypoint.join(' ');
    expect(entrypoint).toContain(`"https://%s/health"]}]' "$$DOMAIN" > ${file}`);
    expect(file.startsWith('/run/prometheus/')).toBe(true);
    const blackbox = loadYaml(join(root, 'stack/blackbox/blackbox.yml')) as {
      modules: Record<string, { http: { fail_if_not_ssl?: boolean } }>;
    };
    expect(blackbox.modules.https_public.http.fail_if_not_ssl).toBe(true);
    expect(Object.keys(services.blackbox.networks ?? {})).toContain('edge');
  });

  it('Grafana provisions the datasources the dashboards use and the dashboards directory', () => {
    const datasources = loadYaml(join(root, 'stack/grafana/provisioning/datasources/datasources.yml')) as {
      datasources: { uid: string; type: string }[];
    };
    const uids = new Set(datasources.datasources.map((d) => d.uid));
    for (const file of readdirSync(join(root, 'dashboards'))) {
      const text = readFileSync(join(root, 'dashboards', file), 'utf8');
      for (const m of text.matchAll(/"uid": "([^"$]+)"/g)) {
        if (m[1] !== '-- Grafana --' && !m[1].startsWith('dossier-'))
          expect(uids.has(m[1]), `${file}: ${m[1]}`).toBe(true);
      }
    }
    const providers = loadYaml(join(root, 'stack/grafana/provisioning/dashboards/dashboards.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mount = mounts(services.grafana).find((m) => m.source === join(root, 'dashboards'));
    expect(mount?.target).toBe(providers.providers[0].options.path);
  });

  it('Caddy sets the security headers, guards the admin UIs and hides /metrics', () => {
    const caddyfile = readFileSync(join(root, 'stack/Caddyfile'), 'utf8');
    for (const header of [
      'Strict-Transport-Security "max-age=',
      'X-Content-Type-Options "nosniff"',
      'X-Frame-Options "DENY"',
      'Content-Security-Policy "default-src',
    ]) {
      expect(caddyfile).toContain(header);
    }
    const admin = /@admin path (.+)\n\s*handle @admin \{\n\s*basic_auth \{/.exec(caddyfile);
    expect(admin?.[1].split(' ')).toEqual(
      expect.arrayContaining(['/grafana/*', '/prometheus/*', '/alertmanager/*']),
    );
    expect(caddyfile).toMatch(/handle \/metrics\* \{\s*respond 404/);
  });

  it('shell scripts are valid sh', () => {
    for (const script of ['stack/alertmanager/render-config.sh', 'stack/minio/setup.sh']) {
      const { status, output } = run('sh', ['-n', script]);
      expect(status, `${script}: ${output}`).toBe(0);
    }
  });
});
