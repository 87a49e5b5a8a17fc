import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { root } from '../../support/ops-run.ts';
import { loadYaml } from '../../support/yaml.ts';

// hcl2json's shape: every block is { type: { name: [ { ...attributes } ] } }, nested blocks are arrays.
type Body = Record<string, unknown>;
type Blocks = Record<string, Record<string, Body[]>>;
interface Module {
  resource: Blocks;
  data: Blocks;
  variable: Record<string, Body[]>;
  output: Record<string, Body[]>;
  locals: Body;
  moved: { from: string; to: string }[];
}

const dir = join(root, 'iac');
const files = readdirSync(dir).filter((f) => f.endsWith('.tf'));
const tf: Module = { resource: {}, data: {}, variable: {}, output: {}, locals: {}, moved: [] };
const perFile = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  for (const file of files) {
    const parsed = (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Record<string, unknown>;
    perFile.set(file, parsed);
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, named] of Object.entries((parsed[kind] ?? {}) as Blocks)) {
        tf[kind][type] = { ...tf[kind][type], ...named };
      }
    }
    for (const kind of ['variable', 'output'] as const) Object.assign(tf[kind], parsed[kind] ?? {});
    for (const locals of (parsed.locals ?? []) as Body[]) Object.assign(tf.locals, locals);
    tf.moved.push(...((parsed.moved ?? []) as Module['moved']));
  }
});

/** A Terraform reference as hcl2json prints it: `${expr}`. */
const tfRef = (expr: string) => `\${${expr}}`;

function all(kind: 'resource' | 'data', type: string): [string, Body][] {
  return Object.entries(tf[kind][type] ?? {}).map(([name, bodies]) => [name, bodies[0]]);
}
function one(kind: 'resource' | 'data', type: string): Body {
  const found = all(kind, type);
  expect(found.length, `${kind} ${type}`).toBeGreaterThan(0);
  return found[0][1];
}
function block(body: Body, name: string): Body {
  const nested = body[name] as Body[] | undefined;
  expect(nested?.length, name).toBeGreaterThan(0);
  return (nested ?? [{}])[0];
}

describe('iac/ (Terraform, parsed with @cdktf/hcl2json)', () => {
  it('has the files asked for, each parsing', () => {
    for (const file of [
      'versions.tf',
      'variables.tf',
      'network.tf',
      'security.tf',
      'compute.tf',
      'database.tf',
      'storage.tf',
      'ses.tf',
      'iam.tf',
      'outputs.tf',
    ]) {
      expect(perFile.has(file), file).toBe(true);
    }
  });

  it('reports a syntax error with the file name (the parser really checks)', async () => {
    await expect(parse('broken.tf', 'resource "aws_s3_bucket" "x" {\n  bucket = \n')).rejects.toThrow(
      /broken\.tf/,
    );
  });

  it('pins Terraform and its providers', () => {
    const terraform = ((perFile.get('versions.tf')?.terraform ?? [{}]) as Body[])[0];
    expect(terraform.required_version).toMatch(/^>= ?1\.\d+/);
    const providers = (terraform.required_providers as Body[])[0] as Record<
      string,
      { source: string; version: string }
    >;
    expect(providers.aws.source).toBe('hashicorp/aws');
    expect(providers.aws.version).toMatch(/^~> ?\d/);
  });

  it('gives every variable and every output a description (and every variable a type)', () => {
    expect(Object.keys(tf.variable).length).toBeGreaterThan(5);
    for (const [name, [body]] of Object.entries(tf.variable)) {
      expect(String(body.description ?? '').length, `variable ${name}`).toBeGreaterThan(10);
      expect(body.type, `variable ${name}`).toBeDefined();
    }
    expect(Object.keys(tf.output).length).toBeGreaterThan(3);
    for (const [name, [body]] of Object.entries(tf.output)) {
      expect(String(body.description ?? '').length, `output ${name}`).toBeGreaterThan(10);
    }
  });

  it('marks secret variables sensitive and hard-codes no secret', () => {
    for (const name of ['admin_ui_password_hash', 'alert_smtp_password', 'alert_webhook_url']) {
      expect(tf.variable[name]?.[0].sensitive, name).toBe(true);
    }
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toMatch(/(password|secret|token)\s*=\s*"[^"$]+"/i);
      expect(text, file).not.toMatch(/AKIA[0-9A-Z]{16}/);
    }
  });

  it('keeps every bucket private: public access block all true, owner-enforced, SSE, TLS only; documents versioned', () => {
    // One hardening block per kind, over local.buckets, which names every bucket.
    const buckets = all('resource', 'aws_s3_bucket').map(([name]) => name);
    expect(buckets.sort()).toEqual(['backups', 'documents']);
    expect(tf.locals.buckets).toEqual(
      Object.fromEntries(buckets.map((b) => [b, tfRef(`aws_s3_bucket.${b}`)])),
    );
    const hardening = (kind: 'resource' | 'data', type: string, name?: string) => {
      const [[, body], ...more] = all(kind, type).filter(([n]) => !name || n === name);
      expect(more, `${type}: one block`).toEqual([]);
      expect(body?.for_each, `${type} covers every bucket`).toBe(tfRef('local.buckets'));
      return body!;
    };
    const block4 = hardening('resource', 'aws_s3_bucket_public_access_block');
    for (const key of [
      'block_public_acls',
      'block_public_policy',
      'ignore_public_acls',
      'restrict_public_buckets',
    ]) {
      expect(block4[key], key).toBe(true);
    }
    expect(block(hardening('resource', 'aws_s3_bucket_ownership_controls'), 'rule').object_ownership).toBe(
      'BucketOwnerEnforced',
    );
    for (const [, bucket] of all('resource', 'aws_s3_bucket')) {
      expect(bucket.acl).toBeUndefined();
      expect(bucket.force_destroy ?? false).toBe(false);
    }
    expect(all('resource', 'aws_s3_bucket_acl')).toEqual([]);
    const sse = hardening('resource', 'aws_s3_bucket_server_side_encryption_configuration');
    const algorithm = block(block(sse, 'rule'), 'apply_server_side_encryption_by_default').sse_algorithm;
    expect(['AES256', 'aws:kms', 'aws:kms:dsse']).toContain(algorithm);
    const versioning = tf.resource.aws_s3_bucket_versioning?.documents?.[0] ?? {};
    expect(block(versioning, 'versioning_configuration').status).toBe('Enabled');
    const tlsOnly = hardening('data', 'aws_iam_policy_document', 'tls_only');
    const statement = block(tlsOnly, 'statement');
    expect(statement.effect).toBe('Deny');
    expect(statement.resources).toEqual([tfRef('each.value.arn'), `${tfRef('each.value.arn')}/*`]);
    expect(block(statement, 'condition')).toMatchObject({
      variable: 'aws:SecureTransport',
      values: ['false'],
    });
    expect(hardening('resource', 'aws_s3_bucket_policy').policy).toBe(
      tfRef('data.aws_iam_policy_document.tls_only[each.key].json'),
    );
  });

  it('moves the state of the per-bucket blocks they replaced (nothing destroyed on apply)', () => {
    const moves = new Map(tf.moved.map((m) => [m.from, m.to]));
    for (const bucket of ['documents', 'backups'])
      for (const [type, name] of [
        ['aws_s3_bucket_public_access_block', 'private'],
        ['aws_s3_bucket_ownership_controls', 'private'],
        ['aws_s3_bucket_server_side_encryption_configuration', 'private'],
        ['aws_s3_bucket_policy', 'tls_only'],
      ])
        expect(moves.get(tfRef(`${type}.${bucket}`)), `${type}.${bucket}`).toBe(
          tfRef(`${type}.${name}["${bucket}"]`),
        );
  });

  it('keeps the database encrypted, backed up, private and in private subnets', () => {
    const db = one('resource', 'aws_db_instance');
    expect(db.storage_encrypted).toBe(true);
    expect(db.publicly_accessible).toBe(false);
    expect(db.skip_final_snapshot).toBe(false);
    const retention = db.backup_retention_period;
    if (typeof retention === 'number') expect(retention).toBeGreaterThan(0);
    else {
      expect(retention).toBe(tfRef('var.db_backup_retention_days'));
      const variable = tf.variable.db_backup_retention_days[0];
      expect(variable.default as number).toBeGreaterThan(0);
      expect(JSON.stringify(variable.validation)).toContain('var.db_backup_retention_days >= 1');
    }
    expect(db.password, 'generated, never a literal').toMatch(/^\$\{random_password\./);
    const subnets = one('resource', 'aws_db_subnet_group');
    expect(subnets.subnet_ids).toBe(tfRef('aws_subnet.private[*].id'));
    const privateSubnet = tf.resource.aws_subnet.private[0];
    expect(privateSubnet.map_public_ip_on_launch ?? false).toBe(false);
    const routes = tf.resource.aws_route_table.private[0];
    expect(routes.route, 'private subnets have no route out').toBeUndefined();
    const params = (one('resource', 'aws_db_parameter_group').parameter as Body[]).map((p) => [
      p.name,
      p.value,
    ]);
    expect(params).toContainEqual(['rds.force_ssl', '1']);
  });

  it('encrypts the host disk and requires IMDSv2 within two hops', () => {
    const host = one('resource', 'aws_instance');
    expect(block(host, 'root_block_device').encrypted).toBe(true);
    const metadata = block(host, 'metadata_options');
    expect(metadata.http_tokens).toBe('required');
    // Two: a container's request is one hop more; the host's firewall picks which containers.
    expect(metadata.http_put_response_hop_limit).toBeLessThanOrEqual(2);
  });

  it('keeps the host across releases: user data and the AMI are ignored after creation', () => {
    const host = one('resource', 'aws_instance');
    expect(host.user_data_replace_on_change ?? false).toBe(false);
    expect(block(host, 'lifecycle').ignore_changes).toEqual(
      expect.arrayContaining([tfRef('user_data'), tfRef('ami')]),
    );
  });

  it('deploys a release in place: app_ref is an SSM association parameter that runs stack/deploy.sh', () => {
    const association = one('resource', 'aws_ssm_association');
    expect(association.name).toBe(tfRef('aws_ssm_document.deploy.name'));
    expect(association.parameters).toEqual({ version: tfRef('var.app_ref') });
    expect(block(association, 'targets').values).toEqual([tfRef('aws_instance.host.id')]);
    const text = readFileSync(join(dir, 'deploy.tf'), 'utf8');
    expect(text).toMatch(/allowedPattern\s*=\s*"\^\[A-Za-z0-9\._-\]\+\$"/);
    expect(text).toContain(`"stack/deploy.sh '{{ version }}'"`);
    expect(existsSync(join(root, 'stack/deploy.sh'))).toBe(true);
  });

  it('lets only the egress network of app, worker and backup reach instance metadata', () => {
    const userData = readFileSync(join(dir, 'user-data.sh.tftpl'), 'utf8');
    expect(userData).toContain(
      `iptables -I DOCKER-USER -d 169.254.169.254/32 ! -s ${tfRef('egress_subnet')} -j REJECT`,
    );
    const deploy = readFileSync(join(dir, 'deploy.tf'), 'utf8');
    const subnet = /egress_subnet = "([^"]+)"/.exec(deploy)?.[1];
    const compose = loadYaml(join(root, 'stack/docker-compose.yml')) as {
      networks: { egress: { ipam: { config: { subnet: string }[] } } };
    };
    expect(compose.networks.egress.ipam.config[0].subnet).toBe(subnet);
    expect(readFileSync(join(dir, 'compute.tf'), 'utf8')).toMatch(/egress_subnet\s+= local\.egress_subnet/);
  });

  it('gives S3 to the instance role, and no IAM user or access key exists', () => {
    expect(all('resource', 'aws_iam_user')).toEqual([]);
    expect(all('resource', 'aws_iam_access_key')).toEqual([]);
    const host = tf.data.aws_iam_policy_document.host[0];
    const objects = (host.statement as Body[]).find((st) => st.sid === 'Objects');
    expect(objects?.resources).toEqual(
      ['documents', 'backups'].map((b) => `${tfRef(`aws_s3_bucket.${b}.arn`)}/*`),
    );
    const secrets = readFileSync(join(dir, 'secrets.tf'), 'utf8');
    expect(secrets).not.toMatch(/S3_ACCESS_KEY|S3_SECRET_KEY/);
  });

  it('opens no ingress to the internet except ports 80 and 443', () => {
    const ingress: { where: string; cidrs: string[]; from: unknown; to: unknown }[] = [];
    for (const [name, rule] of all('resource', 'aws_vpc_security_group_ingress_rule')) {
      ingress.push({
        where: name,
        cidrs: [rule.cidr_ipv4, rule.cidr_ipv6].filter(Boolean) as string[],
        from: rule.from_port,
        to: rule.to_port,
      });
    }
    for (const [name, rule] of all('resource', 'aws_security_group_rule')) {
      if (rule.type !== 'ingress') continue;
      const cidrs = [
        ...((rule.cidr_blocks as string[]) ?? []),
        ...((rule.ipv6_cidr_blocks as string[]) ?? []),
      ];
      ingress.push({ where: name, cidrs, from: rule.from_port, to: rule.to_port });
    }
    for (const [name, group] of all('resource', 'aws_security_group')) {
      for (const rule of (group.ingress as Body[]) ?? []) {
        const cidrs = [
          ...((rule.cidr_blocks as string[]) ?? []),
          ...((rule.ipv6_cidr_blocks as string[]) ?? []),
        ];
        ingress.push({ where: `${name} (inline)`, cidrs, from: rule.from_port, to: rule.to_port });
      }
    }
    expect(ingress.length).toBeGreaterThan(0);
    for (const rule of ingress) {
      for (const cidr of rule.cidrs)
        expect(cidr, `${rule.where} uses an unresolved CIDR`).not.toMatch(/\$\{/);
      if (rule.cidrs.some((c) => c === '0.0.0.0/0' || c === '::/0')) {
        expect([80, 443], `${rule.where} opens ${rule.from}-${rule.to} to the internet`).toContain(rule.from);
        expect(rule.to, rule.where).toBe(rule.from);
      }
    }
    const db = tf.resource.aws_vpc_security_group_ingress_rule.db_from_host[0];
    expect(db.referenced_security_group_id).toBe(tfRef('aws_security_group.host.id'));
  });

  it('grants no wildcard action and no wildcard principal in any Allow statement', () => {
    const documents = all('data', 'aws_iam_policy_document');
    expect(documents.length).toBeGreaterThan(0);
    for (const [name, document] of documents) {
      for (const statement of document.statement as Body[]) {
        if (statement.effect === 'Deny') continue;
        expect(statement.effect ?? 'Allow', name).toBe('Allow');
        expect(statement.not_actions, name).toBeUndefined();
        for (const action of statement.actions as string[]) expect(action, name).not.toContain('*');
        for (const p of (statement.principals as Body[]) ?? []) {
          expect(p.identifiers as string[], name).not.toContain('*');
        }
        for (const resource of (statement.resources as string[]) ?? []) expect(resource, name).not.toBe('*');
      }
    }
    for (const file of files) {
      // Inline JSON policies would escape the check above.
      expect(readFileSync(join(dir, file), 'utf8'), file).not.toMatch(/jsonencode\(\s*\{[^}]*Statement/);
    }
  });

  it('limits S3 to the documents and backups buckets and SES to the one identity', () => {
    const statements = all('data', 'aws_iam_policy_document').flatMap(([, d]) => d.statement as Body[]);
    for (const statement of statements.filter((s) => s.effect === 'Allow')) {
      const actions = statement.actions as string[];
      const resources = (statement.resources as string[]) ?? [];
      if (actions.some((a) => a.startsWith('s3:'))) {
        for (const r of resources)
          expect(r).toMatch(/^\$\{aws_s3_bucket\.(documents|backups)\.arn\}(\/\*)?$/);
      }
      if (actions.some((a) => a.startsWith('ses:'))) {
        expect(actions.sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
        expect(resources).toEqual([tfRef('aws_ses_domain_identity.mail.arn')]);
      }
    }
    expect(one('resource', 'aws_ses_domain_dkim').domain).toBe(tfRef('aws_ses_domain_identity.mail.domain'));
  });

  it('boots a host whose .env provides every variable the stack requires', () => {
    const userData = readFileSync(join(dir, 'user-data.sh.tftpl'), 'utf8');
    const written = new Set([...userData.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    const secrets = readFileSync(join(dir, 'secrets.tf'), 'utf8');
    for (const m of secrets.matchAll(/"([A-Z][A-Z0-9_]+)"/g)) written.add(m[1]);
    const compose = readFileSync(join(root, 'stack/docker-compose.yml'), 'utf8');
    const required = new Set([...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]));
    expect([...required].filter((v) => !written.has(v)).sort()).toEqual([]);
    // Template variables are all passed by compute.tf.
    const passed = new Set(
      [...readFileSync(join(dir, 'compute.tf'), 'utf8').matchAll(/^\s{4}([a-z_]+)\s+=/gm)].map((m) => m[1]),
    );
    const used = new Set([...userData.matchAll(/(?<!\$)\$\{([a-z_]+)\}/g)].map((m) => m[1]));
    expect([...used].filter((v) => !passed.has(v)).sort()).toEqual([]);
    expect(userData).not.toMatch(/PASSWORD=\S|TOKEN=\S|SECRET_KEY=\S/);
  });
});
