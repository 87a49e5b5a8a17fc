// The server exactly as `npm start` runs it: its prestart build into dist/, then package.json's start
// command (its environment included). No test runner imports here: bench/ uses it too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `npm start` as package.json's start script says: the environment it sets before `node`, and the
 * arguments it gives node (the built entry point).
 */
export function startCommand(): { env: Record<string, string>; args: string[] } {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  const env: Record<string, string> = {};
  for (let w = words[0]; w && /^[A-Z_]+=/.test(w); words.shift(), w = words[0]) {
    const eq = w.indexOf('=');
    env[w.slice(0, eq)] = w.slice(eq + 1);
  }
  const [program, ...args] = words;
  if (program !== 'node') throw new Error(`package.json's start script does not run node: ${program}`);
  return { env, args };
}

let built = false;
/** `npm run build` (npm start's prestart), once per process: what runs is what the sources say now. */
export function buildServer(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}
