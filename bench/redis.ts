// Redis store figures: the cross-replica wake latency (the work finishes on replica A -> a
// continue() waiting on replica B resolves), and the Redis commands (each one round trip) that an
// execute() in background mode and a continue() on a finished operation cost, counted from Redis's
// own INFO commandstats. Two replicas in one process, each with its own connections.
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
await stats.quit();
await a.stop();
await b.stop();
await storeA.close();
await storeB.close();
await deleteKeys(redis.url, prefix);
await redis.stop();
