import { afterEach, describe, expect, it } from 'vitest';
import { Executor, OperationCancelledError, OperationNotFoundError } from '../src/index.js';
import { deferred, expectStatus, flushMicrotasks, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

async function startInBackground<T>(work: Promise<T>, seen?: (signal: AbortSignal) => void) {
  const result = await executor.execute(
    ({ signal }) => {
      seen?.(signal);
      return work;
    },
    { waitMs: 0, type: 'job' },
  );
  return expectStatus(result, 'running').id;
}

describe('cancel()', () => {
  it('makes a running operation cancelled at once and fires its signal with a typed reason', async () => {
    executor = new Executor();
    let signal: AbortSignal | undefined;
    const id = await startInBackground(never(), (s) => {
      signal = s;
    });
    const snapshot = await executor.cancel(id, { reason: 'user asked' });
    expect(snapshot.cancelled).toBe(true);
    expect(snapshot.operation.status).toBe('cancelled');
    expect(snapshot.operation.finishedAt).toBeTypeOf('number');
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(OperationCancelledError);
    expect((signal!.reason as OperationCancelledError).reason).toBe('user asked');
    const result = expectStatus(await executor.continue(id, { waitMs: 0 }), 'cancelled');
    expect(result.error.message).toBe('Operation cancelled: user asked');
  });

  it('says whether this call cancelled it: a second cancel, or one after the end, changes nothing and says so', async () => {
    executor = new Executor();
    const id = await startInBackground(never());
    expect((await executor.cancel(id, { reason: 'first' })).cancelled).toBe(true);
    const again = await executor.cancel(id, { reason: 'second' });
    expect(again.cancelled).toBe(false);
    expect((again.operation.error as OperationCancelledError).reason).toBe('first');
    const done = await startInBackground(Promise.resolve('done'));
    expectStatus(await executor.continue(done, { waitMs: 1000 }), 'completed');
    const late = await executor.cancel(done);
    expect(late).toMatchObject({ cancelled: false, operation: { status: 'completed' } });
  });

  it('wakes every waiter at once (Go defect: cancel did not wake waiters)', async () => {
    executor = new Executor();
    const id = await startInBackground(never());
    const waiters = Array.from({ length: 5 }, () => executor.continue(id, { waitMs: 50_000 }));
    await executor.cancel(id);
    // Each wait is 50 s long and no timer is faked: only the cancel can have ended them.
    const results = await Promise.all(waiters);
    expect(results.map((r) => r.status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
  });

  it('discards a result that arrives after the cancel (Go defect: a late result overwrote cancelled)', async () => {
    executor = new Executor();
    const work = deferred<string>();
    const id = await startInBackground(work.promise);
    await executor.cancel(id);
    work.resolve('too late');
    await flushMicrotasks();
    const result = expectStatus(await executor.continue(id, { waitMs: 0 }), 'cancelled');
    expect(result).not.toHaveProperty('result');
    expect((await executor.get(id))?.status).toBe('cancelled');
  });

  it('discards an error that arrives after the cancel', async () => {
    executor = new Executor();
    const work = deferred<string>();
    const id = await startInBackground(work.promise);
    await executor.cancel(id);
    work.reject(new Error('aborted by signal'));
    await flushMicrotasks();
    expectStatus(await executor.continue(id, { waitMs: 0 }), 'cancelled');
  });

  it('gives a signal read after the cancel already aborted', async () => {
    executor = new Executor();
    const gate = deferred<void>();
    const late = deferred<AbortSignal>();
    const result = await executor.execute(
      async (context) => {
        await gate.promise;
        late.resolve(context.signal);
      },
      { waitMs: 0 },
    );
    const id = expectStatus(result, 'running').id;
    await executor.cancel(id);
    gate.resolve();
    const signal = await late.promise;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(OperationCancelledError);
  });

  it('on a finished operation changes nothing and says it had finished (no throw)', async () => {
    executor = new Executor();
    const id = await startInBackground(Promise.resolve('kept'));
    await executor.continue(id, { waitMs: 1000 });
    const snapshot = await executor.cancel(id);
    expect(snapshot.operation.status).toBe('completed');
    expect(expectStatus(await executor.continue(id, { waitMs: 0 }), 'completed').result).toBe('kept');
  });

  it('twice keeps the first cancellation', async () => {
    executor = new Executor();
    const id = await startInBackground(never());
    const first = await executor.cancel(id, { reason: 'first' });
    const second = await executor.cancel(id, { reason: 'second' });
    expect(second.operation.finishedAt).toBe(first.operation.finishedAt);
    expect((second.operation.error as OperationCancelledError).reason).toBe('first');
  });

  it('rejects an unknown id with OperationNotFoundError', async () => {
    executor = new Executor();
    await expect(executor.cancel('missing')).rejects.toBeInstanceOf(OperationNotFoundError);
  });

  it('wakes waiters registered both on execute() and on continue()', async () => {
    executor = new Executor({ defaultWaitMs: 50_000 });
    const seen = deferred<string>();
    const executing = executor.execute(({ operationId }) => {
      seen.resolve(operationId);
      return never();
    });
    const id = await seen.promise;
    const continuing = executor.continue(id, { waitMs: 50_000 });
    await executor.cancel(id);
    expect((await executing).status).toBe('cancelled');
    expect((await continuing).status).toBe('cancelled');
  });
});
