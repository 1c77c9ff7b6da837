import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor, type OperationContext, OperationLifetimeError } from '../src/index.js';
import { deferred, expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  vi.useRealTimers();
  await executor?.stop();
});

describe('maxLifetimeMs', () => {
  it('fails a background operation at once with a lifetime error, even if the work ignores its signal', async () => {
    vi.useFakeTimers();
    executor = new Executor({ maxLifetimeMs: 5000 });
    let signal: AbortSignal | undefined;
    const running = expectStatus(
      await executor.execute(
        (context) => {
          signal = context.signal;
          return never(); // ignores the signal entirely
        },
        { waitMs: 0 },
      ),
      'running',
    );
    const waiting = executor.continue(running.id, { waitMs: 50_000 });
    await vi.advanceTimersByTimeAsync(4999);
    expect((await executor.get(running.id))?.status).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    const failed = expectStatus(await waiting, 'failed');
    expect(failed.error).toBeInstanceOf(OperationLifetimeError);
    expect((failed.error as OperationLifetimeError).code).toBe('OPERATION_LIFETIME_EXCEEDED');
    expect(failed.error.message).toContain('5000 ms');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBe(failed.error);
  });

  it('bounds execute() own wait: a wait longer than the lifetime ends in the lifetime failure', async () => {
    vi.useFakeTimers();
    executor = new Executor({ maxLifetimeMs: 300, defaultWaitMs: 1000 });
    const pending = executor.execute(() => never());
    await vi.advanceTimersByTimeAsync(300);
    expect(expectStatus(await pending, 'failed').error).toBeInstanceOf(OperationLifetimeError);
  });

  it('keeps the lifetime failure final when the work resolves afterwards', async () => {
    vi.useFakeTimers();
    executor = new Executor({ maxLifetimeMs: 100 });
    const work = deferred<string>();
    const running = expectStatus(await executor.execute(() => work.promise, { waitMs: 0 }), 'running');
    await vi.advanceTimersByTimeAsync(100);
    work.resolve('too late');
    await vi.advanceTimersByTimeAsync(0);
    expectStatus(await executor.continue(running.id, { waitMs: 0 }), 'failed');
  });

  it('context.operationId names the operation even when the work reads it after the lifetime ended it', async () => {
    vi.useFakeTimers();
    executor = new Executor({ maxLifetimeMs: 100, defaultWaitMs: 1000 });
    let context: OperationContext | undefined;
    const pending = executor.execute((given) => {
      context = given;
      return never(); // ignores its signal and goes on
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(expectStatus(await pending, 'failed').id).toBeUndefined(); // never handed out
    expect(context?.operationId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('Infinity disables the limit', async () => {
    vi.useFakeTimers();
    executor = new Executor({ maxLifetimeMs: Number.POSITIVE_INFINITY, maxWaitMs: 2_000_000_000 });
    const running = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    await vi.advanceTimersByTimeAsync(3_000_000_000);
    expect((await executor.get(running.id))?.status).toBe('running');
  });
});
