import { afterEach, describe, expect, it } from 'vitest';
import {
  Executor,
  OperationNotFoundError,
  TooManyOperationsError,
  TooManyWaitersError,
} from '../src/index.js';
import { deferred, expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

describe('maxOperations backpressure', () => {
  it('refuses execute() past the cap with an error naming the limit, and accepts again when room is made', async () => {
    executor = new Executor({ maxOperations: 2, retentionMs: 0 });
    const first = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    const refused = await executor.execute(() => 'x').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyOperationsError);
    expect((refused as TooManyOperationsError).code).toBe('TOO_MANY_OPERATIONS');
    expect((refused as TooManyOperationsError).limit).toBe(2);
    expect((refused as Error).message).toContain('2 running or retained');
    // With no retention, a cancelled operation frees its slot at the next sweep.
    await executor.cancel(first.id);
    expect(expectStatus(await executor.execute(() => 'fits'), 'completed').result).toBe('fits');
  });

  it('counts operations still inside their first wait, which have no id yet', async () => {
    executor = new Executor({ maxOperations: 1, defaultWaitMs: 50_000 });
    const work = deferred<string>();
    const inWait = executor.execute(() => work.promise);
    await expect(executor.execute(() => 'second')).rejects.toBeInstanceOf(TooManyOperationsError);
    work.resolve('first');
    expect(expectStatus(await inWait, 'completed').result).toBe('first');
    expect(expectStatus(await executor.execute(() => 'now it fits'), 'completed').result).toBe('now it fits');
  });

  it('counts retained operations until they expire', async () => {
    executor = new Executor({ maxOperations: 1 });
    const r = expectStatus(await executor.execute(async () => 1, { waitMs: 0 }), 'running');
    await executor.continue(r.id, { waitMs: 1000 });
    await expect(executor.execute(() => 2)).rejects.toBeInstanceOf(TooManyOperationsError);
  });
});

describe("whenFull: 'evict-oldest'", () => {
  it('makes room by dropping the operation that finished longest ago, and says so with an evicted event', async () => {
    executor = new Executor({ maxOperations: 2, whenFull: 'evict-oldest' });
    const evicted: string[] = [];
    executor.on('evicted', (event) => evicted.push(event.operation.id));
    const ids: string[] = [];
    for (const value of ['first', 'second']) {
      const r = expectStatus(await executor.execute(async () => value, { waitMs: 0 }), 'running');
      await executor.continue(r.id, { waitMs: 1000 });
      ids.push(r.id);
    }
    expect(expectStatus(await executor.execute(() => 'third'), 'completed').result).toBe('third');
    expect(evicted).toEqual([ids[0]]);
    expect(await executor.get(ids[0]!)).toBeUndefined();
    expect((await executor.get(ids[1]!))?.status).toBe('completed');
  });

  it('never evicts a running operation: with nothing finished to drop it still refuses', async () => {
    executor = new Executor({ maxOperations: 1, whenFull: 'evict-oldest' });
    const running = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    await expect(executor.execute(() => 'x')).rejects.toBeInstanceOf(TooManyOperationsError);
    expect((await executor.get(running.id))?.status).toBe('running');
  });
});

describe('maxRunningPerOwner', () => {
  it("refuses an owner's next operation past its cap with an error naming the owner; other owners and unowned work go on", async () => {
    executor = new Executor({ maxRunningPerOwner: 2 });
    const work = deferred<string>();
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      ids.push(
        expectStatus(await executor.execute(() => work.promise, { waitMs: 0, owner: 'greedy' }), 'running')
          .id,
      );
    }
    const refused = await executor.execute(() => 'x', { owner: 'greedy' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyOperationsError);
    expect((refused as TooManyOperationsError).owner).toBe('greedy');
    expect((refused as TooManyOperationsError).limit).toBe(2);
    expect((refused as Error).message).toBe(
      'Too many operations for owner "greedy": 2 running (maxRunningPerOwner); retry after some finish',
    );
    expect(expectStatus(await executor.execute(() => 'fine', { owner: 'polite' }), 'completed').result).toBe(
      'fine',
    );
    expect(expectStatus(await executor.execute(() => 'fine'), 'completed').result).toBe('fine');
    // A finished (even retained) operation frees its slot.
    await executor.cancel(ids[0]!, { owner: 'greedy' });
    expect(expectStatus(await executor.execute(() => 'again', { owner: 'greedy' }), 'completed').result).toBe(
      'again',
    );
    work.resolve('done');
  });
});

describe('maxWaitersPerOperation and maxWaiters', () => {
  it('refuses one more continue() on an operation past its cap, naming it; the waits in place are untouched', async () => {
    executor = new Executor({ maxWaitersPerOperation: 3 });
    const work = deferred<string>();
    const id = expectStatus(await executor.execute(() => work.promise, { waitMs: 0 }), 'running').id;
    const waits = [1, 2, 3].map(() => executor.continue(id, { waitMs: 50_000 }));
    const refused = await executor.continue(id, { waitMs: 50_000 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyWaitersError);
    expect((refused as TooManyWaitersError).code).toBe('TOO_MANY_WAITERS');
    expect((refused as TooManyWaitersError).operationId).toBe(id);
    expect((refused as Error).message).toBe(
      `Too many waits on operation ${id}: 3 already (maxWaitersPerOperation); wait on it from fewer places`,
    );
    // A wait of 0 is a read, not a wait: always answered.
    expectStatus(await executor.continue(id, { waitMs: 0 }), 'running');
    work.resolve('done');
    for (const wait of waits) expect(expectStatus(await wait, 'completed').result).toBe('done');
    // Once they woke, the operation takes waits again (answered at once: it finished).
    expectStatus(await executor.continue(id, { waitMs: 50_000 }), 'completed');
  });

  it('refuses one more continue() past the total cap over all operations; a wait that ends frees its place', async () => {
    executor = new Executor({ maxWaiters: 2 });
    const work = deferred<string>();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(expectStatus(await executor.execute(() => work.promise, { waitMs: 0 }), 'running').id);
    }
    const caller = new AbortController();
    const first = executor.continue(ids[0]!, { waitMs: 50_000, signal: caller.signal });
    const second = executor.continue(ids[1]!, { waitMs: 50_000 });
    const refused = await executor.continue(ids[2]!, { waitMs: 50_000 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyWaitersError);
    expect((refused as TooManyWaitersError).operationId).toBeUndefined();
    expect((refused as Error).message).toBe(
      'Too many waits: 2 continue() calls are waiting (maxWaiters); retry later',
    );
    caller.abort();
    expectStatus(await first, 'running');
    const third = executor.continue(ids[2]!, { waitMs: 50_000 });
    work.resolve('done');
    expectStatus(await second, 'completed');
    expectStatus(await third, 'completed');
  });

  it("another owner's waits never show: a stranger gets not found, not the cap", async () => {
    executor = new Executor({ maxWaitersPerOperation: 1 });
    const work = deferred<string>();
    const id = expectStatus(
      await executor.execute(() => work.promise, { waitMs: 0, owner: 'alice' }),
      'running',
    ).id;
    const waiting = executor.continue(id, { waitMs: 50_000, owner: 'alice' });
    await expect(executor.continue(id, { waitMs: 50_000, owner: 'mallory' })).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
    work.resolve('done');
    expectStatus(await waiting, 'completed');
  });
});
