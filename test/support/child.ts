import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `src/<script>` in its own Node process (as `npm start` does) and waits until it listens. */
export async function startServerProcess(
  env: Record<string, string>,
  script = 'src/main.ts',
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    exited.then(() => fail(new Error(`server exited:\n${out}`)));
  });
  return { child, url, output: () => out, exited };
}
