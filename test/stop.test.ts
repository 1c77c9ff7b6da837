import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor, ExecutorStoppedError } from '../src/index.js';
import { deferred, expectStatus, flushMicrotasks, never, runFixture } from './helpers.js';

describe('stop()', () => {
  it('is idempotent: every call answers the same promise, and none throws (Go defect: double Stop panicked)', async () => {
    const executor = new Executor();
    const first = executor.stop();
    const second = executor.stop();
    expect(second).toBe(first);
    await first;
    await expect(executor.stop()).resolves.toBeUndefined();
  });

  it('aborts running work with an ExecutorStoppedError and wakes its waiters', async () => {
    const executor = new Executor({ defaultWaitMs: 50_000 });
    let background: AbortSignal | undefined;
    let waiting: AbortSignal | undefined;
    const running = expectStatus(
      await executor.execute(
        ({ signal }) => {
          background = signal;
          return never();
        },
        { waitMs: 0 },
      ),
      'running',
    );
    const longPoll = executor.continue(running.id, { waitMs: 50_000 });
    const inWait = executor.execute(({ signal }) => {
      waiting = signal;
      return never();
    });
    await executor.stop();
    expect(background?.reason).toBeInstanceOf(ExecutorStoppedError);
    expect(waiting?.reason).toBeInstanceOf(ExecutorStoppedError);
    expect(expectStatus(await longPoll, 'cancelled').error).toBeInstanceOf(ExecutorStoppedError);
    expect(expectStatus(await inWait, 'cancelled').id).toBeUndefined();
  });

  it('makes every later call reject with ExecutorStoppedError', async () => {
    const executor = new Executor();
    await executor.stop();
    await expect(executor.execute(() => 1)).rejects.toBeInstanceOf(ExecutorStoppedError);
    await expect(executor.continue('x', { waitMs: 0 })).rejects.toMatchObject({ code: 'EXECUTOR_STOPPED' });
    await expect(executor.cancel('x')).rejects.toBeInstanceOf(ExecutorStoppedError);
    await expect(executor.get('x')).rejects.toBeInstanceOf(ExecutorStoppedError);
    await expect(executor.list()).rejects.toBeInstanceOf(ExecutorStoppedError);
  });

  it('lets the process exit on its own: no timer or handle is left behind', async () => {
    // The child sets an hour-long lifetime, 50 s waits and a 1 s sweeper: it can only exit within
    // the test's timeout if stop() cleared them all.
    const { code, stdout, stderr } = await runFixture('stop-child.ts');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ longPoll: 'cancelled', reason: 'ExecutorStoppedError' });
  });
});

describe('stop({ drainMs }): a graceful drain', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses new work at once, lets running work finish, and keeps answering meanwhile', async () => {
    vi.useFakeTimers();
    const executor = new Executor();
    const work = deferred<string>();
    let signal: AbortSignal | undefined;
    const running = expectStatus(
      await executor.execute(
        (context) => {
          signal = context.signal;
          return work.promise;
        },
        { waitMs: 0 },
      ),
      'running',
    );
    const waiting = executor.continue(running.id, { waitMs: 50_000 });
    let stopped = false;
    const stopping = executor.stop({ drainMs: 30_000 }).then(() => {
      stopped = true;
    });
    const refused = await executor.execute(() => 1).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ExecutorStoppedError);
    expect((refused as Error).message).toContain('takes no new work');
    // The other calls still answer during the drain.
    expect((await executor.get(running.id))?.status).toBe('running');
    expect((await executor.list()).operations.map((s) => s.id)).toEqual([running.id]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stopped).toBe(false);
    work.resolve('finished in time');
    expect(expectStatus(await waiting, 'completed').result).toBe('finished in time');
    await stopping;
    expect(stopped).toBe(true);
    expect(signal?.aborted).toBe(false); // it finished; nothing was cancelled
    await expect(executor.get(running.id)).rejects.toBeInstanceOf(ExecutorStoppedError);
  });

  it('cancels what is still running once the deadline passes, not a millisecond before', async () => {
    vi.useFakeTimers();
    const executor = new Executor({ maxLifetimeMs: 3_600_000 });
    let signal: AbortSignal | undefined;
    const running = expectStatus(
      await executor.execute(
        (context) => {
          signal = context.signal;
          return never();
        },
        { waitMs: 0 },
      ),
      'running',
    );
    const waiting = executor.continue(running.id, { waitMs: 50_000 });
    const stopping = executor.stop({ drainMs: 5000 });
    await vi.advanceTimersByTimeAsync(4999);
    expect(signal?.aborted).toBe(false);
    expect((await executor.get(running.id))?.status).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(signal?.reason).toBeInstanceOf(ExecutorStoppedError);
    expect(expectStatus(await waiting, 'cancelled').error).toBeInstanceOf(ExecutorStoppedError);
  });

  it('a second stop() without drainMs ends the drain at once, and answers the same promise', async () => {
    const executor = new Executor();
    let signal: AbortSignal | undefined;
    await executor.execute(
      (context) => {
        signal = context.signal;
        return never();
      },
      { waitMs: 0 },
    );
    const draining = executor.stop({ drainMs: 3_600_000 });
    await flushMicrotasks();
    expect(signal?.aborted).toBe(false);
    expect(executor.stop()).toBe(draining);
    expect(signal?.reason).toBeInstanceOf(ExecutorStoppedError); // at once, as stop() without a drain
    await draining;
  });

  it('with nothing running, stops at once', async () => {
    const executor = new Executor();
    await executor.stop({ drainMs: 3_600_000 });
    await expect(executor.list()).rejects.toBeInstanceOf(ExecutorStoppedError);
  });
});
