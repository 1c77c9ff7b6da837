// Fault injection in one place: work that misbehaves in every way the issue lists, and a store
// that throws or rejects at each thing the executor asks of it. For each: the caller gets a clear
// error (or the outcome), the executor keeps serving, and nothing escapes as an unhandled
// rejection (vitest fails the run on one). Single faults have their own tests elsewhere
// (failures, lifetime, cancel, store-seam, sqlite); this file crosses them.
import { afterEach, describe, expect, it } from 'vitest';
import {
  Executor,
  MemoryStore,
  NonErrorThrownError,
  OperationCancelledError,
  OperationLifetimeError,
  StoreError,
  type StoreErrorEvent,
} from '../src/index.js';
import { deferred, expectStatus, flushMicrotasks, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

/** Background work that the test settles by hand, and its progress reporter. */
async function startReporting() {
  const work = deferred<string>();
  let report!: (current: number, total?: number, message?: string) => void;
  const r = expectStatus(
    await executor.execute(
      ({ progress }) => {
        report = progress;
        return work.promise;
      },
      { waitMs: 0 },
    ),
    'running',
  );
  return { id: r.id, work, report };
}

/** The executor still does its job after the fault. */
async function stillServes(): Promise<void> {
  expect(expectStatus(await executor.execute(() => 'after'), 'completed').result).toBe('after');
  const r = expectStatus(await executor.execute(async () => 'later', { waitMs: 0 }), 'running');
  expect(expectStatus(await executor.continue(r.id, { waitMs: 1000 }), 'completed').result).toBe('later');
}

describe('work that misbehaves', () => {
  it.each([
    ['throws an Error', () => Promise.reject(new Error('boom')), 'boom', Error],
    ['rejects with a string', () => Promise.reject('just a string'), 'just a string', NonErrorThrownError],
    ['rejects with undefined', () => Promise.reject(undefined), 'undefined', NonErrorThrownError],
    ['rejects with a plain object', () => Promise.reject({ code: 42 }), '{"code":42}', NonErrorThrownError],
    [
      'throws synchronously a non-Error',
      () => {
        throw 7;
      },
      '7',
      NonErrorThrownError,
    ],
  ] as const)('that %s fails with an error saying what it was', async (_, fn, text, kind) => {
    executor = new Executor();
    const inline = expectStatus(await executor.execute(fn as () => Promise<never>), 'failed');
    expect(inline.error).toBeInstanceOf(kind);
    expect(inline.error.message).toContain(text);
    const background = expectStatus(
      await executor.execute(async () => (fn as () => Promise<never>)(), { waitMs: 0 }),
      'running',
    );
    const later = expectStatus(await executor.continue(background.id, { waitMs: 1000 }), 'failed');
    expect(later.error.message).toContain(text);
    await stillServes();
  });

  it('that never settles and ignores its signal fails at maxLifetimeMs; the executor keeps serving meanwhile', async () => {
    executor = new Executor({ maxLifetimeMs: 50 });
    const r = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    await stillServes();
    const ended = expectStatus(await executor.continue(r.id, { waitMs: 5000 }), 'failed');
    expect(ended.error).toBeInstanceOf(OperationLifetimeError);
    expect(ended.error.message).toBe('Operation exceeded its maximum lifetime of 50 ms');
  });

  it('that resolves after it was cancelled, or reports progress after it ended, changes nothing', async () => {
    executor = new Executor();
    const { id, work, report } = await startReporting();
    const progressEvents: number[] = [];
    executor.on('progress', (event) => progressEvents.push(event.progress.current));
    await executor.cancel(id, { reason: 'changed my mind' });
    work.resolve('too late');
    report(5, 10, 'still going?');
    await flushMicrotasks();
    const after = expectStatus(await executor.continue(id, { waitMs: 0 }), 'cancelled');
    expect(after.error).toBeInstanceOf(OperationCancelledError);
    expect((await executor.get(id))?.progress).toBeUndefined();
    expect(progressEvents).toEqual([]);
    // Nonsense progress is still refused loudly while it runs.
    const live = expectStatus(
      await executor.execute(
        ({ progress }) => {
          progress(Number.NaN);
          return never();
        },
        { waitMs: 0 },
      ),
      'failed',
    );
    expect(live.error.message).toMatch(/`current`.*NaN/);
    await stillServes();
  });
});

/** A MemoryStore whose named methods fail (reject, or throw when `sync`) while `failing` is set. */
function faultyStore(
  methods: ('get' | 'list' | 'setProgress' | 'finish' | 'sweep' | 'evictOldestFinished')[],
  sync = false,
) {
  const store = new MemoryStore();
  const state = { failing: false };
  const methodsOf = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of methods) {
    const original = methodsOf[name]!.bind(store);
    methodsOf[name] = (...args: unknown[]) => {
      if (!state.failing) return original(...args);
      const error = new Error(`${name} is down`);
      if (sync) throw error;
      return Promise.reject(error);
    };
  }
  return { store, state };
}

describe('a store that throws or rejects', () => {
  it.each([false, true])(
    'reads (continue, get, list, cancel) reject with a StoreError naming the action and id (sync throw: %s)',
    async (sync) => {
      const { store, state } = faultyStore(['get', 'list'], sync);
      executor = new Executor({ store });
      const r = expectStatus(await executor.execute(async () => 'kept', { waitMs: 0 }), 'running');
      await executor.continue(r.id, { waitMs: 1000 }); // finished: now served from the store
      state.failing = true;
      for (const call of [
        () => executor.continue(r.id, { waitMs: 0 }),
        () => executor.get(r.id),
        () => executor.cancel(r.id),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect(error).toMatchObject({ code: 'STORE_FAILED', action: 'read', operationId: r.id });
        expect((error as Error).message).toBe(
          `The operation store failed (read of operation ${r.id}): get is down`,
        );
      }
      await expect(executor.list()).rejects.toMatchObject({
        code: 'STORE_FAILED',
        action: 'list',
        message: 'The operation store failed (list): list is down',
      });
      state.failing = false;
      expect(expectStatus(await executor.continue(r.id, { waitMs: 0 }), 'completed').result).toBe('kept');
      await stillServes();
    },
  );

  it("an eviction that fails (whenFull: 'evict-oldest') refuses execute() with a StoreError; nothing is lost", async () => {
    const { store, state } = faultyStore(['evictOldestFinished']);
    executor = new Executor({ store, maxOperations: 1, whenFull: 'evict-oldest' });
    const kept = expectStatus(await executor.execute(async () => 'kept', { waitMs: 0 }), 'running');
    await executor.continue(kept.id, { waitMs: 1000 });
    state.failing = true;
    await expect(executor.execute(() => 'no room')).rejects.toMatchObject({
      code: 'STORE_FAILED',
      action: 'evict',
      message: 'The operation store failed (evict): evictOldestFinished is down',
    });
    expect(expectStatus(await executor.continue(kept.id, { waitMs: 0 }), 'completed').result).toBe('kept');
    state.failing = false;
    expect(expectStatus(await executor.execute(() => 'room made'), 'completed').result).toBe('room made');
  });

  it('background writes (progress, terminal state) and sweeps that fail are reported as storeError; waiters still get the outcome', async () => {
    const { store, state } = faultyStore(['setProgress', 'finish', 'sweep']);
    executor = new Executor({ store, sweepIntervalMs: 10 });
    const reported: StoreErrorEvent[] = [];
    const swept = deferred();
    executor.on('storeError', (event) => {
      reported.push(event);
      if (event.error.action === 'sweep') swept.resolve();
    });
    const { id, work, report } = await startReporting();
    state.failing = true;
    const waiting = executor.continue(id, { waitMs: 5000 });
    report(1, 2);
    work.resolve('computed');
    expect(expectStatus(await waiting, 'completed').result).toBe('computed');
    await swept.promise;
    expect(reported.map((e) => [e.error.action, e.error.operationId])).toEqual(
      expect.arrayContaining([
        ['setProgress', id],
        ['finish', id],
        ['sweep', undefined],
      ]),
    );
    for (const { error } of reported) {
      expect(error).toBeInstanceOf(StoreError);
      expect(error.message).toMatch(/^The operation store failed \(\w+( of operation \S+)?\): \w+ is down$/);
    }
    state.failing = false;
    await stillServes();
  });

  it('a terminal write that keeps failing is tried again until retention passes, then reported given up', async () => {
    const { store, state } = faultyStore(['finish']);
    executor = new Executor({ store, retentionMs: 300 });
    const gaveUp = deferred<StoreError>();
    const failures: string[] = [];
    executor.on('storeError', ({ error }) => {
      if (error.message.includes('gave up')) gaveUp.resolve(error);
      else failures.push(error.message);
    });
    const { id, work } = await startReporting();
    state.failing = true;
    work.resolve('done');
    // Meanwhile the end is answered from memory, not from the store's running record.
    expect(expectStatus(await executor.continue(id, { waitMs: 1000 }), 'completed').result).toBe('done');
    expect(expectStatus(await executor.continue(id, { waitMs: 0 }), 'completed').result).toBe('done');
    const error = await gaveUp.promise;
    expect(error).toMatchObject({ code: 'STORE_FAILED', action: 'finish', operationId: id });
    expect(error.message).toBe(
      `The operation store failed (finish of operation ${id}): gave up writing the operation's end: its retention passed`,
    );
    // The first failure is reported, the tries after it are not (one event per write, not per try).
    expect(failures).toEqual([`The operation store failed (finish of operation ${id}): finish is down`]);
  });

  it.each([
    ['an Error without a message', new Error(''), 'Error (no message)'],
    [
      'a subclass without a message, with a code',
      Object.assign(new (class TimeoutError extends Error {})(), { code: 'ETIMEDOUT' }),
      'TimeoutError ETIMEDOUT (no message)',
    ],
    [
      'an AggregateError of several failures',
      new AggregateError([
        new Error('connect ECONNREFUSED ::1:6379'),
        new Error('connect ECONNREFUSED 127.0.0.1:6379'),
      ]),
      'connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379',
    ],
  ])('a store error never reads empty: %s says what it was', (_, cause, text) => {
    const error = new StoreError('list', undefined, cause);
    expect(error.message).toBe(`The operation store failed (list): ${text}`);
    expect(error.cause).toBe(cause);
  });
});
