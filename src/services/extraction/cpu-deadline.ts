// Time limits for background work counted in CPU time. The extraction processes run at idle priority,
// so on a busy host a document may wait for the CPU: waiting must not count as the file's fault.
import { readFileSync } from 'node:fs';

/** Linux's clock ticks per second for /proc's CPU times (USER_HZ, 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/**
 * Wall time a task may take, as a multiple of its CPU limit, before it is given up as starved:
 * room for load bursts twice as long as the work itself.
 */
export const WALL_FACTOR = 3;

/**
 * CPU milliseconds process `pid` has used (all its threads, and its children it has waited for),
 * from /proc; null where there is no /proc or the process has ended.
 */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name, which ends at the last ')': utime, stime, cutime, cstime are the 12th to 15th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

export type Expiry = 'cpu' | 'wall';

/**
 * Calls `expired` once, when `cpuMs()` has grown by `limitMs` since this call ('cpu': the work itself
 * took too long) or when `limitMs * WALL_FACTOR` of wall time have passed first ('wall': it was
 * starved of CPU). Where `cpuMs()` answers null, wall time stands in for CPU time. Returns a cancel.
 */
export function cpuDeadline(
  limitMs: number,
  cpuMs: () => number | null,
  expired: (why: Expiry) => void,
): () => void {
  const startCpu = cpuMs();
  const startWall = performance.now();
  const wallLimit = limitMs * WALL_FACTOR;
  let timer: NodeJS.Timeout;
  const check = () => {
    const now = cpuMs();
    const used = startCpu === null || now === null ? null : now - startCpu;
    const wall = performance.now() - startWall;
    if (used === null || used >= limitMs) return expired('cpu');
    if (wall >= wallLimit) return expired('wall');
    // The CPU still allowed can be used no sooner than that much wall time from now.
    arm(Math.min(limitMs - used, wallLimit - wall));
  };
  const arm = (ms: number) => {
    timer = setTimeout(check, Math.max(50, ms));
  };
  arm(limitMs);
  return () => clearTimeout(timer);
}
