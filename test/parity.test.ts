import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor, OperationNotFoundError } from '../src/index.js';
import { deferred, expectStatus } from './helpers.js';

// The scenarios of gomcpgo/mcp pkg/async executor_test.go, one test each, with the same
// configuration (100 ms default timeout, 5 s lifetime, 1 s retention, 100 ms cleanup). Where the Go
// test slept, these advance fake time or settle the work by hand. Where this library deliberately
// differs from the Go package, the test says how.

let executor: Executor;
afterEach(async () => {
  vi.useRealTimers();
  await executor?.stop();
});

function createTestExecutor(): Executor {
  return new Executor({
    defaultWaitMs: 100,
    maxLifetimeMs: 5000,
    retentionMs: 1000,
    sweepIntervalMs: 100,
  });
}

describe('parity with the Go package', () => {
  it('TestExecute_ImmediateCompletion: completed inline, no operation id', async () => {
    executor = createTestExecutor();
    const result = expectStatus(
      await executor.execute(() => 'success', { type: 'test_op', waitMs: 1000 }),
      'completed',
    );
    expect(result.result).toBe('success');
    expect(result.id).toBeUndefined();
  });

  it('TestExecute_Timeout: running with an id and the type, and the operation is registered', async () => {
    vi.useFakeTimers();
    executor = createTestExecutor();
    const pending = executor.execute(
      ({ signal }) =>
        new Promise((resolve) => setTimeout(resolve, 2000, 'success')).finally(() => signal.aborted),
      { type: 'slow_op', waitMs: 100 },
    );
    await vi.advanceTimersByTimeAsync(100);
    const result = expectStatus(await pending, 'running');
    expect(result.id).not.toBe('');
    expect(result.type).toBe('slow_op');
    expect((await executor.list()).operations).toHaveLength(1);
  });

  it('TestExecute_WithError: failed with the error message', async () => {
    executor = createTestExecutor();
    const result = expectStatus(
      await executor.execute(() => Promise.reject(new Error('operation failed')), {
        type: 'error_op',
        waitMs: 1000,
      }),
      'failed',
    );
    expect(result.error.message).toBe('operation failed');
  });

  it('TestContinue_Completed: continue after completion answers the result', async () => {
    vi.useFakeTimers();
    executor = createTestExecutor();
    const pending = executor.execute(() => new Promise((resolve) => setTimeout(resolve, 200, 'completed')), {
      type: 'slow_op',
      waitMs: 50,
    });
    await vi.advanceTimersByTimeAsync(50);
    const running = expectStatus(await pending, 'running');
    await vi.advanceTimersByTimeAsync(250);
    const result = expectStatus(await executor.continue(running.id, { waitMs: 100 }), 'completed');
    expect(result.result).toBe('completed');
  });

  it('TestContinue_StillRunning: a short continue answers running with a message', async () => {
    vi.useFakeTimers();
    executor = createTestExecutor();
    const pending = executor.execute(() => new Promise((resolve) => setTimeout(resolve, 5000, 'completed')), {
      type: 'very_slow_op',
      waitMs: 50,
    });
    await vi.advanceTimersByTimeAsync(50);
    const running = expectStatus(await pending, 'running');
    const waiting = executor.continue(running.id, { waitMs: 100 });
    await vi.advanceTimersByTimeAsync(100);
    expect(expectStatus(await waiting, 'running').message).not.toBe('');
  });

  it('TestContinue_NotFound: an unknown id is an error', async () => {
    executor = createTestExecutor();
    await expect(executor.continue('nonexistent', { waitMs: 100 })).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
  });

  it('TestCancel: differs on purpose: status is "cancelled" (Go reported "failed"), set at once, no sleep needed', async () => {
    executor = createTestExecutor();
    const pending = executor.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { type: 'cancellable_op', waitMs: 0 },
    );
    const running = expectStatus(await pending, 'running');
    await executor.cancel(running.id);
    const result = expectStatus(await executor.continue(running.id, { waitMs: 50 }), 'cancelled');
    expect(result.error.message).not.toBe('');
  });

  it('TestContinue_MultipleWaiters: every waiter gets the same result', async () => {
    executor = createTestExecutor();
    const work = deferred<string>();
    const running = expectStatus(
      await executor.execute(() => work.promise, { type: 'multi_wait_op', waitMs: 0 }),
      'running',
    );
    const waiters = [1, 2, 3].map(() => executor.continue(running.id, { waitMs: 1000 }));
    work.resolve('done');
    const results = await Promise.all(waiters);
    for (const result of results) expect(expectStatus(result, 'completed').result).toBe('done');
  });

  it('TestCleanup: differs on purpose: inline completions are never retained; finished ones go after retention', async () => {
    vi.useFakeTimers();
    executor = new Executor({
      defaultWaitMs: 50,
      maxLifetimeMs: 1000,
      retentionMs: 200,
      sweepIntervalMs: 100,
    });
    await executor.execute(() => 'done', { type: 'cleanup_test', waitMs: 1000 });
    expect((await executor.list()).operations).toHaveLength(0); // Go kept this one for the retention period
    const pending = executor.execute(() => new Promise(() => undefined), {
      type: 'slow_cleanup_test',
      waitMs: 50,
    });
    await vi.advanceTimersByTimeAsync(50);
    const running = expectStatus(await pending, 'running');
    expect((await executor.list()).operations).toHaveLength(1);
    await executor.cancel(running.id);
    await vi.advanceTimersByTimeAsync(400);
    expect((await executor.list()).operations).toHaveLength(0);
  });

  it('TestExecute_ContextCancellation: the caller going away ends the wait, not the work', async () => {
    vi.useFakeTimers();
    executor = createTestExecutor();
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 50);
    const pending = executor.execute(() => new Promise((resolve) => setTimeout(resolve, 200, 'completed')), {
      type: 'ctx_cancel_op',
      waitMs: 1000,
      signal: caller.signal,
    });
    await vi.advanceTimersByTimeAsync(50);
    const running = expectStatus(await pending, 'running');
    await vi.advanceTimersByTimeAsync(300);
    expectStatus(await executor.continue(running.id, { waitMs: 50 }), 'completed');
  });
});
