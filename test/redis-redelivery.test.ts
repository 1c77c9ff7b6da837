// Redeliverable work on replicas sharing a RedisStore (the shared Redis, a prefix per test): run
// again on another replica when its own dies (here: its store closes without ending the work, so its
// lease runs out exactly as after a crash), handed back by a graceful stop, never run again when not
// declared so or out of attempts. Real processes SIGKILLed: test/mcp/redis-replicas.test.ts.

import { createClient } from '@redis/client';
import { Queue, QueueEvents } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobFunction } from '../src/index.js';
import {
  Executor,
  ExecutorStoppedError,
  OperationLifetimeError,
  OperationNotFoundError,
  ReplicaLostError,
} from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { deferred, expectStatus, never, untilAborted } from './helpers.js';
import { deleteKeys, testRedis, uniquePrefix, withRedisClient } from './redis-server.js';

const LEASE_MS = 300;
const redis = await testRedis();
let prefix = uniquePrefix();
let opened: { store: RedisStore; executor: Executor }[] = [];

/** A replica: its own store (connections, lease) and executor, with `jobs` defined. */
async function replica(
  jobs: Record<string, JobFunction<unknown>> = {},
  options: { maxLifetimeMs?: number } = {},
) {
  const store = await RedisStore.connect({ url: redis.url, prefix, leaseMs: LEASE_MS });
  const executor = new Executor({ store, maxWaitMs: 20_000, ...options });
  for (const [name, job] of Object.entries(jobs)) executor.defineJob(name, job);
  const made = { store, executor };
  opened.push(made);
  return made;
}

/** The replica dies: its lease is no longer renewed and nothing of its work reaches the store. */
async function die(r: { store: RedisStore }): Promise<void> {
  await r.store.close();
}

/** BullMQ's own queue and events on this test's redelivery queue, for `use`, closed after it. */
async function withBullMQ(use: (queue: Queue, events: QueueEvents) => Promise<void>): Promise<void> {
  const clients = [createClient({ url: redis.url }), createClient({ url: redis.url })];
  for (const client of clients) await client.connect();
  const bull = { prefix: `${prefix}bull` };
  const queue = new Queue('redeliveries', { connection: clients[0] as never, ...bull });
  const events = new QueueEvents('redeliveries', { connection: clients[1] as never, ...bull });
  try {
    await events.waitUntilReady();
    await use(queue, events);
  } finally {
    await queue.close();
    await events.close();
    for (const client of clients) await client.quit().catch(() => undefined);
  }
}

afterEach(async () => {
  for (const { executor, store } of opened) {
    await executor.stop();
    await store.close();
  }
  opened = [];
  await deleteKeys(redis.url, prefix);
  prefix = uniquePrefix();
});

describe('redeliverable work on a RedisStore', () => {
  it('runs again on another replica when its replica dies: same id, owner and waiters, attempt 2', async () => {
    const runs: { args: unknown; owner: string | undefined; attempt: number }[] = [];
    const double: JobFunction<number> = (args, _context, run) => {
      runs.push({ args, ...run });
      return (args as { n: number }).n * 2;
    };
    const a = await replica({ double });
    const b = await replica({ double });
    const started = await a.executor.execute(() => never<number>(), {
      waitMs: 0,
      owner: 'alice',
      redeliver: { job: 'double', args: { n: 21 }, backoffMs: 0 },
    });
    const id = expectStatus(started, 'running').id;
    expect((await b.executor.get(id, { owner: 'alice' }))?.attempt).toBe(1);
    // A waiter on the surviving replica, parked before the death: it is answered by the run again.
    const waiting = b.executor.continue(id, { owner: 'alice', waitMs: 20_000 });
    await die(a);

    const done = expectStatus(await waiting, 'completed');
    expect(done.id).toBe(id);
    expect(done.result).toBe(42);
    expect(runs).toEqual([{ args: { n: 21 }, owner: 'alice', attempt: 2 }]);
    const snapshot = await b.executor.get(id, { owner: 'alice' });
    expect(snapshot?.status).toBe('completed');
    expect(snapshot?.attempt).toBe(2);
    await expect(b.executor.continue(id, { waitMs: 0 })).rejects.toBeInstanceOf(OperationNotFoundError);
  });

  it('is lost with the outcome-unknown error once its attempts are spent, and never runs again', async () => {
    let ran = 0;
    const hangs: JobFunction<string> = () => {
      ran++;
      return never<string>();
    };
    const a = await replica({ hangs });
    const b = await replica({ hangs });
    const c = await replica({ hangs });
    const id = expectStatus(
      await a.executor.execute(() => never<string>(), {
        waitMs: 0,
        redeliver: { job: 'hangs', attempts: 2, backoffMs: 0 },
      }),
      'running',
    ).id;
    const taken = deferred<(typeof opened)[number]>();
    for (const r of [b, c]) {
      r.executor.on('started', ({ operation }) => {
        if (operation.id === id) taken.resolve(r);
      });
    }
    await die(a);
    // The second run hangs too, and its replica dies as well: its attempts are spent.
    const runner = await taken.promise;
    const survivor = runner === b ? c : b;
    const waiting = survivor.executor.continue(id, { waitMs: 20_000 });
    await die(runner);

    const lost = expectStatus(await waiting, 'failed');
    expect(lost.error).toBeInstanceOf(ReplicaLostError);
    expect((await survivor.executor.get(id))?.attempt).toBe(2);
    expect(ran).toBe(1);
  });

  it('a graceful stop hands running redeliverable work back: another replica runs it, the attempt uncounted', async () => {
    const stopped = deferred<unknown>();
    const a = await replica({ slow: (_args, context) => untilAborted()(context) });
    const b = await replica({ slow: () => 'finished on b' });
    const id = expectStatus(
      await a.executor.execute(untilAborted(stopped.resolve), { waitMs: 0, redeliver: { job: 'slow' } }),
      'running',
    ).id;
    const waiting = b.executor.continue(id, { waitMs: 20_000 });
    await a.executor.stop();

    const reason = await stopped.promise;
    expect(reason).toBeInstanceOf(ExecutorStoppedError);
    expect((reason as Error).message).toContain('handed back');
    const done = expectStatus(await waiting, 'completed');
    expect(done.result).toBe('finished on b');
    expect((await b.executor.get(id))?.attempt).toBe(1);
  });

  it('work not declared redeliverable is lost with its replica, never run again', async () => {
    let ran = 0;
    const a = await replica({ job: () => ran++ });
    const b = await replica({ job: () => ran++ });
    const id = expectStatus(await a.executor.execute(() => never(), { waitMs: 0 }), 'running').id;
    const waiting = b.executor.continue(id, { waitMs: 20_000 });
    await die(a);
    const lost = expectStatus(await waiting, 'failed');
    expect(lost.error).toBeInstanceOf(ReplicaLostError);
    expect((await b.executor.get(id))?.attempt).toBeUndefined();
    expect(ran).toBe(0);
  });

  it('fails the work, saying why, when the replica that takes it has no such job', async () => {
    const a = await replica({ render: () => 'rendered' });
    const b = await replica({ other: () => 'other' });
    const id = expectStatus(
      await a.executor.execute(() => never(), { waitMs: 0, redeliver: { job: 'render', backoffMs: 0 } }),
      'running',
    ).id;
    const waiting = b.executor.continue(id, { waitMs: 20_000 });
    await die(a);
    const failed = expectStatus(await waiting, 'failed');
    expect(failed.error?.message).toBe(
      'Could not run the operation again: the job "render" is not defined on the process it was handed to (define it with defineJob() on every process)',
    );
  });

  it('a late end from a replica that no longer runs the work changes nothing (fenced by the record)', async () => {
    const a = await replica({ job: () => never() });
    const b = await replica({ job: () => never() });
    const id = expectStatus(
      await a.executor.execute(() => never(), { waitMs: 0, redeliver: { job: 'job', backoffMs: 0 } }),
      'running',
    ).id;
    const runsOnB = deferred<void>();
    b.executor.on('started', ({ operation }) => {
      if (operation.id === id) runsOnB.resolve();
    });
    await die(a);
    await runsOnB.promise;
    // Another replica (not the one running it) writes an end as the runner: refused, record unchanged.
    const late = await RedisStore.connect({ url: redis.url, prefix, leaseMs: LEASE_MS });
    try {
      const now = Date.now();
      const update = {
        status: 'completed',
        result: 'late',
        finishedAt: now,
        expiresAt: now + 60_000,
      } as const;
      expect((await late.finish(id, undefined, { ...update, runner: true }))?.status).toBe('running');
      expect((await b.executor.get(id))?.status).toBe('running');
      // The same end from any other writer (a cancel, say) applies.
      expect((await late.finish(id, undefined, update))?.status).toBe('completed');
    } finally {
      await late.close();
    }
  });

  it('its own end, refused because another replica runs it now, is not announced: its waiters answer running', async () => {
    const a = await replica({ job: () => never() });
    const work = deferred<string>();
    const id = expectStatus(
      await a.executor.execute(() => work.promise, { waitMs: 0, redeliver: { job: 'job' } }),
      'running',
    ).id;
    const completed: string[] = [];
    a.executor.on('completed', ({ operation }) => completed.push(operation.id));
    // What a reaper does to a replica that was frozen past its lease: the record is queued again.
    await withRedisClient(redis.url, (raw) => raw.hSet(`${prefix}op:${id}`, 'replica', ''));
    const waiting = a.executor.continue(id, { waitMs: 20_000 });
    work.resolve('too late');

    expect((await waiting).status).toBe('running');
    expect(completed).toEqual([]);
    expect((await a.executor.get(id))?.status).toBe('running');
  });

  it('a stale or repeated job takes nothing: only the run it was queued for', async () => {
    let ran = 0;
    const b = await replica({ job: () => ++ran });
    const a = await replica({ job: () => ++ran });
    const id = expectStatus(
      await a.executor.execute(() => never(), { waitMs: 0, redeliver: { job: 'job', backoffMs: 0 } }),
      'running',
    ).id;
    const waiting = b.executor.continue(id, { waitMs: 20_000 });
    await die(a);
    expect(expectStatus(await waiting, 'completed').result).toBe(1);
    // Run 2's job again, and run 1's, as a stale delivery would bring them: both end taking nothing.
    await withBullMQ(async (queue, events) => {
      for (const run of [2, 1]) {
        const job = await queue.add('run', { id, run }, { jobId: `stale.${run}` });
        await job.waitUntilFinished(events, 10_000);
      }
    });
    expect(ran).toBe(1);
  });

  it('a queued operation (waiting out its backoff) can be cancelled, and is never run then', async () => {
    let ran = 0;
    const a = await replica({ job: () => ++ran });
    const b = await replica({ job: () => ++ran });
    const id = expectStatus(
      await a.executor.execute(() => never(), { waitMs: 0, redeliver: { job: 'job', backoffMs: 2000 } }),
      'running',
    ).id;
    const queued = deferred<void>();
    const poll = setInterval(() => {
      void b.executor.get(id).then((snapshot) => {
        if (snapshot?.attempt === 2) queued.resolve();
      });
    }, 50);
    await die(a);
    await queued.promise; // the reaper queued run 2, two seconds off
    clearInterval(poll);
    const outcome = await b.executor.cancel(id, { reason: 'no longer wanted' });
    expect(outcome.cancelled).toBe(true);
    expect(outcome.operation.status).toBe('cancelled');
    expect(outcome.operation.attempt).toBe(2);
    // Its job is delivered once the backoff is over, and takes nothing.
    await withBullMQ(async (queue, events) => {
      const job = await queue.getJob(`${id}.2`);
      if (job !== undefined) await job.waitUntilFinished(events, 10_000);
    });
    expect(ran).toBe(0);
  });

  it('the run again starts afresh: the dead run’s input requests go, and its result error reader is the job’s', async () => {
    const hang = deferred<void>();
    const job: JobFunction<{ isError: boolean }> = async (_args, _context, { attempt }) => {
      if (attempt === 2) await hang.promise;
      return { isError: true };
    };
    const a = await replica();
    const b = await replica();
    for (const r of [a, b])
      r.executor.defineJob('job', job, {
        resultError: (result) => (result.isError ? 'it failed' : undefined),
      });
    const asked = deferred<void>();
    const id = expectStatus(
      await a.executor.execute(
        ({ input }) => {
          void input({ question: 'go on?' }).catch(() => undefined);
          asked.resolve();
          return never();
        },
        { waitMs: 0, redeliver: { job: 'job', backoffMs: 0 } },
      ),
      'running',
    ).id;
    await asked.promise;
    const seen = expectStatus(await b.executor.continue(id, { waitMs: 20_000 }), 'running');
    expect(Object.keys(seen.inputRequests ?? {})).toHaveLength(1);
    const started = deferred<void>();
    b.executor.on('started', ({ operation }) => {
      if (operation.id === id) started.resolve();
    });
    await die(a);
    await started.promise;
    const rerun = await b.executor.get(id);
    expect(rerun?.attempt).toBe(2);
    // The store's record holds no input of the dead run (B's own view of the run is new anyway).
    const fields = await withRedisClient(redis.url, (raw) => raw.hKeys(`${prefix}op:${id}`));
    expect(fields).toContain('attempt');
    expect(fields.filter((field) => field.startsWith('ir:'))).toEqual([]);
    hang.resolve();
    const done = expectStatus(await b.executor.continue(id, { waitMs: 20_000 }), 'completed');
    expect(done.resultError).toBe('it failed');
  });

  it('queued work that no replica serves fails once its lifetime is over: never "running" for good', async () => {
    const a = await replica({ job: () => 1 }, { maxLifetimeMs: 1500 });
    const b = await replica(); // defines no job: it takes none, but its store watches the queue
    const id = expectStatus(
      await a.executor.execute(() => never(), { waitMs: 0, redeliver: { job: 'job' } }),
      'running',
    ).id;
    await a.executor.stop(); // handed back, and no replica takes it
    const ended = expectStatus(await b.executor.continue(id, { waitMs: 15_000 }), 'failed');
    expect(ended.error).toBeInstanceOf(OperationLifetimeError);
    expect(ended.error?.message).toContain('1500 ms');
  });

  it('queued work whose BullMQ job was lost is queued again, and runs', async () => {
    let ran = 0;
    const a = await replica({ job: () => ++ran });
    const id = expectStatus(
      await a.executor.execute(() => never(), { waitMs: 0, redeliver: { job: 'job' } }),
      'running',
    ).id;
    await a.executor.stop(); // handed back: its job waits, no replica serving yet
    await withBullMQ(async (queue) => {
      expect(await queue.getJob(`${id}.2`)).toBeDefined();
      await queue.obliterate({ force: true }); // the job is gone (as an eviction, or a flush, would do)
    });
    const b = await replica({ job: () => ++ran });
    const done = expectStatus(await b.executor.continue(id, { waitMs: 15_000 }), 'completed');
    expect(done.result).toBe(1);
    expect(ran).toBe(1);
  });

  it('a cancel here applies though another replica runs the record now (only the work’s own end is refused)', async () => {
    const a = await replica({ job: () => 1 });
    const work = deferred<string>();
    const id = expectStatus(
      await a.executor.execute(() => work.promise, { waitMs: 0, redeliver: { job: 'job' } }),
      'running',
    ).id;
    // The record says another replica runs it now (as after this one lost its lease and was reaped).
    await withRedisClient(redis.url, (raw) => raw.hSet(`${prefix}op:${id}`, 'replica', 'another-replica'));
    const outcome = await a.executor.cancel(id, { reason: 'no longer wanted' });
    expect(outcome.cancelled).toBe(true);
    const b = await replica();
    expect((await b.executor.get(id))?.status).toBe('cancelled');
  });

  it('the work’s own end from a replica that no longer runs the record changes nothing', async () => {
    const a = await replica({ job: () => 1 });
    const work = deferred<string>();
    const id = expectStatus(
      await a.executor.execute(() => work.promise, { waitMs: 0, redeliver: { job: 'job' } }),
      'running',
    ).id;
    await withRedisClient(redis.url, (raw) => raw.hSet(`${prefix}op:${id}`, 'replica', 'another-replica'));
    const waiting = a.executor.continue(id, { waitMs: 20_000 });
    work.resolve('late');
    expect((await waiting).status).toBe('running');
    const b = await replica();
    expect((await b.executor.get(id))?.status).toBe('running');
  });

  it('a replica that finds it was reaped stops its redeliverable work at once, fenced or not (work begun or taken after its fence)', async () => {
    const a = await replica({ job: () => 'from a' });
    const b = await replica({ job: () => 'from b' });
    const stopped = deferred<unknown>();
    const id = expectStatus(
      await a.executor.execute(untilAborted(stopped.resolve), { waitMs: 0, redeliver: { job: 'job' } }),
      'running',
    ).id;
    // Reaped, as another replica does once A's lease ran out unrenewed: its next beat adds it anew.
    await withRedisClient(redis.url, (raw) => raw.zRem(`${prefix}replicas`, a.store.replica));
    expect(await stopped.promise).toBeInstanceOf(ReplicaLostError);
    // Handed back, uncounted, and run again by whichever replica takes it (A too: renewed now).
    const done = expectStatus(await b.executor.continue(id, { waitMs: 15_000 }), 'completed');
    expect(['from a', 'from b']).toContain(done.result);
    expect((await b.executor.get(id))?.attempt).toBe(1);
  });

  it('refuses redeliver options that could not be run again, naming what is wrong', async () => {
    const { executor } = await replica({ job: () => 1 });
    await expect(executor.execute(() => 1, { redeliver: { job: 'missing' } })).rejects.toThrow(
      'Expected `redeliver.job` to name a job defined with defineJob(), got "missing"',
    );
    await expect(executor.execute(() => 1, { redeliver: { job: 'job', args: { n: 1n } } })).rejects.toThrow(
      /^Expected `redeliver.args` to be a JSON value: /,
    );
    await expect(executor.execute(() => 1, { redeliver: { job: 'job', args: () => 1 } })).rejects.toThrow(
      'Expected `redeliver.args` to be a JSON value, got',
    );
    await expect(executor.execute(() => 1, { redeliver: { job: 'job', attempts: 0 } })).rejects.toThrow(
      'Expected `redeliver.attempts`',
    );
    await expect(
      executor.execute(() => 1, { redeliver: { job: 'job', backoffMs: 3_600_001 } }),
    ).rejects.toThrow(
      'Expected `redeliver.backoffMs` to be a finite number of milliseconds from 0 to 3600000, got `3600001` (number)',
    );
    await expect(
      executor.execute(() => 1, { redeliver: { job: 'job', when: 'now' } as never }),
    ).rejects.toThrow('when');
    expect(() => executor.defineJob('job', () => 2)).toThrow('The job "job" is defined already');
  });
});
