// Time limits for background work counted in CPU time. The extraction processes run at idle priority,
// so on a busy host a document may wait for the CPU: waiting must not count as the file's fault.
import { procStatFields, TICKS_PER_SECOND } from '../shared/proc-stat.ts';

/**
 * Wall time a task may take before it is given up as starved: three times its CPU limit, room for
 * load bursts twice as long as the work itself, and at least a second (/proc counts in 10 ms ticks).
 */
export const wallLimitMs = (limitMs: number) => Math.max(3 * limitMs, 1000);

/**
 * CPU milliseconds process `pid` has used (all its threads, and its children it has waited for),
 * from /proc; null where there is no /proc or the process has ended.
 */
export function processCpuMs(pid: number): number | null {
  const f = procStatFields(pid);
  if (!f) return null;
  const ticks = f[11]! + f[12]! + f[13]! + f[14]!;
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : null;
}

export type Expiry = 'cpu' | 'wall';

/** Work given up because it did not get the CPU in time: the host's fault, not the file's; worth a retry. */
export class StarvedError extends Error {
  constructor(what: string, limitMs: number) {
    super(`${what} got less than ${limitMs} ms of CPU in ${wallLimitMs(limitMs)} ms`);
  }
}

/**
 * Calls `expired` once, when `cpuMs()` has grown by `limitMs` since this call ('cpu': the work itself
 * took too long) or when `wallLimitMs(limitMs)` of wall time have passed first ('wall': it was
 * starved of CPU). Where `cpuMs()` cannot tell from the start (no /proc), wall time at `limitMs`
 * counts as CPU; once it cannot tell (the process ended), checking stops: its owner hears of the
 * end. Returns a cancel.
 */
export function cpuDeadline(
  limitMs: number,
  cpuMs: () => number | null,
  expired: (why: Expiry) => void,
): () => void {
  const startCpu = cpuMs();
  const startWall = performance.now();
  const wallLimit = wallLimitMs(limitMs);
  let timer: NodeJS.Timeout;
  const check = () => {
    if (startCpu === null) return expired('cpu');
    const now = cpuMs();
    if (now === null) return;
    const wall = performance.now() - startWall;
    if (now - startCpu >= limitMs) return expired('cpu');
    if (wall >= wallLimit) return expired('wall');
    // The CPU still allowed can be used no sooner than that much wall time from now.
    arm(Math.min(limitMs - (now - startCpu), wallLimit - wall));
  };
  const arm = (ms: number) => {
    timer = setTimeout(check, Math.max(50, ms));
  };
  arm(limitMs);
  return () => clearTimeout(timer);
}
