import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor, OperationNotFoundError } from '../src/index.js';
import { deferred, expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  vi.useRealTimers();
  await executor?.stop();
});

describe('execute()', () => {
  it('answers the result inline when the work finishes inside the wait, and hands out no id', async () => {
    executor = new Executor();
    const sync = expectStatus(await executor.execute(() => 'sync value', { type: 'quick' }), 'completed');
    expect(sync).toEqual({
      status: 'completed',
      id: undefined,
      type: 'quick',
      result: 'sync value',
    });
    const viaAsync = expectStatus(await executor.execute(async () => ({ n: 1 })), 'completed');
    expect(viaAsync.result).toEqual({ n: 1 });
    expect(viaAsync.id).toBeUndefined();
  });

  it('retains nothing for work that finished inside the wait', async () => {
    executor = new Executor();
    for (let i = 0; i < 100; i++) await executor.execute(async () => i);
    expect((await executor.list()).operations).toEqual([]);
  });

  it('answers running with an id when the work outlives the wait, and the work goes on', async () => {
    vi.useFakeTimers();
    executor = new Executor({ defaultWaitMs: 1000 });
    const work = deferred<string>();
    const pending = executor.execute(() => work.promise, { type: 'render' });
    await vi.advanceTimersByTimeAsync(1000);
    const running = expectStatus(await pending, 'running');
    expect(running.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(running.type).toBe('render');
    expect(running.elapsedMs).toBe(1000);
    expect(running.message).toContain(running.id);
    expect(running.message).toContain('still running');

    work.resolve('done');
    const later = expectStatus(await executor.continue(running.id, { waitMs: 5000 }), 'completed');
    expect(later).toEqual({
      status: 'completed',
      id: running.id,
      type: 'render',
      result: 'done',
    });
  });

  it('with timeout 0 answers running at once, even for work that is already done (explicit background mode)', async () => {
    executor = new Executor();
    const result = expectStatus(await executor.execute(async () => 'instant', { waitMs: 0 }), 'running');
    const final = expectStatus(await executor.continue(result.id, { waitMs: 1000 }), 'completed');
    expect(final.result).toBe('instant');
  });

  it('caps the wait by maxWaitMs', async () => {
    vi.useFakeTimers();
    executor = new Executor({ defaultWaitMs: 100, maxWaitMs: 200 });
    const pending = executor.execute(() => never(), { waitMs: 60_000 });
    let answered = false;
    void pending.then(() => {
      answered = true;
    });
    await vi.advanceTimersByTimeAsync(199);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(expectStatus(await pending, 'running').elapsedMs).toBe(200);
  });

  it('makes the operation reachable at once when the work reads its own id', async () => {
    executor = new Executor();
    const gate = deferred<string>();
    const seen = deferred<string>();
    const pending = executor.execute(({ operationId }) => {
      seen.resolve(operationId);
      return gate.promise;
    });
    const id = await seen.promise;
    const snapshot = await executor.get(id);
    expect(snapshot?.status).toBe('running');
    gate.resolve('finished');
    const result = expectStatus(await pending, 'completed');
    expect(result.id).toBe(id);
    expect(expectStatus(await executor.continue(id, { waitMs: 0 }), 'completed').result).toBe('finished');
  });
});

describe('caller signal', () => {
  it('ends the wait with running when the caller aborts, and the work goes on', async () => {
    executor = new Executor({ defaultWaitMs: 50_000 });
    const work = deferred<string>();
    const caller = new AbortController();
    let workSignal: AbortSignal | undefined;
    const pending = executor.execute(
      ({ signal }) => {
        workSignal = signal;
        return work.promise;
      },
      { signal: caller.signal },
    );
    caller.abort();
    const running = expectStatus(await pending, 'running');
    expect(workSignal?.aborted).toBe(false);
    work.resolve('still delivered');
    expect(expectStatus(await executor.continue(running.id, { waitMs: 1000 }), 'completed').result).toBe(
      'still delivered',
    );
  });

  it('answers running at once for an already-aborted caller signal', async () => {
    executor = new Executor({ defaultWaitMs: 50_000 });
    const result = await executor.execute(() => never(), { signal: AbortSignal.abort() });
    expectStatus(result, 'running');
  });

  it('with cancelOnAbort cancels the work when the caller aborts', async () => {
    executor = new Executor({ defaultWaitMs: 50_000 });
    const caller = new AbortController();
    let workSignal: AbortSignal | undefined;
    const pending = executor.execute(
      ({ signal }) => {
        workSignal = signal;
        return never();
      },
      { signal: caller.signal, cancelOnAbort: true },
    );
    caller.abort();
    const cancelled = expectStatus(await pending, 'cancelled');
    expect(cancelled.error.name).toBe('OperationCancelledError');
    expect(workSignal?.aborted).toBe(true);
    expect(workSignal?.reason).toBe(cancelled.error);
  });

  it('ends a continue() wait with running when its signal aborts', async () => {
    executor = new Executor();
    const running = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    const caller = new AbortController();
    const waiting = executor.continue(running.id, { waitMs: 50_000, signal: caller.signal });
    caller.abort();
    expectStatus(await waiting, 'running');
  });
});

describe('continue()', () => {
  it('answers the same result every time until retention drops it', async () => {
    executor = new Executor();
    const running = expectStatus(await executor.execute(async () => ({ rows: 3 }), { waitMs: 0 }), 'running');
    const first = expectStatus(await executor.continue(running.id, { waitMs: 1000 }), 'completed');
    const second = expectStatus(await executor.continue(running.id, { waitMs: 1000 }), 'completed');
    const third = expectStatus(await executor.continue(running.id, { waitMs: 0 }), 'completed');
    expect(second).toEqual(first);
    expect(third.result).toBe(first.result);
  });

  it('wakes a waiting continue() as soon as the work settles, before its wait is over', async () => {
    vi.useFakeTimers();
    executor = new Executor();
    const work = deferred<number>();
    const running = expectStatus(await executor.execute(() => work.promise, { waitMs: 0 }), 'running');
    const waiting = executor.continue(running.id, { waitMs: 30_000 });
    work.resolve(7);
    // No timer advanced: only the settlement can have woken it.
    expect(expectStatus(await waiting, 'completed').result).toBe(7);
  });

  it('answers running with elapsed time and the latest progress when the wait ends first', async () => {
    vi.useFakeTimers();
    executor = new Executor();
    let report: ((current: number, total?: number, message?: string) => void) | undefined;
    const running = expectStatus(
      await executor.execute(
        ({ progress }) => {
          report = progress;
          return never();
        },
        { waitMs: 0, type: 'crawl' },
      ),
      'running',
    );
    report?.(3, 10, 'page 3');
    const waiting = executor.continue(running.id, { waitMs: 2000 });
    await vi.advanceTimersByTimeAsync(2000);
    const still = expectStatus(await waiting, 'running');
    expect(still.elapsedMs).toBe(2000);
    expect(still.progress).toMatchObject({ current: 3, total: 10, message: 'page 3' });
    expect(still.message).toContain('30%');
    expect(still.message).toContain('page 3');
  });

  it('rejects an unknown id with OperationNotFoundError naming it', async () => {
    executor = new Executor();
    const error = await executor.continue('no-such-operation', { waitMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationNotFoundError);
    expect((error as OperationNotFoundError).code).toBe('OPERATION_NOT_FOUND');
    expect((error as OperationNotFoundError).operationId).toBe('no-such-operation');
    expect((error as Error).message).toContain('no-such-operation');
  });
});

describe('get() and list()', () => {
  it('snapshots carry id, type, owner, status, times, elapsed, progress and error', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    executor = new Executor();
    const work = deferred<void>();
    let report: ((current: number, total?: number) => void) | undefined;
    const running = expectStatus(
      await executor.execute(
        ({ progress }) => {
          report = progress;
          return work.promise;
        },
        { waitMs: 0, type: 'train', owner: 'alice' },
      ),
      'running',
    );
    report?.(1, 4);
    await vi.advanceTimersByTimeAsync(1500);
    expect(await executor.get(running.id, { owner: 'alice' })).toEqual({
      id: running.id,
      type: 'train',
      owner: 'alice',
      status: 'running',
      startedAt: 1_000_000,
      finishedAt: undefined,
      elapsedMs: 1500,
      progress: { current: 1, total: 4, message: undefined, updatedAt: 1_000_000 },
      error: undefined,
    });
    work.reject(new Error('diverged'));
    await vi.advanceTimersByTimeAsync(500);
    const failed = await executor.get(running.id, { owner: 'alice' });
    expect(failed).toMatchObject({ status: 'failed', finishedAt: 1_001_500, elapsedMs: 1500 });
    expect(failed?.error?.message).toBe('diverged');
  });

  it('lists newest first, filtered by status and type, a page at a time', async () => {
    vi.useFakeTimers();
    executor = new Executor();
    const a = expectStatus(await executor.execute(() => never(), { waitMs: 0, type: 'a' }), 'running');
    vi.advanceTimersByTime(1);
    const b = expectStatus(await executor.execute(async () => 1, { waitMs: 0, type: 'b' }), 'running');
    vi.advanceTimersByTime(1);
    const c = expectStatus(await executor.execute(() => never(), { waitMs: 0, type: 'a' }), 'running');
    await executor.continue(b.id, { waitMs: 1000 });
    const ids = async (options?: Parameters<Executor['list']>[0]) =>
      (await executor.list(options)).operations.map((s) => s.id);
    expect(await ids()).toEqual([c.id, b.id, a.id]);
    expect(await ids({ status: 'running' })).toEqual([c.id, a.id]);
    expect(await ids({ status: 'completed' })).toEqual([b.id]);
    const first = await executor.list({ type: 'a', limit: 1 });
    expect(first.operations.map((s) => s.id)).toEqual([c.id]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await executor.list({ type: 'a', limit: 1, cursor: first.nextCursor });
    expect(second.operations.map((s) => s.id)).toEqual([a.id]);
    expect(second.nextCursor).toBeUndefined();
    expect((await executor.list()).nextCursor).toBeUndefined();
  });

  it('pages through operations started in the same millisecond without losing or repeating one', async () => {
    vi.useFakeTimers();
    executor = new Executor();
    const started = new Set<string>();
    for (let i = 0; i < 25; i++) {
      started.add(expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running').id);
      if (i % 10 === 9) vi.advanceTimersByTime(1);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await executor.list({ limit: 4, cursor });
      seen.push(...page.operations.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toHaveLength(25);
    expect(new Set(seen)).toEqual(started);
  });

  it('get() answers undefined for an unknown id', async () => {
    executor = new Executor();
    expect(await executor.get('nope')).toBeUndefined();
  });
});
