import { afterEach, describe, expect, it } from 'vitest';
import { Executor, OperationNotFoundError } from '../src/index.js';
import { expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

describe('owner scoping', () => {
  async function aliceOperation(work: () => Promise<unknown> = () => never()) {
    return expectStatus(await executor.execute(work, { waitMs: 0, owner: 'alice' }), 'running').id;
  }

  it('another owner gets "not found" from continue, cancel and get, worded exactly as for an unknown id', async () => {
    executor = new Executor();
    const id = await aliceOperation();
    for (const stranger of ['bob', undefined]) {
      const asStranger = await executor.continue(id, { waitMs: 0, owner: stranger }).catch((e: unknown) => e);
      expect(asStranger).toBeInstanceOf(OperationNotFoundError);
      const unknown = await executor
        .continue('x'.repeat(22), { waitMs: 0, owner: stranger })
        .catch((e: unknown) => e);
      expect((asStranger as Error).message.replace(id, '<id>')).toBe(
        (unknown as Error).message.replace('x'.repeat(22), '<id>'),
      );
      await expect(executor.cancel(id, { owner: stranger })).rejects.toBeInstanceOf(OperationNotFoundError);
      expect(await executor.get(id, { owner: stranger })).toBeUndefined();
    }
    expect((await executor.get(id, { owner: 'alice' }))?.status).toBe('running');
  });

  it("a stranger's cancel leaves the operation running", async () => {
    executor = new Executor();
    const id = await aliceOperation();
    await executor.cancel(id, { owner: 'bob' }).catch(() => undefined);
    expect((await executor.get(id, { owner: 'alice' }))?.status).toBe('running');
  });

  it('finished operations stay scoped too', async () => {
    executor = new Executor();
    const id = await aliceOperation(async () => 'secret');
    expectStatus(await executor.continue(id, { waitMs: 1000, owner: 'alice' }), 'completed');
    await expect(executor.continue(id, { waitMs: 0, owner: 'bob' })).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
    expect(await executor.get(id, { owner: 'bob' })).toBeUndefined();
  });

  it('list() shows each owner only its own operations', async () => {
    executor = new Executor();
    const alice = await aliceOperation();
    const bob = expectStatus(await executor.execute(() => never(), { waitMs: 0, owner: 'bob' }), 'running');
    const nobody = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    expect((await executor.list({ owner: 'alice' })).operations.map((s) => s.id)).toEqual([alice]);
    expect((await executor.list({ owner: 'bob' })).operations.map((s) => s.id)).toEqual([bob.id]);
    expect((await executor.list()).operations.map((s) => s.id)).toEqual([nobody.id]);
    expect((await executor.list({ owner: 'carol' })).operations).toEqual([]);
  });
});
