// Input during the work: context.input() asks, provideInput() answers, in this process and across
// replicas sharing a RedisStore. Every wait here ends on an event the test causes, never on a sleep.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Executor,
  InputUnavailableError,
  MemoryStore,
  OperationCancelledError,
  OperationNotFoundError,
  type OperationStore,
} from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { SqliteStore } from '../src/sqlite/index.js';
import { deferred, expectStatus } from './helpers.js';
import { deleteKeys, type TestRedis, testRedis, uniquePrefix } from './redis-server.js';

const ASK = { method: 'elicitation/create', params: { message: 'Overwrite report.pdf?' } };

const executors: Executor[] = [];
function executor(options?: ConstructorParameters<typeof Executor>[0]): Executor {
  const made = new Executor(options);
  executors.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.stop()));
});

/** A store that is `memory` but for the methods `overrides` replaces (or, given `undefined`, leaves out). */
function delegating(
  memory: MemoryStore,
  overrides: { [K in keyof OperationStore]?: OperationStore[K] | undefined },
): OperationStore {
  const store: OperationStore = {
    get size() {
      return memory.size;
    },
    insert: (record) => memory.insert(record),
    get: (id, owner) => memory.get(id, owner),
    setProgress: (id, owner, progress) => memory.setProgress(id, owner, progress),
    finish: (id, owner, update) => memory.finish(id, owner, update),
    list: (filter) => memory.list(filter),
    sweep: (now) => memory.sweep(now),
    requestInput: (id, owner, key, request) => memory.requestInput(id, owner, key, request),
    answerInput: (id, owner, responses) => memory.answerInput(id, owner, responses),
    takeInput: (id, owner, key, withdraw) => memory.takeInput(id, owner, key, withdraw),
  };
  for (const [name, method] of Object.entries(overrides)) {
    if (method === undefined) delete store[name as keyof OperationStore];
    else Object.assign(store, { [name]: method });
  }
  return store;
}

/** Starts work that asks for input once and returns what it got; answers its running result. */
async function askingWork(on: Executor, options: { owner?: string; waitMs?: number } = {}) {
  const got = deferred<unknown>();
  const r = await on.execute(
    async ({ input }) => {
      const answer = await input(ASK).catch((error: unknown) => {
        got.reject(error);
        throw error;
      });
      got.resolve(answer);
      return { answer };
    },
    { waitMs: options.waitMs ?? 60_000, owner: options.owner },
  );
  got.promise.catch(() => undefined);
  return { running: expectStatus(r, 'running'), got: got.promise };
}

describe('input during the work, in one process', () => {
  it('answers execute() as soon as the work asks, shows the request, and resolves input() with the answer', async () => {
    const e = executor();
    // A 60 s wait answers at once: the work asked.
    const { running, got } = await askingWork(e);
    expect(running.message).toContain('waits for input');
    const [key] = Object.keys(running.inputRequests!);
    expect(running.inputRequests).toEqual({ [key!]: ASK });
    expect((await e.get(running.id))?.inputRequests).toEqual({ [key!]: ASK });

    expect(
      await e.provideInput(running.id, { [key!]: { action: 'accept', content: { overwrite: true } } }),
    ).toEqual([key]);
    expect(await got).toEqual({ action: 'accept', content: { overwrite: true } });
    const done = expectStatus(await e.continue(running.id, { waitMs: 60_000 }), 'completed');
    expect(done.result).toEqual({ answer: { action: 'accept', content: { overwrite: true } } });
    expect((await e.get(running.id))?.inputRequests).toBeUndefined();
  });

  it('wakes a continue() that is waiting when the work asks', async () => {
    const e = executor();
    const ask = deferred();
    const r = expectStatus(
      await e.execute(
        async ({ input }) => {
          await ask.promise;
          return input(ASK);
        },
        { waitMs: 0 },
      ),
      'running',
    );
    const waiting = e.continue(r.id, { waitMs: 60_000 });
    ask.resolve();
    const woke = expectStatus(await waiting, 'running');
    expect(Object.values(woke.inputRequests!)).toEqual([ASK]);
  });

  it('takes each key once: a second answer, an unknown key and a withdrawn request are ignored', async () => {
    const e = executor();
    const { running, got } = await askingWork(e);
    const key = Object.keys(running.inputRequests!)[0]!;
    expect(await e.provideInput(running.id, { nope: 1 })).toEqual([]);
    expect(await e.provideInput(running.id, { [key]: 'first', other: 2 })).toEqual([key]);
    expect(await e.provideInput(running.id, { [key]: 'second' })).toEqual([]);
    expect(await got).toBe('first');
  });

  it('rejects input() with the cancel, and the cancelled operation waits for nothing', async () => {
    const e = executor();
    const { running, got } = await askingWork(e);
    await e.cancel(running.id, { reason: 'changed my mind' });
    await expect(got).rejects.toBeInstanceOf(OperationCancelledError);
    const snapshot = await e.get(running.id);
    expect(snapshot?.status).toBe('cancelled');
    expect(snapshot?.inputRequests).toBeUndefined();
    expect(await e.provideInput(running.id, { [Object.keys(running.inputRequests!)[0]!]: 'late' })).toEqual(
      [],
    );
  });

  it('withdraws the request when the wait’s own signal aborts, and the work goes on', async () => {
    const e = executor();
    const stopAsking = new AbortController();
    const gaveUp = deferred<unknown>();
    const r = expectStatus(
      await e.execute(
        async ({ input }) => {
          await input(ASK, { signal: stopAsking.signal }).catch((error: unknown) => gaveUp.resolve(error));
          return 'went on with a default';
        },
        { waitMs: 60_000 },
      ),
      'running',
    );
    const key = Object.keys(r.inputRequests!)[0]!;
    stopAsking.abort(new Error('no answer in time'));
    expect(await gaveUp.promise).toMatchObject({ message: 'no answer in time' });
    expect(expectStatus(await e.continue(r.id, { waitMs: 60_000 }), 'completed').result).toBe(
      'went on with a default',
    );
    expect(await e.provideInput(r.id, { [key]: 'too late' })).toEqual([]);
  });

  it('scopes answers to the owner: another owner’s provideInput() is not found', async () => {
    const e = executor();
    const { running } = await askingWork(e, { owner: 'alice' });
    const key = Object.keys(running.inputRequests!)[0]!;
    await expect(e.provideInput(running.id, { [key]: 'x' }, { owner: 'bob' })).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
    await expect(e.provideInput(running.id, { [key]: 'x' })).rejects.toBeInstanceOf(OperationNotFoundError);
    expect(await e.provideInput(running.id, { [key]: 'x' }, { owner: 'alice' })).toEqual([key]);
    await expect(e.provideInput('unknown-id', { [key]: 'x' })).rejects.toBeInstanceOf(OperationNotFoundError);
  });

  it('refuses bad requests, responses and options with errors that name them, and keeps serving', async () => {
    const e = executor();
    const seen: unknown[] = [];
    const r = expectStatus(
      await e.execute(
        async ({ input }) => {
          for (const bad of [null, 'text', [1], { f: () => 1, big: 1n }, { huge: 'x'.repeat(1_100_000) }]) {
            seen.push(await input(bad as never).catch((error: Error) => `${error.name}: ${error.message}`));
          }
          seen.push(await input({}, { timeout: 5 } as never).catch((error: Error) => error.message));
          return 'done';
        },
        { waitMs: 60_000 },
      ),
      'completed',
    );
    expect(r.result).toBe('done');
    expect(seen[0]).toMatch(/TypeError: Expected the input `request` to be a JSON object, got `null`/);
    expect(seen[1]).toMatch(/got `"text"`/);
    expect(seen[2]).toMatch(/got `\[Array\(1\)\]`/);
    expect(seen[3]).toMatch(/cannot be written as JSON.*BigInt/);
    expect(seen[4]).toMatch(/RangeError: Expected the input `request` to be at most 1048576 bytes of JSON/);
    expect(seen[5]).toMatch(/Unknown option `timeout` in the options of input\(\)/);

    const { running, got } = await askingWork(e);
    const key = Object.keys(running.inputRequests!)[0]!;
    await expect(e.provideInput(running.id, null as never)).rejects.toThrow(
      /Expected `responses` to be an object of responses by request key, got `null`/,
    );
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]));
    await expect(e.provideInput(running.id, many)).rejects.toThrow(/at most 100 requests, got 101/);
    await expect(e.provideInput(running.id, { [key]: undefined })).rejects.toThrow(/give a JSON value for/);
    await expect(e.provideInput(running.id, { ['k'.repeat(300)]: 1 })).rejects.toThrow(/1 to 256 characters/);
    await expect(e.provideInput(running.id, { [key]: () => 1 })).rejects.toThrow(/one JSON cannot carry/);
    await expect(e.provideInput(running.id, { [key]: 'x' }, { owner: 3 } as never)).rejects.toThrow(
      /Expected `owner` to be a string/,
    );
    // Nothing was lost: the request is still outstanding and takes its answer.
    expect(await e.provideInput(running.id, { [key]: 'fine' })).toEqual([key]);
    expect(await got).toBe('fine');
  });

  it('shows a request only once the store has it, so an answer to a key shown is never refused', async () => {
    const memory = new MemoryStore();
    const written = deferred();
    const store = delegating(memory, {
      requestInput: async (id: string, owner: string | undefined, key: string, request: unknown) => {
        await written.promise;
        return memory.requestInput(id, owner, key, request);
      },
    });
    const e = executor({ store });
    const r = expectStatus(await e.execute(async ({ input }) => input(ASK), { waitMs: 0 }), 'running');
    // The write has not landed: nothing to answer yet, and nothing shown.
    expect((await e.get(r.id))?.inputRequests).toBeUndefined();
    const waiting = e.continue(r.id, { waitMs: 60_000 });
    written.resolve();
    const asked = expectStatus(await waiting, 'running');
    const key = Object.keys(asked.inputRequests!)[0]!;
    expect(await e.provideInput(r.id, { [key]: 'taken' })).toEqual([key]);
    expect(expectStatus(await e.continue(r.id, { waitMs: 60_000 }), 'completed').result).toBe('taken');
  });

  it('a store failure while the work waits is reported, and the wait goes on to the answer', async () => {
    const memory = new MemoryStore();
    let failures = 1;
    const store = delegating(memory, {
      takeInput: (id: string, owner: string | undefined, key: string, withdraw?: boolean) => {
        if (failures-- > 0) throw new Error('the store blinked');
        return memory.takeInput(id, owner, key, withdraw);
      },
    });
    const e = executor({ store });
    const reported = deferred<string>();
    e.on('storeError', ({ error }) => reported.resolve(error.message));
    const { running, got } = await askingWork(e);
    const key = Object.keys(running.inputRequests!)[0]!;
    expect(await e.provideInput(running.id, { [key]: 'after the blink' })).toEqual([key]);
    expect(await reported.promise).toMatch(/takeInput.*the store blinked/);
    expect(await got).toBe('after the blink');
  });

  it('continue({ knownInput }) answers at once while the work waits for a request the caller has not seen', async () => {
    const e = executor();
    const { running } = await askingWork(e);
    const key = Object.keys(running.inputRequests!)[0]!;
    // Asked before this wait began: without knownInput the wait would sit it out.
    expect(
      expectStatus(await e.continue(running.id, { waitMs: 60_000, knownInput: [] }), 'running').inputRequests,
    ).toEqual({
      [key]: ASK,
    });
    // Seen already: the wait goes on (ended here by its signal).
    const stop = new AbortController();
    const waiting = e.continue(running.id, { waitMs: 60_000, knownInput: [key], signal: stop.signal });
    stop.abort();
    expect((await waiting).status).toBe('running');
    await expect(e.continue(running.id, { knownInput: 'x' as never })).rejects.toThrow(
      /Expected `knownInput` to be an array of input request keys/,
    );
  });

  it('says no input can be had when the store keeps none, or the work has ended', async () => {
    // A store as one written before input existed: the same methods but the three input ones.
    const store = delegating(new MemoryStore(), {
      requestInput: undefined,
      answerInput: undefined,
      takeInput: undefined,
    });
    const e = executor({ store });
    const r = expectStatus(
      await e.execute(async ({ input }) => input(ASK).catch((error: unknown) => error)),
      'completed',
    );
    expect(r.result).toBeInstanceOf(InputUnavailableError);
    expect((r.result as Error).message).toMatch(/the operation store keeps no input/);

    // Work that asks after it has returned (a context kept past its end).
    const other = executor();
    const keptOther = deferred<Parameters<Parameters<Executor['execute']>[0]>[0]>();
    await other.execute((context) => {
      keptOther.resolve(context);
      return 'ended';
    });
    await expect((await keptOther.promise).input(ASK)).rejects.toThrow(/the operation has ended/);
  });
});

describe('input on the durable and shared stores', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-async-input-'));
  let redis: TestRedis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    for (const prefix of prefixes) await deleteKeys(redis.url, prefix);
    await redis.stop();
  });

  it('SqliteStore: the request and its answer go through the file', async () => {
    const store = new SqliteStore({ path: join(dir, 'input.db') });
    const e = executor({ store });
    const { running, got } = await askingWork(e);
    const key = Object.keys(running.inputRequests!)[0]!;
    expect(store.get(running.id, undefined)?.inputRequests).toEqual({ [key]: ASK });
    expect(await e.provideInput(running.id, { [key]: { action: 'decline' } })).toEqual([key]);
    expect(await got).toEqual({ action: 'decline' });
    await e.stop();
    store.close();
  });

  it('RedisStore: work on one replica asks, another replica sees it, answers it, and the work goes on', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const storeA = await RedisStore.connect({ url: redis.url, prefix });
    const storeB = await RedisStore.connect({ url: redis.url, prefix });
    const a = executor({ store: storeA });
    const b = executor({ store: storeB });
    const ask = deferred();
    const r = expectStatus(
      await a.execute(
        async ({ input }) => {
          await ask.promise;
          return input(ASK);
        },
        { waitMs: 0 },
      ),
      'running',
    );
    // A long-poll on the other replica answers when the work asks.
    const polling = b.continue(r.id, { waitMs: 60_000 });
    ask.resolve();
    const woke = expectStatus(await polling, 'running');
    const [key] = Object.keys(woke.inputRequests!);
    expect(woke.inputRequests).toEqual({ [key!]: ASK });
    // Answered on B, taken by the work on A.
    expect(
      await b.provideInput(r.id, { [key!]: { action: 'accept', content: { overwrite: false } } }),
    ).toEqual([key]);
    const done = expectStatus(await b.continue(r.id, { waitMs: 60_000 }), 'completed');
    expect(done.result).toEqual({ action: 'accept', content: { overwrite: false } });
    await a.stop();
    await b.stop();
    await storeA.close();
    await storeB.close();
  });
});
