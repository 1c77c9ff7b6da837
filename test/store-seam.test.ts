import { afterEach, describe, expect, it } from 'vitest';
import {
  Executor,
  MemoryStore,
  OperationNotFoundError,
  type OperationRecord,
  type OperationStore,
  type Progress,
  type RecordFilter,
  type TerminalUpdate,
} from '../src/index.js';
import { deferred, expectStatus, never } from './helpers.js';

// The executor against stores that answer asynchronously, fail, or report a terminal state written
// by someone else: the shapes a durable or shared store takes. Each wraps a real MemoryStore.

class AsyncStore implements OperationStore {
  readonly inner = new MemoryStore();
  readonly calls: string[] = [];
  get size() {
    return this.inner.size;
  }
  async insert(record: OperationRecord) {
    this.calls.push('insert');
    await Promise.resolve();
    this.inner.insert(record);
  }
  async get(id: string, owner: string | undefined) {
    this.calls.push('get');
    await Promise.resolve();
    return this.inner.get(id, owner);
  }
  async setProgress(id: string, owner: string | undefined, progress: Progress) {
    this.calls.push('setProgress');
    this.inner.setProgress(id, owner, progress);
  }
  async finish(id: string, owner: string | undefined, update: TerminalUpdate) {
    this.calls.push('finish');
    await Promise.resolve();
    return this.inner.finish(id, owner, update);
  }
  async list(filter: RecordFilter) {
    this.calls.push('list');
    return this.inner.list(filter);
  }
  async sweep(now: number) {
    return this.inner.sweep(now);
  }
}

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

describe('an asynchronous store', () => {
  it('serves the whole lifecycle: running, progress, completion, continue from the store', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    const work = deferred<string>();
    const running = expectStatus(
      await executor.execute(
        ({ progress }) => {
          progress(1, 2);
          return work.promise;
        },
        { timeout: 0 },
      ),
      'running',
    );
    expect((await store.get(running.operationId, undefined))?.status).toBe('running');
    work.resolve('stored');
    expect(expectStatus(await executor.continue(running.operationId, 1000), 'completed').result).toBe(
      'stored',
    );
    expect((await store.get(running.operationId, undefined))?.status).toBe('completed');
    expect(expectStatus(await executor.continue(running.operationId, 0), 'completed').result).toBe('stored');
  });

  it('answers running only once the record is inserted', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    const running = expectStatus(await executor.execute(() => never(), { timeout: 0 }), 'running');
    expect(store.inner.get(running.operationId, undefined)?.status).toBe('running');
  });

  it('cancel() resolves after the store holds the cancelled record', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    const running = expectStatus(await executor.execute(() => never(), { timeout: 0 }), 'running');
    await executor.cancel(running.operationId);
    expect(store.inner.get(running.operationId, undefined)?.status).toBe('cancelled');
  });

  it('an unknown id costs one store lookup and nothing else', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    await expect(executor.continue('unknown-id', 1000)).rejects.toBeInstanceOf(OperationNotFoundError);
    expect(store.calls).toEqual(['get']);
  });
});

describe('a store shared with another writer', () => {
  it('adopts the terminal state another writer set first (first terminal state wins across processes)', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    const work = deferred<string>();
    let signal: AbortSignal | undefined;
    const running = expectStatus(
      await executor.execute(
        (context) => {
          signal = context.signal;
          return work.promise;
        },
        { timeout: 0 },
      ),
      'running',
    );
    // Another replica cancels through the shared store before the work returns.
    const now = Date.now();
    store.inner.finish(running.operationId, undefined, {
      status: 'cancelled',
      error: new Error('cancelled on replica B'),
      finishedAt: now,
      expiresAt: now + 60_000,
    });
    const waiting = executor.continue(running.operationId, 5000);
    work.resolve('late result');
    const result = expectStatus(await waiting, 'cancelled');
    expect(result.error.message).toBe('cancelled on replica B');
    expect(signal?.aborted).toBe(true);
  });

  it('serves a record that is running elsewhere: reads it again when the wait is over', async () => {
    const store = new MemoryStore();
    executor = new Executor({ store });
    store.insert({
      id: 'elsewhere-1',
      type: 'remote',
      owner: undefined,
      status: 'running',
      createdAt: Date.now(),
      startedAt: Date.now(),
      finishedAt: undefined,
      expiresAt: undefined,
      result: undefined,
      error: undefined,
      progress: undefined,
    });
    const waiting = executor.continue('elsewhere-1', 10_000);
    const now = Date.now();
    store.finish('elsewhere-1', undefined, {
      status: 'completed',
      result: 'remote result',
      finishedAt: now,
      expiresAt: now + 1000,
    });
    const caller = new AbortController();
    const cut = executor.continue('elsewhere-1', 10_000, { signal: caller.signal });
    caller.abort();
    expect(expectStatus(await cut, 'completed').result).toBe('remote result');
    // The first wait was registered before the record finished; stop() ends it without a hang.
    await executor.stop();
    expectStatus(await waiting, 'completed');
  });
});

describe('a failing store', () => {
  it('an insert that rejects fails the operation with that error and aborts the work', async () => {
    const store = new AsyncStore();
    store.insert = async () => {
      throw new Error('disk full');
    };
    executor = new Executor({ store });
    let signal: AbortSignal | undefined;
    const result = expectStatus(
      await executor.execute(
        (context) => {
          signal = context.signal;
          return never();
        },
        { timeout: 0 },
      ),
      'failed',
    );
    expect(result.error.message).toBe('disk full');
    expect(result.operationId).toBeUndefined();
    expect(signal?.aborted).toBe(true);
    // and it keeps serving
    expect(expectStatus(await executor.execute(() => 'ok'), 'completed').result).toBe('ok');
  });

  it('an insert that throws synchronously is handled the same way', async () => {
    const store = new MemoryStore();
    store.insert = () => {
      throw new Error('sync failure');
    };
    executor = new Executor({ store });
    const result = expectStatus(await executor.execute(() => never(), { timeout: 0 }), 'failed');
    expect(result.error.message).toBe('sync failure');
  });

  it('a finish that rejects still wakes the waiters with the outcome', async () => {
    const store = new AsyncStore();
    store.finish = async () => {
      throw new Error('write failed');
    };
    executor = new Executor({ store });
    const work = deferred<string>();
    const running = expectStatus(await executor.execute(() => work.promise, { timeout: 0 }), 'running');
    const waiting = executor.continue(running.operationId, 5000);
    work.resolve('computed');
    expect(expectStatus(await waiting, 'completed').result).toBe('computed');
  });
});
