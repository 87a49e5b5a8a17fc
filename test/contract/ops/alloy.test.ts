import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { root } from '../../support/ops-run.ts';

// No Alloy binary is installable here. Alloy's syntax is HCL with dotted block names
// (`loki.write "name" { ... }`): with the dots of block names replaced, hcl2json parses the file,
// so a syntax error fails here with a line number.
type Block = Record<string, unknown>;
type Config = Record<string, Record<string, Block[]>>;

const file = 'stack/alloy/config.alloy';
const text = readFileSync(join(root, file), 'utf8');
const SEP = '__';

function parseAlloy(source: string): Promise<Config> {
  const hcl = source.replace(
    /^(\s*)([a-z_]+(?:\.[a-z_]+)+)(?=\s+(?:"[^"]*"\s*)?\{)/gm,
    (_, indent: string, name: string) => indent + name.replaceAll('.', SEP),
  );
  return parse(file, hcl) as Promise<Config>;
}

let config: Config;
beforeAll(async () => {
  config = await parseAlloy(text);
});

/** Every `${component.kind.name.export}` reference in the parsed tree. */
function references(value: unknown): string[] {
  if (typeof value === 'string') return [...value.matchAll(/\$\{([a-z_.]+)\}/g)].map((m) => m[1]);
  if (Array.isArray(value)) return value.flatMap(references);
  if (value && typeof value === 'object') return Object.values(value).flatMap(references);
  return [];
}

const declared = (kind: string, name: string) => config[kind.replaceAll('.', SEP)]?.[name]?.[0] !== undefined;
function component(kind: string, name: string): Block {
  const block = config[kind.replaceAll('.', SEP)]?.[name]?.[0];
  if (!block) throw new Error(`no ${kind} "${name}" in ${file}`);
  return block;
}
/** A reference as hcl2json prints it: `${expr}`. */
const ref = (expr: string) => `\${${expr}}`;

describe(file, () => {
  it('parses, and a broken file does not', async () => {
    expect(Object.keys(config).length).toBeGreaterThan(3);
    await expect(parseAlloy('loki.write "x" {\n  endpoint {\n    url = \n')).rejects.toThrow(/config\.alloy/);
  });

  it('reads the containers from the Docker socket the service mounts read-only', () => {
    const compose = readFileSync(join(root, 'stack/docker-compose.yml'), 'utf8');
    expect(compose).toMatch(/\.\/alloy\/config\.alloy:\/etc\/alloy\/config\.alloy:ro/);
    expect(compose).toMatch(/\/var\/run\/docker\.sock:\/var\/run\/docker\.sock:ro/);
    expect(component('discovery.docker', 'containers').host).toBe('unix:///var/run/docker.sock');
    expect(component('loki.source.docker', 'containers').host).toBe('unix:///var/run/docker.sock');
  });

  it('refers only to components it declares', () => {
    for (const reference of references(config)) {
      const parts = reference.split('.');
      const found = [2, 3].some((n) => declared(parts.slice(0, n).join('.'), parts[n]));
      expect(found, `${reference} names no component`).toBe(true);
    }
  });

  it('ships container lines through the level stage to Loki, labelled as Promtail did', () => {
    const source = component('loki.source.docker', 'containers');
    expect(source.forward_to).toEqual([ref('loki.process.dossier.receiver')]);
    expect(source.relabel_rules).toBe(ref('discovery.relabel.containers.rules'));
    const rules = (component('discovery.relabel', 'containers').rule as Block[]).map((r) => r.target_label);
    expect(rules).toEqual(['compose_service', 'compose_project', 'container']);
    const processing = component('loki.process', 'dossier');
    expect(processing.forward_to).toEqual([ref('loki.write.loki.receiver')]);
    const match = (processing[`stage${SEP}match`] as Block[])[0];
    expect(match.selector).toContain('app|worker');
    expect((match[`stage${SEP}labels`] as Block[])[0].values).toEqual({ level: '' });
    const endpoint = (component('loki.write', 'loki').endpoint as Block[])[0];
    expect(endpoint.url).toBe('http://loki:3100/loki/api/v1/push');
  });
});
