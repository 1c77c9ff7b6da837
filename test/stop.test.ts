import { describe, expect, it } from 'vitest';
import { Executor, ExecutorStoppedError } from '../src/index.js';
import { expectStatus, never, runFixture } from './helpers.js';

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
