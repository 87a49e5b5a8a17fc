import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root, run } from '../../support/ops-run.ts';
import { loadYaml, loadYamlFiles } from '../../support/yaml.ts';

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}
interface UnitTestFile {
  tests: { alert_rule_test?: AlertTest[] }[];
}

const rulesFiles = readdirSync(join(root, 'alerts'))
  .filter((f) => f.endsWith('.rules.yml'))
  .map((f) => `alerts/${f}`);
const testNames = readdirSync(join(root, 'alerts/tests')).filter((f) => f.endsWith('.test.yml'));
const testFiles = testNames.map((f) => `alerts/tests/${f}`);
const rules = (loadYamlFiles(rulesFiles.map((f) => join(root, f))) as { groups: { rules: Rule[] }[] }[])
  .flatMap((file) => file.groups)
  .flatMap((g) => g.rules);
const tmp = mkdtempSync(join(tmpdir(), 'dossier-alerts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// What Prometheus does with the external label runbook_base (RUNBOOK_BASE_URL), done here for
// promtool 2.42, whose test files cannot set external labels: the alerts and their tests are copied
// to tmp/ with the label's value in place, keeping their relative paths.
const RUNBOOK_BASE = 'https://runbooks.example/operations.md';
const RUNBOOK_REF = '$externalLabels.runbook_base';
const rendered = join(tmp, 'alerts');
mkdirSync(join(rendered, 'tests'), { recursive: true });
for (const file of rulesFiles) {
  const text = readFileSync(join(root, file), 'utf8').replaceAll(RUNBOOK_REF, `\`${RUNBOOK_BASE}\``);
  writeFileSync(join(tmp, file), text);
}
for (const name of testNames) copyFileSync(join(root, 'alerts/tests', name), join(rendered, 'tests', name));
const renderedTests = testNames.map((f) => join(rendered, 'tests', f));

// GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes.
function anchors(markdown: string): Set<string> {
  const headings = markdown.match(/^#{1,6} .+$/gm) ?? [];
  return new Set(
    headings.map((h) =>
      h
        .replace(/^#+ /, '')
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

describe('alerting rules', () => {
  it('pass promtool check rules', () => {
    const { status, output } = run('promtool', ['check', 'rules', ...rulesFiles]);
    const found = [...output.matchAll(/SUCCESS: (\d+) rules found/g)].map((m) => Number(m[1]));
    expect(
      found.reduce((a, b) => a + b, 0),
      output,
    ).toBe(rules.length);
    expect(status).toBe(0);
  });

  it('pass every promtool unit test', () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const { status, output } = run('promtool', ['test', 'rules', ...renderedTests]);
    expect(output).not.toContain('FAILED');
    expect(status, output).toBe(0);
  }, 120_000);

  it('make promtool fail on a wrong expectation (the unit tests can fail)', () => {
    const file = join(tmp, 'wrong.test.yml');
    const wrong = {
      rule_files: [join(tmp, 'alerts/dossier.rules.yml')],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [{ series: 'up{job="dossier",instance="app:9464",role="api"}', values: '1x10' }],
          alert_rule_test: [
            {
              eval_time: '5m',
              alertname: 'DossierInstanceDown',
              exp_alerts: [{ exp_labels: { severity: 'critical' } }],
            },
          ],
        },
      ],
    };
    writeFileSync(file, JSON.stringify(wrong));
    const { status, output } = run('promtool', ['test', 'rules', file]);
    expect(status).not.toBe(0);
    expect(output).toContain('FAILED');
  });

  it('cover every alert asked for in the Operations issue', () => {
    const names = rules.map((r) => r.alert);
    for (const name of [
      'DossierInstanceDown',
      'DossierHighErrorRatio',
      'DossierOperationSlow',
      'DossierExtractionFailures',
      'DossierJobBacklog',
      'DossierEmailDeliveryFailing',
      'DossierEmailPermanentFailure',
      'DossierSearchEngineDown',
      'DossierDatabaseDown',
      'DossierHighMemory',
      'DossierHostDown',
      'DossierDiskFullIn24h',
      'DossierHostMemoryLow',
      'DossierContainerRestarting',
      'DossierPublicEndpointDown',
      'DossierTlsCertificateExpiring',
      'DossierPrometheusRuleFailures',
      'DossierPrometheusNotConnectedToAlertmanager',
      'DossierAlertmanagerDown',
      'DossierAlertmanagerNotificationsFailing',
      'DossierBackupTooOld',
      'Watchdog',
    ]) {
      expect(names).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('give every alert a severity, a summary, a description and a runbook_url to a section that exists', () => {
    const docAnchors = anchors(readFileSync(join(root, 'docs/operations.md'), 'utf8'));
    for (const rule of rules) {
      // Only the Watchdog, which fires all the time, is neither.
      expect(rule.labels?.severity, rule.alert).toMatch(
        rule.alert === 'Watchdog' ? /^none$/ : /^(critical|warning)$/,
      );
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      expect(rule.annotations, rule.alert).not.toHaveProperty('runbook');
      expect(rule.annotations?.runbook_url, rule.alert).toBe(
        `{{ ${RUNBOOK_REF} }}#${rule.alert.toLowerCase()}`,
      );
      expect(
        docAnchors.has(rule.alert.toLowerCase()),
        `docs/operations.md has no heading ${rule.alert}`,
      ).toBe(true);
    }
  });

  it('show every alert both firing and not firing in the unit tests', () => {
    const cases = (loadYamlFiles(testFiles.map((f) => join(root, f))) as UnitTestFile[]).flatMap((file) =>
      file.tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    for (const rule of rules) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${rule.alert} is never shown firing`,
      ).toBe(true);
      if (rule.alert === 'Watchdog') continue;
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${rule.alert} is never shown not firing`,
      ).toBe(true);
    }
  });
});

describe('alertmanager.yml', () => {
  const config = 'alerts/alertmanager.yml';
  const exampleEnv = {
    ALERT_SMTP_SMARTHOST: 'email-smtp.eu-west-1.amazonaws.com:587',
    ALERT_SMTP_USERNAME: 'AKIAEXAMPLE',
    ALERT_SMTP_PASSWORD: "pa'ss&wo\\rd",
    ALERT_EMAIL_FROM: 'alerts@example.com',
    ALERT_EMAIL_TO: 'oncall@example.com',
    ALERT_WEBHOOK_URL: 'https://hooks.example.com/services/T0/B0/x?a=1&b=2',
    ALERT_DEADMAN_URL: 'https://hc-ping.example.com/0b1c2d3e',
  };

  it('passes amtool check-config as committed', () => {
    const { status, output } = run('amtool', ['check-config', config]);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it.each([
    ['critical', 'critical'],
    ['warning', 'warning'],
  ])('routes severity=%s to the %s receiver', (severity, receiver) => {
    const { status, stdout } = run('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${config}`,
      `--verify.receivers=${receiver}`,
      'alertname=DossierInstanceDown',
      `severity=${severity}`,
    ]);
    expect(stdout.trim()).toBe(receiver);
    expect(status).toBe(0);
  });

  it('sends the Watchdog to the dead-man receiver only, and nothing else there', () => {
    const route = (labels: string[]) =>
      run('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels]).stdout.trim();
    expect(route(['alertname=Watchdog', 'severity=none'])).toBe('deadman');
    expect(route(['alertname=DossierHostDown', 'severity=critical'])).toBe('critical');
    expect(route(['alertname=DossierBackupTooOld', 'severity=critical'])).toBe('critical');
  });

  it('renders from the environment (the stack entrypoint) into a valid config holding the exact values', () => {
    const out = join(tmp, 'alertmanager.yml');
    const rendered = run('sh', ['stack/alertmanager/render-config.sh', config, out], {
      PATH: process.env.PATH,
      ...exampleEnv,
    });
    expect(rendered.status, rendered.output).toBe(0);
    const { status, output } = run('amtool', ['check-config', out]);
    expect(status, output).toBe(0);
    const parsed = loadYaml(out) as {
      global: Record<string, string>;
      receivers: { name: string; webhook_configs?: { url: string }[]; email_configs?: { to: string }[] }[];
    };
    expect(parsed.global.smtp_smarthost).toBe(exampleEnv.ALERT_SMTP_SMARTHOST);
    expect(parsed.global.smtp_auth_password).toBe(exampleEnv.ALERT_SMTP_PASSWORD);
    expect(parsed.global.smtp_from).toBe(exampleEnv.ALERT_EMAIL_FROM);
    const deadman = parsed.receivers.find((r) => r.name === 'deadman');
    expect(deadman?.webhook_configs?.[0]?.url).toBe(exampleEnv.ALERT_DEADMAN_URL);
    const critical = parsed.receivers.find((r) => r.name === 'critical');
    expect(critical?.webhook_configs?.[0]?.url).toBe(exampleEnv.ALERT_WEBHOOK_URL);
    expect(critical?.email_configs?.[0]?.to).toBe(exampleEnv.ALERT_EMAIL_TO);
    const settings = readFileSync(out, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'));
    expect(settings.join('\n')).not.toContain('.invalid');
  });

  it('refuses to render when a variable is missing, naming it', () => {
    const { ALERT_WEBHOOK_URL: _omitted, ...partial } = exampleEnv;
    const { status, output } = run(
      'sh',
      ['stack/alertmanager/render-config.sh', config, join(tmp, 'partial.yml')],
      {
        PATH: process.env.PATH,
        ...partial,
      },
    );
    expect(status).not.toBe(0);
    expect(output).toContain('ALERT_WEBHOOK_URL is not set');
  });
});
