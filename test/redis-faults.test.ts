// Replicas on a RedisStore while Redis goes away and comes back: each test runs a redis-server of
// its own on a free port, stops it and starts it again (never the shared one).
import { TimeoutError } from '@redis/client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Executor,
  ExecutorStoppedError,
  OperationNotFoundError,
  ReplicaLostError,
  StoreError,
} from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { deferred, expectStatus, never, untilAborted } from './helpers.js';
import {
  type OwnRedis,
  ownRedis,
  partitionable,
  subscribed,
  uniquePrefix,
  withRedisClient,
} from './redis-server.js';

/** Short, so that a command queued while Redis is down fails soon. */
const COMMAND_TIMEOUT_MS = 200;

let server: OwnRedis | undefined;
let opened: { store: RedisStore; executor: Executor }[] = [];

async function replica(url: string, prefix: string, commandTimeoutMs = COMMAND_TIMEOUT_MS, leaseMs?: number) {
  const store = await RedisStore.connect({
    url,
    prefix,
    commandTimeoutMs,
    ...(leaseMs === undefined ? {} : { leaseMs }),
  });
  const executor = new Executor({ store, maxWaitMs: 20_000 });
  const made = { store, executor };
  opened.push(made);
  return made;
}

afterEach(async () => {
  for (const { executor, store } of opened) {
    await executor.stop();
    await store.close();
  }
  opened = [];
  await server?.close();
  server = undefined;
});

describe('a RedisStore whose Redis is unreachable', () => {
  it('fails reads with a StoreError that says the store is unreachable, why, and after how long', async () => {
    server = await ownRedis({ appendonly: false });
    const { executor } = await replica(server.url, uniquePrefix());
    const work = deferred<string>();
    const r = expectStatus(await executor.execute(() => work.promise, { waitMs: 0 }), 'running');
    work.resolve('kept');
    expectStatus(await executor.continue(r.id, { waitMs: 1000 }), 'completed'); // now read from the store
    await server.stop();
    // The first call may be the one that finds the connection gone; after it, the client has
    // seen the connection closed and is reconnecting.
    await executor.list().catch(() => undefined);

    const unreachable = `store unreachable (connection refused to 127.0.0.1:${server.port}); the command timed out after ${COMMAND_TIMEOUT_MS} ms`;
    const listed = await executor.list().catch((error: unknown) => error);
    expect(listed).toBeInstanceOf(StoreError);
    expect((listed as StoreError).message).toBe(`The operation store failed (list): ${unreachable}`);
    // The chain is kept: the explanation, then node-redis's own (message-less) timeout.
    const explanation = (listed as StoreError).cause as Error;
    expect(explanation.message).toBe(unreachable);
    expect(explanation.cause).toBeInstanceOf(TimeoutError);

    await expect(executor.continue(r.id, { waitMs: 0 })).rejects.toThrow(
      `The operation store failed (read of operation ${r.id}): ${unreachable}`,
    );
  });
});

describe('a replica that serves redelivered work, while Redis is unreachable', () => {
  it('stops, and closes its store, without waiting for Redis to come back', async () => {
    server = await ownRedis({ appendonly: false });
    const { executor, store } = await replica(server.url, uniquePrefix());
    executor.defineJob('job', () => 'done'); // this replica now takes redelivered work (BullMQ's worker)
    const work = deferred<string>();
    expectStatus(
      await executor.execute(() => work.promise, { waitMs: 0, redeliver: { job: 'job' } }),
      'running',
    );
    await server.stop();
    // Each resolves (the test's own timeout is the failure): the worker is closed without waiting.
    await executor.stop();
    await store.close();
    opened = opened.filter((made) => made.store !== store);
  }, 30_000);

  it('does not spin the CPU while Redis is away (a BullMQ worker failing at once, over and over, would)', async () => {
    server = await ownRedis({ appendonly: false });
    const { executor } = await replica(server.url, uniquePrefix());
    executor.defineJob('job', () => 'done'); // this replica now serves: BullMQ's worker starts
    await executor.execute(() => 1, { waitMs: 0, redeliver: { job: 'job' } });
    await server.stop();
    // What is measured is the CPU this process uses over two seconds of outage: a loop that asks
    // Redis again at once after each failure takes all of a core (about 2000 ms of it); a worker
    // that waits for its connection to come back takes a few ms.
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const used = process.cpuUsage(before);
    expect((used.user + used.system) / 1000).toBeLessThan(1000);
  }, 30_000);
});

describe('a Redis restart that loses the records (no persistence)', () => {
  it('a long-poll on another replica answers not found once the store is back, not the running record it read before', async () => {
    server = await ownRedis({ appendonly: false });
    const prefix = uniquePrefix();
    // The default command timeout: the read after the wait may be queued until the client is back.
    const a = await replica(server.url, prefix, 5000);
    const b = await replica(server.url, prefix, 5000);
    const id = expectStatus(await a.executor.execute(() => never(), { waitMs: 0 }), 'running').id;
    const cut = new AbortController();
    const longPoll = b.executor.continue(id, { waitMs: 20_000, signal: cut.signal });
    // B's read before the wait came first on its connection: once a list through it answers, the
    // long-poll has seen the record running.
    expect((await b.executor.list()).operations.map((s) => s.status)).toEqual(['running']);
    await server.stop();
    await server.start(); // empty: the record is gone
    // B's connection is back once a read through it answers again.
    expect((await b.executor.list()).operations).toEqual([]);
    cut.abort(); // the wait ends as if its time were up
    await expect(longPoll).rejects.toBeInstanceOf(OperationNotFoundError);
    await expect(longPoll).rejects.toThrow(`Operation "${id}" was not found`);
  });
});

describe('a terminal write that fails while Redis is down', () => {
  /** Work on A that ends while Redis is stopped; resolves once A's write of its end has failed. */
  async function endDuringOutage(a: { executor: Executor }, redis: OwnRedis) {
    const work = deferred<string>();
    const id = expectStatus(await a.executor.execute(() => work.promise, { waitMs: 0 }), 'running').id;
    const writeFailed = deferred<StoreError>();
    a.executor.on('storeError', ({ error }) => {
      if (error.action === 'finish') writeFailed.resolve(error);
    });
    await redis.stop();
    work.resolve('rendered');
    expect((await writeFailed.promise).message).toContain('store unreachable (connection refused');
    return id;
  }

  it('is written again until it lands: another replica reads the outcome once Redis is back, not "running"', async () => {
    server = await ownRedis({ appendonly: true }); // the record survives the restart, as running
    const prefix = uniquePrefix();
    const a = await replica(server.url, prefix); // a short command timeout: its write fails soon
    const b = await replica(server.url, prefix, 5000); // its reads wait out the reconnection
    const id = await endDuringOutage(a, server);
    // The replica that ran it answers the end it knows, not the store's stale record.
    expect(expectStatus(await a.executor.continue(id, { waitMs: 0 }), 'completed').result).toBe('rendered');
    await server.start();
    // A change published while B's feed is still reconnecting never reaches B (B's wait would then
    // last its whole time before B reads the record again): B asks once its feed is back.
    await subscribed(server.url, `${prefix}events`, 2);
    // B reads "running" until A's write lands, which wakes its wait, or the end if it landed already.
    const seen = expectStatus(await b.executor.continue(id, { waitMs: 10_000 }), 'completed');
    expect(seen.result).toBe('rendered');
    await a.executor.stop();
  }, 30_000);

  it('stop() while the write is still being tried again ends the tries instead of waiting for Redis', async () => {
    server = await ownRedis({ appendonly: false });
    const a = await replica(server.url, uniquePrefix());
    const id = await endDuringOutage(a, server);
    expect(expectStatus(await a.executor.continue(id, { waitMs: 0 }), 'completed').result).toBe('rendered');
    await a.executor.stop(); // Redis never comes back: this resolving is the assertion
    await expect(a.executor.continue(id)).rejects.toBeInstanceOf(ExecutorStoppedError);
  });
});

describe('leases across an outage', () => {
  const LEASE_MS = 1500;

  it('a replica whose lease ran out while it was cut off is not reaped by one that was cut off too', async () => {
    // The first replica back used to reap every lease that ran out during the outage, healthy ones
    // included. Staged without a race: A runs work and renews; its lease is made to read as run out
    // (as after an outage), and B starts then, the first replica "back".
    server = await ownRedis({ appendonly: false });
    const prefix = uniquePrefix();
    const a = await replica(server.url, prefix, 5000, LEASE_MS);
    const work = deferred<string>();
    const id = expectStatus(await a.executor.execute(() => work.promise, { waitMs: 0 }), 'running').id;
    await withRedisClient(server.url, (raw) =>
      raw.zAdd(`${prefix}replicas`, { score: Date.now() - 1, value: a.store.replica }),
    );
    const b = await replica(server.url, prefix, 5000, LEASE_MS);
    // B's own wait spans more than a lease of B renewing: time to reap, had A not renewed meanwhile.
    const seen = await b.executor.continue(id, { waitMs: 2 * LEASE_MS });
    expect(seen.status).toBe('running');
    work.resolve('done');
    expect(expectStatus(await b.executor.continue(id, { waitMs: 10_000 }), 'completed').result).toBe('done');
  }, 30_000);

  it('Redis down for twice the lease and back: no work running on a live replica is failed', async () => {
    server = await ownRedis({ appendonly: true });
    const prefix = uniquePrefix();
    const a = await replica(server.url, prefix, 5000, LEASE_MS);
    const b = await replica(server.url, prefix, 5000, LEASE_MS);
    const works = [deferred<string>(), deferred<string>()];
    const ids = [
      expectStatus(await a.executor.execute(() => works[0]!.promise, { waitMs: 0 }), 'running').id,
      expectStatus(await b.executor.execute(() => works[1]!.promise, { waitMs: 0 }), 'running').id,
    ];
    await server.stop();
    // The outage itself is what is tested: it must outlast every lease.
    await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS));
    await server.start();
    await subscribed(server.url, `${prefix}events`, 2);
    // Each replica's wait on the other's work spans more than a lease after the restart.
    const [onB, onA] = await Promise.all([
      b.executor.continue(ids[0]!, { waitMs: 2 * LEASE_MS }),
      a.executor.continue(ids[1]!, { waitMs: 2 * LEASE_MS }),
    ]);
    expect([onB.status, onA.status]).toEqual(['running', 'running']);
    works[0]!.resolve('a done');
    works[1]!.resolve('b done');
    expect(expectStatus(await b.executor.continue(ids[0]!, { waitMs: 10_000 }), 'completed').result).toBe(
      'a done',
    );
    expect(expectStatus(await a.executor.continue(ids[1]!, { waitMs: 10_000 }), 'completed').result).toBe(
      'b done',
    );
  }, 30_000);
});

describe('redeliverable work when its replica cannot renew its lease', () => {
  const LEASE_MS = 1500;
  it('stops before the lease runs out (its signal fires), is handed back, and runs again once Redis is back; other work runs on', async () => {
    server = await ownRedis({ appendonly: true });
    const prefix = uniquePrefix();
    const a = await replica(server.url, prefix, 5000, LEASE_MS);
    const b = await replica(server.url, prefix, 5000, LEASE_MS);
    const runs: string[] = [];
    for (const [name, r] of [
      ['a', a],
      ['b', b],
    ] as const) {
      r.executor.defineJob('resize', (_args, _context, { attempt }) => {
        runs.push(`${name} attempt ${attempt}`);
        return 'resized';
      });
    }
    const stopped = deferred<unknown>();
    const plain = deferred<string>();
    const redeliverable = expectStatus(
      await a.executor.execute(untilAborted(stopped.resolve), {
        waitMs: 0,
        redeliver: { job: 'resize', backoffMs: 0 },
      }),
      'running',
    ).id;
    const other = expectStatus(await a.executor.execute(() => plain.promise, { waitMs: 0 }), 'running').id;
    await server.stop();
    // Before its lease can run out, A stops the redeliverable work: nobody can run it twice at once.
    const reason = await stopped.promise;
    expect(reason).toBeInstanceOf(ReplicaLostError);
    await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS));
    await server.start();
    await subscribed(server.url, `${prefix}events`, 2);

    // Once Redis is back, the hand-back lands and a replica runs it again; a lost lease costs no attempt.
    const again = expectStatus(await b.executor.continue(redeliverable, { waitMs: 10_000 }), 'completed');
    expect(again.result).toBe('resized');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^[ab] attempt 1$/);
    // The other work ran on through the outage, and its end is kept.
    plain.resolve('plain done');
    expect(expectStatus(await b.executor.continue(other, { waitMs: 10_000 }), 'completed').result).toBe(
      'plain done',
    );
  }, 30_000);
});

describe('a replica partitioned from Redis (the others still reach it)', () => {
  const LEASE_MS = 1000;

  it('stops its redeliverable work before another replica reaps it and runs that work again', async () => {
    server = await ownRedis({ appendonly: false });
    const prefix = uniquePrefix();
    const proxy = await partitionable(server.port);
    const a = await replica(proxy.url, prefix, 200, LEASE_MS);
    const b = await replica(server.url, prefix, 200, LEASE_MS);
    // What happened, in the order it happened (one process: one timeline).
    const timeline: string[] = [];
    a.executor.defineJob('index', () => 'indexed by a');
    b.executor.defineJob('index', (_args, _context, { attempt }) => {
      timeline.push(`b runs it again (attempt ${attempt})`);
      return 'indexed by b';
    });
    const id = expectStatus(
      await a.executor.execute(
        untilAborted((reason) => timeline.push(`a stops it (${(reason as Error).name})`)),
        { waitMs: 0, redeliver: { job: 'index', backoffMs: 0 } },
      ),
      'running',
    ).id;
    const waiting = b.executor.continue(id, { waitMs: 15_000 });
    await proxy.cut();

    const done = expectStatus(await waiting, 'completed');
    expect(done.result).toBe('indexed by b');
    expect(timeline).toEqual(['a stops it (ReplicaLostError)', 'b runs it again (attempt 2)']);
  }, 30_000);
});

describe('a change feed cut and back', () => {
  it('a change published while a replica’s feed reconnects is not lost: its waits read again once the feed is back', async () => {
    server = await ownRedis({ appendonly: false });
    const prefix = uniquePrefix();
    const a = await replica(server.url, prefix, 5000);
    const b = await replica(server.url, prefix, 5000);
    const work = deferred<string>();
    const id = expectStatus(await a.executor.execute(() => work.promise, { waitMs: 0 }), 'running').id;
    // B waits (its read goes out before the kill below, and finds the work running).
    const waiting = b.executor.continue(id, { waitMs: 20_000 });
    // Every replica's feed is cut.
    await withRedisClient(server.url, (raw) => raw.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']));
    work.resolve('done while the feeds were down'); // published to nobody
    // Without reading again on the feed's return, B would sit out its 20 s wait (past this test's timeout).
    expect(expectStatus(await waiting, 'completed').result).toBe('done while the feeds were down');
  }, 10_000);
});
