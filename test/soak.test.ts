// Soak: 100k operations through one executor (inline, background, failing, cancelled, 1k in
// flight) and 1k concurrent waits on one operation, in a child process with --expose-gc. After
// retention the heap is back within 10% of its baseline, and after stop() the child exits on its
// own: no timer or handle of the executor's is left.
import { describe, expect, it } from 'vitest';
import { runFixture } from './helpers.js';

interface SoakReport {
  operations: number;
  statuses: Record<string, number>;
  waiters: { woke: number; completed: number };
  baseline: number;
  peak: number;
  after: number;
  live: number;
  retained: number;
  expired: number;
  elapsedMs: number;
}

describe('soak', () => {
  it('100k operations and 1k waiters on one: every one answered, memory returns, the process exits', async () => {
    // Exiting by itself is the check that nothing was left running: the child never calls exit.
    const { code, stdout, stderr } = await runFixture('soak-child.ts', ['--expose-gc']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as SoakReport;
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
    console.log(
      `soak: ${report.operations} operations in ${Math.round(report.elapsedMs)} ms; heap ${mib(report.baseline)} ` +
        `before, ${mib(report.peak)} at the peak, ${mib(report.after)} after retention ` +
        `(${(((report.after - report.baseline) / report.baseline) * 100).toFixed(1)}%)`,
    );
    expect(report.statuses).toEqual({ completed: 50_000, failed: 25_000, cancelled: 25_000 });
    expect(report.waiters).toEqual({ woke: 1000, completed: 1000 });
    expect(report.expired).toBe(report.retained);
    expect(report.live).toBe(0);
    expect(report.after).toBeLessThanOrEqual(report.baseline * 1.1);
  }, 120_000);
});
