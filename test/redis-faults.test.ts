// Replicas on a RedisStore while Redis goes away and comes back: each test runs a redis-server of
// its own on a free port, stops it and starts it again (never the shared one).
import { TimeoutError } from '@redis/client';
import { afterEach, describe, expect, it } from 'vitest';
import { Executor, OperationNotFoundError, StoreError } from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { deferred, expectStatus, never } from './helpers.js';
import { type OwnRedis, ownRedis, uniquePrefix } from './redis-server.js';

/** Short, so that a command queued while Redis is down fails soon. */
const COMMAND_TIMEOUT_MS = 200;

let server: OwnRedis | undefined;
let opened: { store: RedisStore; executor: Executor }[] = [];

async function replica(url: string, prefix: string, commandTimeoutMs = COMMAND_TIMEOUT_MS) {
  const store = await RedisStore.connect({ url, prefix, commandTimeoutMs });
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
