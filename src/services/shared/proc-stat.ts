// Linux's /proc/<pid>/stat, read by the extraction's CPU-time limits (and by the tests and benches).
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every mainstream kernel). */
export const TICKS_PER_SECOND = 100;

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces and ends at the last
 * ')'), as numbers: ppid is [1], utime..cstime are [11]..[14]. Null where there is no /proc or the
 * process has ended.
 */
export function procStatFields(pid: number): number[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  } catch {
    return null;
  }
}
