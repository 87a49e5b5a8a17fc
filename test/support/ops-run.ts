import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root; the ops tools run from there so paths match the docs. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RunResult {
  status: number | null;
  /** stdout and stderr together, for assertion messages. */
  output: string;
  stdout: string;
}

/** Runs a Debian tool synchronously from the repository root; stdout and stderr come back together. */
export function run(command: string, args: string[], env?: NodeJS.ProcessEnv): RunResult {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    env: env ?? process.env,
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}
