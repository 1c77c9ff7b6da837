import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Executor, OperationCancelledError, ReplicaLostError } from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { deferred, expectStatus, never, runningRecord } from './helpers.js';
import { deleteKeys, type TestRedis, testRedis, uniquePrefix, withRedisClient } from './redis-server.js';

// Two replicas in one test process: each an Executor on its own RedisStore (its own connections,
// its own lease), sharing one Redis and one key prefix, as two server processes would.

let redis: TestRedis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(async () => {
  await redis.stop();
});

interface Replica {
  readonly store: RedisStore;
  readonly executor: Executor;
}
let opened: Replica[] = [];
let prefix: string;

async function replica(leaseMs = 10_000): Promise<Replica> {
  const store = await RedisStore.connect({ url: redis.url, prefix, leaseMs });
  const executor = new Executor({ store, maxWaitMs: 20_000 });
  const made = { store, executor };
  opened.push(made);
  return made;
}

afterEach(async () => {
  for (const { executor, store } of opened) {
    await executor.stop().catch(() => undefined);
    await store.close();
  }
  opened = [];
  await deleteKeys(redis.url, prefix);
});

describe('RedisStore shared by replicas', () => {
  it('any replica answers for any operation; completion on A wakes a waiter on B without polling', async () => {
    prefix = uniquePrefix();
    const a = await replica();
    const b = await replica();
    const work = deferred<{ frames: number }>();
    const id = expectStatus(
      await a.executor.execute(() => work.promise, { waitMs: 0, type: 'render', owner: 'alice' }),
      'running',
    ).id;
    expect((await b.executor.get(id, { owner: 'alice' }))?.status).toBe('running');
    expect((await b.executor.list({ owner: 'alice' })).operations.map((s) => s.id)).toEqual([id]);
    // B waits up to 20 s; without a wake-up across replicas it would sit out the whole wait.
    const waiting = b.executor.continue(id, { waitMs: 20_000, owner: 'alice' });
    work.resolve({ frames: 240 });
    const result = expectStatus(await waiting, 'completed');
    expect(result.result).toEqual({ frames: 240 });
    expect(await b.executor.get(id, { owner: 'bob' })).toBeUndefined();
  });

  it("a cancel on B aborts the work's signal on A, and a late result there is discarded", async () => {
    prefix = uniquePrefix();
    const a = await replica();
    const b = await replica();
    const aborted = deferred<unknown>();
    const work = deferred<string>();
    const id = expectStatus(
      await a.executor.execute(
        ({ signal }) => {
          signal.addEventListener('abort', () => aborted.resolve(signal.reason));
          return work.promise;
        },
        { waitMs: 0 },
      ),
      'running',
    ).id;
    const snapshot = await b.executor.cancel(id, { reason: 'from replica B' });
    expect(snapshot.operation.status).toBe('cancelled');
    const reason = await aborted.promise; // the change reached A
    expect(reason).toBeInstanceOf(OperationCancelledError);
    expect((reason as OperationCancelledError).reason).toBe('from replica B');
    work.resolve('too late');
    expectStatus(await a.executor.continue(id, { waitMs: 0 }), 'cancelled');
    expectStatus(await b.executor.continue(id, { waitMs: 0 }), 'cancelled');
  });

  it('when a replica dies, another reports its running operations failed (owner replica lost) within the lease', async () => {
    prefix = uniquePrefix();
    const a = await replica(300);
    const b = await replica(300);
    const id = expectStatus(await a.executor.execute(() => never(), { waitMs: 0 }), 'running').id;
    const waiting = b.executor.continue(id, { waitMs: 20_000 });
    await a.store.close(); // A stops renewing its lease, as a killed process would
    const failed = expectStatus(await waiting, 'failed');
    expect(failed.error).toBeInstanceOf(ReplicaLostError);
    expect((failed.error as ReplicaLostError).replica).toBe(a.store.replica);
    expect(failed.error.message).toContain('owner replica lost');
  });

  it('a terminal state is set once across replicas: two cancels and a completion race, one wins', async () => {
    prefix = uniquePrefix();
    const a = await replica();
    const b = await replica();
    const work = deferred<string>();
    const id = expectStatus(await a.executor.execute(() => work.promise, { waitMs: 0 }), 'running').id;
    const [first, second] = await Promise.all([
      a.executor.cancel(id, { reason: 'A' }),
      b.executor.cancel(id, { reason: 'B' }),
    ]);
    work.resolve('late');
    // Exactly one of the two calls cancelled it, and both say which.
    expect([first.cancelled, second.cancelled].sort()).toEqual([false, true]);
    const winner = first.cancelled ? 'A' : 'B';
    expect((first.operation.error as OperationCancelledError).reason).toBe(winner);
    expect(first.operation.finishedAt).toBe(second.operation.finishedAt);
    expect((first.operation.error as OperationCancelledError).reason).toBe(
      (second.operation.error as OperationCancelledError).reason,
    );
    const final = await b.executor.get(id);
    expect(final?.finishedAt).toBe(first.operation.finishedAt);
  });

  it('a listing that spans several reads neither repeats nor skips a record when another lands meanwhile', async () => {
    prefix = uniquePrefix();
    const { store } = await replica();
    for (let i = 0; i < 450; i++)
      await store.insert(runningRecord(`op-${String(i).padStart(3, '0')}`, 'o', 1000 + i));
    // The insert is sent on the same connection right after the listing's first read, so it lands
    // between that read and the next: a newer record, ahead of everything the listing has seen.
    const listing = store.list({ owner: 'o', limit: 1000 });
    await store.insert(runningRecord('newcomer', 'o', 5000));
    const ids = (await listing).map((record) => record.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('op-'))).toHaveLength(450);
  });

  it('keeps apps apart by key prefix, and retains finished records through Redis key expiry', async () => {
    prefix = uniquePrefix();
    const a = await replica();
    const work = deferred<string>();
    const id = expectStatus(await a.executor.execute(() => work.promise, { waitMs: 0 }), 'running').id;
    work.resolve('kept');
    expectStatus(await a.executor.continue(id, { waitMs: 1000 }), 'completed');
    const other = await RedisStore.connect({ url: redis.url, prefix: uniquePrefix() });
    expect(await other.get(id, undefined)).toBeUndefined();
    await other.close();
    const ttl = await withRedisClient(redis.url, (client) => client.pTTL(`${prefix}op:${id}`));
    // the executor's default retention, 300 s, as the key's time to live
    expect(ttl).toBeGreaterThan(290_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
  });

  it('refuses bad options, naming them', async () => {
    prefix = uniquePrefix();
    await expect(RedisStore.connect({ url: 'http://localhost' })).rejects.toThrow(
      /`url` to be a redis:\/\/ or rediss:\/\/ URL/,
    );
    await expect(RedisStore.connect({ url: redis.url, leaseMs: 5 })).rejects.toThrow(
      /`leaseMs` to be at least 30/,
    );
  });
});
