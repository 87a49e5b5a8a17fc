// The server exactly as `npm start` runs it: its prestart build into dist/, then package.json's start
// command (V8 flags included). No test runner imports here: bench/ uses it too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The arguments `npm start` gives node (after `node`): V8 flags and the built entry point. */
export function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: { start: string } };
  const [program, ...args] = pkg.scripts.start.split(/\s+/);
  if (program !== 'node') throw new Error(`package.json's start script does not run node: ${program}`);
  return args;
}

let built = false;
/** `npm run build` (npm start's prestart), once per process: what runs is what the sources say now. */
export function buildServer(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}
