import { describe, expect, it } from 'vitest';
import {
  cpuDeadline,
  type Expiry,
  processCpuMs,
  StarvedError,
  wallLimitMs,
} from '../../../src/services/extraction/cpu-deadline.ts';

/** Runs a deadline of `limitMs` over `cpuMs`, and answers why it expired and after how long (or null). */
function expiry(limitMs: number, cpuMs: () => number | null, waitMs: number) {
  return new Promise<{ why: Expiry; afterMs: number } | null>((resolve) => {
    const started = performance.now();
    const cancel = cpuDeadline(limitMs, cpuMs, (why) =>
      resolve({ why, afterMs: performance.now() - started }),
    );
    setTimeout(() => {
      cancel();
      resolve(null);
    }, waitMs);
  });
}

/** A CPU clock that runs at `share` of wall time from now. */
function clock(share: number) {
  const started = performance.now();
  return () => (performance.now() - started) * share;
}

describe('cpuDeadline', () => {
  it('expires as cpu once the work has used its limit of CPU, waiting time not counted', async () => {
    // At half a core, 300 ms of CPU take about 600 ms of wall time.
    const result = await expiry(300, clock(0.5), 3000);
    expect(result?.why).toBe('cpu');
    expect(result?.afterMs).toBeGreaterThanOrEqual(590);
    expect(result?.afterMs).toBeLessThan(1000);
  });

  it('expires as wall, starved, after three times its limit (at least a second) without that much CPU', async () => {
    expect(wallLimitMs(500)).toBe(1500);
    expect(wallLimitMs(1)).toBe(1000);
    const result = await expiry(500, clock(0.1), 3000);
    expect(result?.why).toBe('wall');
    expect(result?.afterMs).toBeGreaterThanOrEqual(1500);
    expect(new StarvedError('Extraction', 500).message).toBe(
      'Extraction got less than 500 ms of CPU in 1500 ms',
    );
  });

  it('counts wall time as CPU where the CPU time cannot be read', async () => {
    const result = await expiry(200, () => null, 2000);
    expect(result?.why).toBe('cpu');
    expect(result?.afterMs).toBeLessThan(600);
  });

  it('stops checking once the process has ended (its owner hears of that itself), and can be cancelled', async () => {
    let ended = false;
    setTimeout(() => {
      ended = true;
    }, 100);
    expect(await expiry(200, () => (ended ? null : 0), 1500)).toBeNull();
    expect(await expiry(200, clock(1), 0)).toBeNull();
  });

  it('reads a process CPU time from /proc: this process has used some, an ended one has none', () => {
    const own = processCpuMs(process.pid);
    expect(own).toBeGreaterThan(0);
    expect(processCpuMs(2 ** 22 + 1)).toBeNull();
  });
});
