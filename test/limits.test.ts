import { afterEach, describe, expect, it } from 'vitest';
import { Executor, TooManyOperationsError } from '../src/index.js';
import { deferred, expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

describe('maxOperations backpressure', () => {
  it('refuses execute() past the cap with an error naming the limit, and accepts again when room is made', async () => {
    executor = new Executor({ maxOperations: 2, retentionPeriod: 0 });
    const first = expectStatus(await executor.execute(() => never(), { timeout: 0 }), 'running');
    expectStatus(await executor.execute(() => never(), { timeout: 0 }), 'running');
    const refused = await executor.execute(() => 'x').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyOperationsError);
    expect((refused as TooManyOperationsError).code).toBe('TOO_MANY_OPERATIONS');
    expect((refused as TooManyOperationsError).limit).toBe(2);
    expect((refused as Error).message).toContain('2 running or retained');
    // With no retention, a cancelled operation frees its slot at the next sweep.
    await executor.cancel(first.operationId);
    expect(expectStatus(await executor.execute(() => 'fits'), 'completed').result).toBe('fits');
  });

  it('counts operations still inside their first wait, which have no id yet', async () => {
    executor = new Executor({ maxOperations: 1, defaultTimeout: 50_000 });
    const work = deferred<string>();
    const inWait = executor.execute(() => work.promise);
    await expect(executor.execute(() => 'second')).rejects.toBeInstanceOf(TooManyOperationsError);
    work.resolve('first');
    expect(expectStatus(await inWait, 'completed').result).toBe('first');
    expect(expectStatus(await executor.execute(() => 'now it fits'), 'completed').result).toBe('now it fits');
  });

  it('counts retained operations until they expire', async () => {
    executor = new Executor({ maxOperations: 1 });
    const r = expectStatus(await executor.execute(async () => 1, { timeout: 0 }), 'running');
    await executor.continue(r.operationId, 1000);
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
      const r = expectStatus(await executor.execute(async () => value, { timeout: 0 }), 'running');
      await executor.continue(r.operationId, 1000);
      ids.push(r.operationId);
    }
    expect(expectStatus(await executor.execute(() => 'third'), 'completed').result).toBe('third');
    expect(evicted).toEqual([ids[0]]);
    expect(await executor.get(ids[0]!)).toBeUndefined();
    expect((await executor.get(ids[1]!))?.status).toBe('completed');
  });

  it('never evicts a running operation: with nothing finished to drop it still refuses', async () => {
    executor = new Executor({ maxOperations: 1, whenFull: 'evict-oldest' });
    const running = expectStatus(await executor.execute(() => never(), { timeout: 0 }), 'running');
    await expect(executor.execute(() => 'x')).rejects.toBeInstanceOf(TooManyOperationsError);
    expect((await executor.get(running.operationId))?.status).toBe('running');
  });
});
