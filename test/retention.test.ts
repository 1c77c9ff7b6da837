import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor, MemoryStore, OperationNotFoundError } from '../src/index.js';
import { ExpiryQueue } from '../src/stores/expiry-queue.js';
import { expectStatus, runningRecord } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  vi.useRealTimers();
  await executor?.stop();
});

describe('retention', () => {
  it('keeps a finished operation readable for retentionMs, then forgets it', async () => {
    vi.useFakeTimers();
    executor = new Executor({ retentionMs: 10_000, sweepIntervalMs: 1000 });
    const running = expectStatus(await executor.execute(async () => 'result', { waitMs: 0 }), 'running');
    expectStatus(await executor.continue(running.id, { waitMs: 1000 }), 'completed');
    await vi.advanceTimersByTimeAsync(9_999);
    expectStatus(await executor.continue(running.id, { waitMs: 0 }), 'completed');
    await vi.advanceTimersByTimeAsync(1);
    await expect(executor.continue(running.id, { waitMs: 0 })).rejects.toBeInstanceOf(OperationNotFoundError);
    expect(await executor.get(running.id)).toBeUndefined();
    expect((await executor.list()).operations).toEqual([]);
  });

  it('hides an expired record before the sweeper has dropped it', async () => {
    vi.useFakeTimers();
    executor = new Executor({ retentionMs: 100, sweepIntervalMs: 1_000_000 });
    const running = expectStatus(await executor.execute(async () => 1, { waitMs: 0 }), 'running');
    await executor.continue(running.id, { waitMs: 1000 });
    await vi.advanceTimersByTimeAsync(100);
    await expect(executor.continue(running.id, { waitMs: 0 })).rejects.toBeInstanceOf(OperationNotFoundError);
  });

  it('sweeps dropped records out of the store, releasing room under maxOperations', async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    executor = new Executor({ store, retentionMs: 1000, sweepIntervalMs: 500, maxOperations: 3 });
    for (let i = 0; i < 3; i++) {
      const r = expectStatus(await executor.execute(async () => i, { waitMs: 0 }), 'running');
      await executor.continue(r.id, { waitMs: 1000 });
    }
    expect(store.size).toBe(3);
    await expect(executor.execute(async () => 'one too many', { waitMs: 0 })).rejects.toMatchObject({
      code: 'TOO_MANY_OPERATIONS',
    });
    await vi.advanceTimersByTimeAsync(1500);
    expect(store.size).toBe(0);
    expectStatus(await executor.execute(async () => 'room again', { waitMs: 0 }), 'running');
  });

  it('never keeps running operations for retention: only finished ones expire', async () => {
    vi.useFakeTimers();
    executor = new Executor({
      retentionMs: 100,
      sweepIntervalMs: 50,
      maxLifetimeMs: Number.POSITIVE_INFINITY,
    });
    const running = expectStatus(
      await executor.execute(() => new Promise(() => undefined), { waitMs: 0 }),
      'running',
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await executor.get(running.id))?.status).toBe('running');
  });
});

describe('sweep cost (Go defect: an O(n) scan of every operation under a write lock)', () => {
  it('touches only the records that expire: k shifts, k + 1 peeks, no iteration over the rest', async () => {
    const store = new MemoryStore();
    const finish = (id: string, expiresAt: number) => {
      store.insert(runningRecord(id));
      store.finish(id, undefined, { status: 'completed', result: id, finishedAt: 0, expiresAt });
    };
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) finish(`early-${i}`, t0 + 100);
    for (let i = 0; i < 20_000; i++) finish(`late-${i}`, t0 + 1_000_000_000);

    const peek = vi.spyOn(ExpiryQueue.prototype, 'peek');
    const shift = vi.spyOn(ExpiryQueue.prototype, 'shift');
    const iterations = (['values', 'keys', 'entries', 'forEach', Symbol.iterator] as const).map((method) =>
      vi.spyOn(Map.prototype, method as 'values'),
    );
    try {
      expect(await store.sweep(t0 + 200)).toBe(10);
    } finally {
      vi.restoreAllMocks();
    }
    expect(shift).toHaveBeenCalledTimes(10);
    expect(peek).toHaveBeenCalledTimes(11);
    for (const spy of iterations) expect(spy).not.toHaveBeenCalled();
    expect(store.size).toBe(20_000);
    expect(store.get('early-0', undefined)).toBeUndefined();
    expect(store.get('late-0', undefined)?.result).toBe('late-0');
  });
});

describe('ExpiryQueue', () => {
  it('is first in, first out across many chunks, and reuses its chunk when emptied', () => {
    const queue = new ExpiryQueue<number>();
    const pushed = Array.from({ length: 10_000 }, (_, i) => i);
    for (let round = 0; round < 3; round++) {
      for (const item of pushed) queue.push(item);
      expect(queue.size).toBe(10_000);
      const peeked: (number | undefined)[] = [];
      const shifted: (number | undefined)[] = [];
      for (let i = 0; i < 10_000; i++) {
        peeked.push(queue.peek());
        shifted.push(queue.shift());
      }
      expect(peeked).toEqual(pushed);
      expect(shifted).toEqual(pushed);
      expect(queue.size).toBe(0);
      expect(queue.peek()).toBeUndefined();
      expect(queue.shift()).toBeUndefined();
    }
  });

  it('interleaves pushes and shifts in order', () => {
    const queue = new ExpiryQueue<number>();
    const shifted: (number | undefined)[] = [];
    let next = 0;
    for (let i = 0; i < 20_000; i++) {
      queue.push(next++);
      queue.push(next++);
      shifted.push(queue.shift());
    }
    while (queue.size > 0) shifted.push(queue.shift());
    expect(shifted).toEqual(Array.from({ length: next }, (_, i) => i));
  });
});
