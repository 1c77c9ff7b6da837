// Redis store figures: the cross-replica wake latency (the work finishes on replica A -> a
// continue() waiting on replica B resolves), the Redis commands (each one round trip) that an
// execute() in background mode and a continue() on a finished operation cost, counted from Redis's
// own INFO commandstats, how many background operations per second the two replicas start and end
// through Redis, and what a retained operation costs Redis in memory. Two replicas in one process,
// each with its own connections.
import { availableParallelism } from 'node:os';
import { createClient } from '@redis/client';
import { Executor } from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { deleteKeys, testRedis, uniquePrefix } from '../test/redis-server.js';
import { nowNs, percentile, report } from './lib.js';

const SAMPLES = 2000;
const redis = await testRedis();
const prefix = uniquePrefix();
const options = { maxOperations: Number.POSITIVE_INFINITY, maxWaitMs: 30_000 };
const storeA = await RedisStore.connect({ url: redis.url, prefix });
const storeB = await RedisStore.connect({ url: redis.url, prefix });
const a = new Executor({ ...options, store: storeA });
const b = new Executor({ ...options, store: storeB });
const began = Date.now();

const wakes: number[] = [];
for (let i = 0; i < SAMPLES + 200; i++) {
  let settle!: (value: number) => void;
  const work = new Promise<number>((resolve) => {
    settle = resolve;
  });
  const started = await a.execute(() => work, { waitMs: 0 });
  if (started.status !== 'running') throw new Error('expected running');
  const waiting = b.continue(started.id, { waitMs: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 2)); // B has read the record and parked its wait
  const start = nowNs();
  settle(i);
  const result = await waiting;
  if (result.status !== 'completed') throw new Error(`expected completed, got ${result.status}`);
  if (i >= 200) wakes.push((nowNs() - start) / 1e6);
}
wakes.sort((x, y) => x - y);
const p50 = percentile(wakes, 50);
report({
  figure: 'Redis: work finished on replica A -> continue() waiting on replica B resolves',
  value: `p50 ${p50.toFixed(2)} ms, p99 ${percentile(wakes, 99).toFixed(2)} ms`,
  goal: 'p50 <= 5 ms on loopback',
  go: 'n/a (no shared store)',
  met: p50 <= 5,
  method: `${SAMPLES} samples after 200 warm-up; from resolve() on A to B's continue() resolving (A's finish script and publish, B's subscriber, B's read)`,
});

const stats = createClient({ url: redis.url });
await stats.connect();
/** Commands Redis executed, and how many of them were scripts (whose inner commands count too). */
async function commands(): Promise<{ all: number; scripts: number }> {
  const info = await stats.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
  const scripts = (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0);
  let all = 0;
  for (const [name, count] of calls) if (name !== 'info') all += count;
  return { all, scripts };
}
/** Round trips = commands sent by clients: all executed, less those a script ran inside Redis. */
async function measureCalls(run: () => Promise<void>, n: number, innerPerScript: number) {
  const before = await commands();
  await run();
  const after = await commands();
  const executed = after.all - before.all;
  const scripts = after.scripts - before.scripts;
  return { executed: executed / n, roundTrips: (executed - scripts * innerPerScript) / n };
}
const N = 500;
const ids: string[] = [];
// The insert script runs EXISTS, HSET, two ZADD and SADD inside Redis: 5 inner commands.
const execute = await measureCalls(
  async () => {
    for (let i = 0; i < N; i++) {
      const r = await a.execute(() => new Promise<never>(() => undefined), { waitMs: 0 });
      if (r.status === 'running') ids.push(r.id);
    }
  },
  N,
  5,
);
for (const id of ids) await a.cancel(id);
const cont = await measureCalls(
  async () => {
    for (const id of ids) await b.continue(id, { waitMs: 0 });
  },
  N,
  0,
);
report({
  figure: 'Redis: round trips per call',
  value: `execute() in background mode: ${execute.roundTrips.toFixed(2)} (${execute.executed.toFixed(2)} commands run in Redis, the script's included); continue() on a finished operation: ${cont.roundTrips.toFixed(2)}`,
  goal: 'reported',
  go: 'n/a',
  met: true,
  method: `INFO commandstats before and after ${N} calls (heartbeats included); the fast path, work done inside the wait, makes none`,
});

/**
 * Starts `count` operations on `executor` in background mode, at most `inFlight` of them not yet
 * ended at a time, and resolves once every one's end is in Redis: the executor emits `completed`
 * only once the store holds the end (the finish script answered), so the count is of ends written,
 * not of work returned. Answers the id of one of them. A failure, or a store error, ends the bench.
 */
async function runThrough(
  executor: Executor,
  count: number,
  inFlight: number,
  work: () => Promise<unknown>,
): Promise<string> {
  let started = 0;
  let ended = 0;
  let failure: unknown;
  let anId: string | undefined;
  let room: (() => void) | undefined;
  let allEnded!: () => void;
  const done = new Promise<void>((resolve) => {
    allEnded = resolve;
  });
  const fail = (error: unknown) => {
    failure ??= error;
    room?.();
    allEnded();
  };
  const unsubscribe = [
    executor.on('completed', () => {
      ended++;
      room?.();
      if (ended === count) allEnded();
    }),
    executor.on('failed', ({ error }) => fail(error)),
    executor.on('storeError', ({ error }) => fail(error)),
  ];
  try {
    while (started < count && failure === undefined) {
      if (started - ended >= inFlight) {
        await new Promise<void>((resolve) => {
          room = resolve;
        });
        room = undefined;
        continue;
      }
      started++;
      executor.execute(work, { waitMs: 0 }).then((result) => {
        // Answered once the record is inserted; the work may have ended meanwhile (then the
        // answer is its result, with the id all the same).
        if (result.id === undefined) fail(new Error(`expected an id, got ${result.status}`));
        else anId ??= result.id;
      }, fail);
    }
    await done;
  } finally {
    for (const off of unsubscribe) off();
  }
  if (failure !== undefined) throw failure;
  return anId!;
}

// Work that ends on the next turn of the event loop: after execute() has published it, so that
// each operation's insert and its end are both written to Redis, and its own cost is nil.
const quickWork = () => new Promise<number>((resolve) => setImmediate(resolve, 1));
const THROUGHPUT_OPS = 20_000;
const THROUGHPUT_WARMUP = 2000;
const IN_FLIGHT = 64;
await Promise.all([a, b].map((x) => runThrough(x, THROUGHPUT_WARMUP / 2, IN_FLIGHT, quickWork)));
const throughputStart = nowNs();
await Promise.all([a, b].map((x) => runThrough(x, THROUGHPUT_OPS / 2, IN_FLIGHT, quickWork)));
const opsPerSecond = THROUGHPUT_OPS / ((nowNs() - throughputStart) / 1e9);
report({
  figure: 'Redis: background execute()/s through Redis, 2 replicas (started and ended)',
  value: `${Math.round(opsPerSecond).toLocaleString('en')} /s`,
  goal: 'reported',
  go: 'n/a',
  met: true,
  method: `${THROUGHPUT_OPS} execute(work, { waitMs: 0 }) after ${THROUGHPUT_WARMUP} warm-up, half on each replica, at most ${IN_FLIGHT} not yet ended per replica; the work ends on the next event-loop turn; timed until every end is written (each replica's completed events); both replicas in one Node process on ${availableParallelism()} cores, Redis on loopback`,
});

/** A field of INFO memory, in bytes. */
async function usedMemory(): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await stats.info('memory'));
  if (match === null) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}
// Ends written to Redis, and then retained: the record keys and both indexes' entries are all
// there at the second reading. No record of this run may expire between the two readings, which
// would shrink the delta: the executor's default retention (300 s) is far longer than the run,
// which checks it. The indexes' growth is checked too: the shared Redis may hold other keys.
const RETAINED = 10_000;
const indexes = [`${prefix}ops`, `${prefix}owner:n`];
const cards = () => Promise.all(indexes.map((key) => stats.zCard(key)));
const cardsBefore = await cards();
const keysBefore = await stats.dbSize();
const memoryBefore = await usedMemory();
const indexBytesBefore = await Promise.all(indexes.map((key) => stats.memoryUsage(key, { SAMPLES: 0 })));
const retainedId = await runThrough(a, RETAINED, IN_FLIGHT, async () => {
  await new Promise((resolve) => setImmediate(resolve));
  return { ok: true };
});
const memoryAfter = await usedMemory();
const indexBytesAfter = await Promise.all(indexes.map((key) => stats.memoryUsage(key, { SAMPLES: 0 })));
const cardsAfter = await cards();
const keysAfter = await stats.dbSize();
if (Date.now() - began >= a.options.retentionMs)
  throw new Error('records of this run expired while measured');
cardsAfter.forEach((card, i) => {
  if (card - cardsBefore[i]! !== RETAINED) throw new Error(`${indexes[i]} grew by ${card - cardsBefore[i]!}`);
});
const recordBytes = await stats.memoryUsage(`${prefix}op:${retainedId}`);
const perOperation = (memoryAfter - memoryBefore) / RETAINED;
const perIndexEntry = indexBytesAfter.map(
  (after, i) => (Number(after) - Number(indexBytesBefore[i])) / RETAINED,
);
report({
  figure: 'Redis: memory per retained operation (completed, result { ok: true })',
  value: `${Math.round(perOperation)} bytes (used_memory delta / ${RETAINED}); MEMORY USAGE of one record key ${recordBytes} bytes; index entries ${perIndexEntry.map((bytes) => Math.round(bytes)).join(' + ')} bytes (ops zset + owner zset)`,
  goal: 'reported',
  go: 'n/a',
  met: true,
  method: `INFO memory used_memory before and after ${RETAINED} operations ended and retained on one replica; the delta takes in the record hashes, both indexes (the <prefix>ops and <prefix>owner:<tag> zsets, whose own growth is the MEMORY USAGE SAMPLES 0 delta shown) and Redis's key and expiry tables (${keysBefore} -> ${keysAfter} keys in the database: a doubling of those tables, when the count crosses a power of two, falls in the delta too); MEMORY USAGE of one record key alone, for comparison`,
});

await stats.quit();
await a.stop();
await b.stop();
await storeA.close();
await storeB.close();
await deleteKeys(redis.url, prefix);
await redis.stop();
