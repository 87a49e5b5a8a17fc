import { execFileSync } from 'node:child_process';

// No YAML package is installed for Node; PyYAML ships with Debian's docker-compose, which these tests need anyway.
const loader = [
  'import json, sys, yaml',
  'docs = [yaml.safe_load(open(p)) for p in sys.argv[1:]] if len(sys.argv) > 1 else [yaml.safe_load(sys.stdin)]',
  'print(json.dumps(docs, default=str))',
].join('\n');

function runLoader(args: string[], input?: string): unknown[] {
  const out = execFileSync('python3', ['-c', loader, ...args], { encoding: 'utf8', input });
  return JSON.parse(out) as unknown[];
}

/** Parses YAML files (YAML 1.1, as PyYAML's safe_load reads it) in one python3 call. */
export function loadYamlFiles(paths: string[]): unknown[] {
  return paths.length === 0 ? [] : runLoader(paths);
}

/** Parses one YAML file. */
export function loadYaml(path: string): unknown {
  return runLoader([path])[0];
}

/** Parses YAML text, e.g. the output of `docker-compose config`. */
export function parseYaml(text: string): unknown {
  return runLoader([], text)[0];
}
