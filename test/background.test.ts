import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor } from '../src/index.js';
import { expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  vi.useRealTimers();
  await executor?.stop();
});

/** Runs `count` operations of `type` that each take `ms` (fake time). */
async function teach(type: string, ms: number, count: number) {
  for (let i = 0; i < count; i++) {
    const pending = executor.execute(() => new Promise((resolve) => setTimeout(resolve, ms, i)), {
      type,
      waitMs: 0,
    });
    const id = expectStatus(await pending, 'running').id;
    await vi.advanceTimersByTimeAsync(ms);
    expectStatus(await executor.continue(id, { waitMs: 0 }), 'completed');
  }
}

describe("smart background mode (background: 'auto')", () => {
  it('learns per type how long runs take: count, median, p90', async () => {
    vi.useFakeTimers();
    executor = new Executor();
    await teach('render', 10_000, 4);
    await teach('render', 20_000, 1);
    await teach('thumbnail', 50, 2);
    expect(executor.estimates('render')).toEqual([
      { type: 'render', count: 5, p50Ms: 10_000, p90Ms: 20_000 },
    ]);
    expect(
      executor
        .estimates()
        .map((e) => e.type)
        .sort(),
    ).toEqual(['render', 'thumbnail']);
    expect(executor.estimates('never-ran')).toEqual([]);
  });

  it('answers running at once when the learned median outlives the wait, and says why', async () => {
    vi.useFakeTimers();
    executor = new Executor({ defaultWaitMs: 1000 });
    await teach('render', 10_000, 3);
    // No time passes: only the decision to background can answer this.
    const result = expectStatus(
      await executor.execute(() => never(), { type: 'render', background: 'auto' }),
      'running',
    );
    expect(result.elapsedMs).toBe(0);
    expect(result.backgroundReason).toBe(
      'expected to take about 10.0 s (the median of the last 3 "render" runs), longer than the 1.0 s wait',
    );
    expect(result.message).toContain('Sent to the background at once');
    expect(result.etaMs).toBe(10_000); // the learned median feeds the ETA
  });

  it('waits as usual for a type it knows too little of, or that fits the wait', async () => {
    vi.useFakeTimers();
    executor = new Executor({ defaultWaitMs: 1000 });
    await teach('rare', 10_000, 2); // fewer than 3 runs: not trusted yet
    await teach('quick', 100, 5);
    for (const type of ['rare', 'quick', 'unknown']) {
      const pending = executor.execute(() => never(), { type, background: 'auto' });
      await vi.advanceTimersByTimeAsync(1000);
      const result = expectStatus(await pending, 'running');
      expect(result.elapsedMs).toBe(1000);
      expect(result.backgroundReason).toBeUndefined();
    }
  });

  it("the caller's estimate wins over what was learned, both ways", async () => {
    vi.useFakeTimers();
    executor = new Executor({ defaultWaitMs: 1000 });
    await teach('render', 10_000, 3);
    const long = expectStatus(
      await executor.execute(() => never(), { type: 'new', background: 'auto', estimateMs: 120_000 }),
      'running',
    );
    expect(long.backgroundReason).toContain("about 2 min 00 s (the caller's estimate)");
    // a small render the caller knows is quick: waits, and completes inline
    const pending = executor.execute(() => new Promise((resolve) => setTimeout(resolve, 200, 'small')), {
      type: 'render',
      background: 'auto',
      estimateMs: 200,
    });
    await vi.advanceTimersByTimeAsync(200);
    expect(expectStatus(await pending, 'completed').result).toBe('small');
  });

  it('refuses bad values, naming them', async () => {
    executor = new Executor();
    await expect(executor.execute(() => 1, { background: 'yes' as never })).rejects.toThrow(
      /`background` to be "auto"/,
    );
    await expect(executor.execute(() => 1, { background: 'auto', estimateMs: -5 })).rejects.toThrow(
      /`estimateMs`/,
    );
  });
});

describe('DurationStats', () => {
  it('keeps a window of the last 64 runs per type, and at most 1000 types (first seen goes first)', async () => {
    const { DurationStats } = await import('../src/estimates.js');
    const stats = new DurationStats();
    for (let i = 1; i <= 100; i++) stats.record('t', i); // only 37..100 remain
    expect(stats.estimate('t')).toEqual({ type: 't', count: 64, p50Ms: 68, p90Ms: 94 });
    for (let i = 0; i < 1000; i++) stats.record(`type-${i}`, 1);
    expect(stats.estimate('t')).toBeUndefined(); // the first type seen was forgotten
    expect(stats.list()).toHaveLength(1000);
  });
});
