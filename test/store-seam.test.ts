import { afterEach, describe, expect, it } from 'vitest';
import {
  Executor,
  MemoryStore,
  type OperationCancelledError,
  OperationNotFoundError,
  type Progress,
  StoreError,
} from '../src/index.js';
import type { OperationRecord, OperationStore, RecordFilter, TerminalUpdate } from '../src/stores/index.js';
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
        { waitMs: 0 },
      ),
      'running',
    );
    expect((await store.get(running.id, undefined))?.status).toBe('running');
    work.resolve('stored');
    expect(expectStatus(await executor.continue(running.id, { waitMs: 1000 }), 'completed').result).toBe(
      'stored',
    );
    expect((await store.get(running.id, undefined))?.status).toBe('completed');
    expect(expectStatus(await executor.continue(running.id, { waitMs: 0 }), 'completed').result).toBe(
      'stored',
    );
  });

  it('answers running only once the record is inserted', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    const running = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    expect(store.inner.get(running.id, undefined)?.status).toBe('running');
  });

  it('cancel() resolves after the store holds the cancelled record', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    const running = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    await executor.cancel(running.id);
    expect(store.inner.get(running.id, undefined)?.status).toBe('cancelled');
  });

  it('an unknown id costs one store lookup and nothing else', async () => {
    const store = new AsyncStore();
    executor = new Executor({ store });
    await expect(executor.continue('unknown-id', { waitMs: 1000 })).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
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
        { waitMs: 0 },
      ),
      'running',
    );
    // Another replica cancels through the shared store before the work returns.
    const now = Date.now();
    store.inner.finish(running.id, undefined, {
      status: 'cancelled',
      error: new Error('cancelled on replica B'),
      finishedAt: now,
      expiresAt: now + 60_000,
    });
    const waiting = executor.continue(running.id, { waitMs: 5000 });
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
      startedAt: Date.now(),
      finishedAt: undefined,
      expiresAt: undefined,
      result: undefined,
      resultError: undefined,
      error: undefined,
      progress: undefined,
    });
    const waiting = executor.continue('elsewhere-1', { waitMs: 10_000 });
    const now = Date.now();
    store.finish('elsewhere-1', undefined, {
      status: 'completed',
      result: 'remote result',
      finishedAt: now,
      expiresAt: now + 1000,
    });
    const caller = new AbortController();
    const cut = executor.continue('elsewhere-1', { waitMs: 10_000, signal: caller.signal });
    caller.abort();
    expect(expectStatus(await cut, 'completed').result).toBe('remote result');
    // The first wait was registered before the record finished; stop() ends it without a hang.
    await executor.stop();
    expectStatus(await waiting, 'completed');
  });

  it('a change that lands while continue() reads the record still ends its wait (no lost wake-up)', async () => {
    // Two executors on one store with a change feed, as replicas on Redis. B's read is held
    // until A has finished the work and the change has gone out: the read answers "running"
    // (what it saw), and only a wait listening before the read hears the change.
    const shared = sharedStore();
    let holdReads: Promise<void> | undefined;
    const a = new Executor({ store: shared.view() });
    executor = new Executor({
      store: shared.view({
        get: async (id, owner, read) => {
          const seen = read(id, owner);
          await holdReads;
          return seen;
        },
      }),
      maxWaitMs: 60_000,
    });
    try {
      const work = deferred<string>();
      const id = expectStatus(await a.execute(() => work.promise, { waitMs: 0 }), 'running').id;
      const read = deferred();
      holdReads = read.promise;
      const waiting = executor.continue(id, { waitMs: 60_000 }); // without the early listener: a 60 s wait
      const finishedOnA = new Promise((resolve) => a.on('completed', resolve));
      work.resolve('done on A');
      await finishedOnA; // A's finish is in the store and its change went out; B's read is held
      read.resolve();
      expect(expectStatus(await waiting, 'completed').result).toBe('done on A');
    } finally {
      await a.stop();
    }
  });

  it('two cancels race on two replicas: the one the store took first stands, in both answers', async () => {
    // A cancels its own operation: settled locally at once, its store write held. Meanwhile B's
    // cancel reaches the store first. A's write then finds B's record, and A must take it on.
    const shared = sharedStore();
    let releaseA!: () => void;
    const heldA = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    const a = new Executor({
      store: shared.view({
        finish: async (id, owner, update, write) => {
          await heldA;
          return write(id, owner, update);
        },
      }),
    });
    executor = new Executor({ store: shared.view() });
    try {
      const id = expectStatus(await a.execute(() => never(), { waitMs: 0 }), 'running').id;
      const byA = a.cancel(id, { reason: 'A' });
      const byB = await executor.cancel(id, { reason: 'B' });
      releaseA();
      const fromA = await byA;
      expect((byB.operation.error as OperationCancelledError).reason).toBe('B');
      expect((fromA.operation.error as OperationCancelledError).reason).toBe('B');
      expect(fromA.operation.finishedAt).toBe(byB.operation.finishedAt);
      expect((await a.get(id))?.finishedAt).toBe(byB.operation.finishedAt);
    } finally {
      await a.stop();
    }
  });
});

describe('a failing store', () => {
  it('a read that fails after a change elsewhere is reported as storeError; the cancel stands and the work ends cancelled', async () => {
    // B cancels A's operation; A hears the change and reads the record, and that read throws
    // (synchronously: the feed must not carry the throw back into B's cancel).
    const shared = sharedStore();
    let failing = false;
    const a = new Executor({
      store: shared.view({
        get: (id, owner, read) => {
          if (failing) throw new Error('replica A cannot read');
          return Promise.resolve(read(id, owner));
        },
      }),
    });
    executor = new Executor({ store: shared.view() });
    try {
      const reported = deferred<StoreError>();
      a.on('storeError', ({ error }) => reported.resolve(error));
      const work = deferred<string>();
      const id = expectStatus(await a.execute(() => work.promise, { waitMs: 0 }), 'running').id;
      failing = true;
      const byB = await executor.cancel(id, { reason: 'B' });
      expect(byB.operation.status).toBe('cancelled');
      const error = await reported.promise;
      expect(error).toMatchObject({ code: 'STORE_FAILED', action: 'read', operationId: id });
      expect(error.message).toBe(
        `The operation store failed (read of operation ${id}): replica A cannot read`,
      );
      // A's late result finds B's record in the store and takes it on.
      failing = false;
      const waiting = a.continue(id, { waitMs: 5000 });
      work.resolve('too late');
      const ended = expectStatus(await waiting, 'cancelled');
      expect((ended.error as OperationCancelledError).reason).toBe('B');
    } finally {
      await a.stop();
    }
  });

  it('an insert that rejects fails the operation with a StoreError naming it, and aborts the work', async () => {
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
        { waitMs: 0 },
      ),
      'failed',
    );
    expect(result.error).toBeInstanceOf(StoreError);
    expect(result.error).toMatchObject({ code: 'STORE_FAILED', action: 'insert' });
    expect(result.error.message).toMatch(
      /^The operation store failed \(insert of operation \S+\): disk full$/,
    );
    expect((result.error.cause as Error).message).toBe('disk full');
    expect(result.id).toBeUndefined();
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
    const result = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'failed');
    expect(result.error).toBeInstanceOf(StoreError);
    expect(result.error.message).toContain('sync failure');
  });

  it('a finish that rejects still wakes the waiters with the outcome', async () => {
    const store = new AsyncStore();
    store.finish = async () => {
      throw new Error('write failed');
    };
    executor = new Executor({ store });
    const work = deferred<string>();
    const running = expectStatus(await executor.execute(() => work.promise, { waitMs: 0 }), 'running');
    const waiting = executor.continue(running.id, { waitMs: 5000 });
    work.resolve('computed');
    expect(expectStatus(await waiting, 'completed').result).toBe('computed');
  });
});

/**
 * One MemoryStore shared by several executors, as replicas share Redis: each gets a view with a
 * change feed; a view may hold its reads or its terminal writes to stage a race.
 */
function sharedStore() {
  const inner = new MemoryStore();
  const listeners = new Set<(change: { id: string; status: OperationRecord['status'] }) => void>();
  const finish = (id: string, owner: string | undefined, update: TerminalUpdate) => {
    const record = inner.finish(id, owner, update);
    for (const listener of listeners) listener({ id, status: update.status });
    return record;
  };
  return {
    view(
      hooks: {
        get?: (
          id: string,
          owner: string | undefined,
          read: MemoryStore['get'],
        ) => Promise<OperationRecord | undefined>;
        finish?: (
          id: string,
          owner: string | undefined,
          update: TerminalUpdate,
          write: typeof finish,
        ) => Promise<OperationRecord | undefined>;
      } = {},
    ): OperationStore {
      return {
        get size() {
          return inner.size;
        },
        insert: (record) => inner.insert(record),
        get: (id, owner) =>
          hooks.get ? hooks.get(id, owner, (i, o) => inner.get(i, o)) : inner.get(id, owner),
        setProgress: (id, owner, progress) => inner.setProgress(id, owner, progress),
        finish: (id, owner, update) =>
          hooks.finish ? hooks.finish(id, owner, update, finish) : finish(id, owner, update),
        list: (filter) => inner.list(filter),
        sweep: (now) => inner.sweep(now),
        watch: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      };
    },
  };
}
