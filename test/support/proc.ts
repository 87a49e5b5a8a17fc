// What tests and benches read about processes from Linux's /proc, and their temp dirs. No test runner
// here, and of the server only its /proc reader (a leaf module): bench/ uses it too.
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { procStatFields, TICKS_PER_SECOND } from '../../src/services/shared/proc-stat.ts';

/** A throwaway dir readable by the embedded PostgreSQL's user (it runs as its own user when we are root). */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}

/** `/proc/<pid>/status` fields in KiB: VmRSS and VmHWM (the peak since the last reset). */
export function memoryKiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux clear_refs), so the next peak belongs to what follows. */
export const resetPeak = (pid: number) => writeFile(`/proc/${pid}/clear_refs`, '5');

/**
 * A process's parent and CPU seconds from /proc/<pid>/stat (`reaped`: its waited-for children's too);
 * null once it has ended.
 */
export function processStat(
  pid: number,
): { ppid: number; cpuSeconds: number; reapedCpuSeconds: number } | null {
  const f = procStatFields(pid);
  if (!f) return null;
  return {
    ppid: f[1]!,
    cpuSeconds: (f[11]! + f[12]!) / TICKS_PER_SECOND,
    reapedCpuSeconds: (f[13]! + f[14]!) / TICKS_PER_SECOND,
  };
}

/** Every running process id, from /proc. */
export const processIds = () => readdirSync('/proc').flatMap((e) => (/^\d+$/.test(e) ? [Number(e)] : []));

/** The processes started by `pid`, their children and so on. */
export function descendantPids(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of processIds()) {
    const ppid = processStat(p)?.ppid;
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), p]);
  }
  const found: number[] = [];
  for (const stack = [...(children.get(pid) ?? [])]; stack.length > 0; ) {
    const p = stack.pop()!;
    found.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return found;
}

/** The command line of process `pid`, arguments separated by spaces ('' once it has ended). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}
