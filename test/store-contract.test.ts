import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, NonErrorThrownError, OperationCancelledError } from '../src/index.js';
import { RedisStore } from '../src/redis/index.js';
import { SqliteStore } from '../src/sqlite/index.js';
import type { OperationStore, RecordFilter } from '../src/stores/index.js';
import { runningRecord } from './helpers.js';
import { deleteKeys, type TestRedis, testRedis, uniquePrefix, withRedisClient } from './redis-server.js';

// The OperationStore contract, checked against every store.

const dir = mkdtempSync(join(tmpdir(), 'mcp-async-contract-'));
let files = 0;
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

type Store = OperationStore & { close?(): unknown };

/** A store under test, with what only its own kind can tell. */
interface StoreUnderTest {
  readonly store: Store;
  /** What is left of operation `id` wherever the store keeps things (keys, rows, index entries). */
  leftovers(id: string): Promise<string[]>;
  /** Runs whatever periodic duty the store has besides sweep() (RedisStore: a replica's heartbeat). */
  heartbeat(): Promise<void>;
}

/** name, factory, and whether sweep() hands expired records over (Redis expires them itself). */
const stores: [string, () => Promise<StoreUnderTest>, boolean][] = [
  [
    'MemoryStore',
    async () => {
      const store = new MemoryStore();
      return {
        store,
        // What a memory store holds is what it counts and answers.
        leftovers: async (id) => (store.size > 0 || store.get(id, 'o') !== undefined ? [`record ${id}`] : []),
        heartbeat: async () => undefined,
      };
    },
    true,
  ],
  [
    'SqliteStore',
    async () => {
      const path = join(dir, `contract-${++files}.db`);
      const store = new SqliteStore({ path });
      return {
        store,
        leftovers: async (id) => {
          const db = new Database(path, { readonly: true });
          const rows = db.prepare('SELECT id FROM mcp_async_operations WHERE id = ?').all(id) as {
            id: string;
          }[];
          db.close();
          return rows.map((row) => `row ${row.id}`);
        },
        heartbeat: async () => undefined,
      };
    },
    true,
  ],
  [
    'RedisStore',
    async () => {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      const store = await RedisStore.connect({ url: redis.url, prefix });
      return {
        store,
        leftovers: (id) => redisLeftovers(prefix, id),
        // A replica's heartbeat: connect() beats once before it answers.
        heartbeat: async () => (await RedisStore.connect({ url: redis.url, prefix })).close(),
      };
    },
    false,
  ],
];

/** Every key under `prefix` that names `id`, or holds it (a hash, a sorted set or set member). */
async function redisLeftovers(prefix: string, id: string): Promise<string[]> {
  return withRedisClient(redis.url, async (client) => {
    const found: string[] = [];
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      for (const key of keys) {
        if (key.includes(id)) found.push(key);
        const kind = await client.type(key);
        const members =
          kind === 'zset'
            ? await client.zRange(key, 0, -1)
            : kind === 'set'
              ? await client.sMembers(key)
              : [];
        for (const member of members) if (member.split(' ')[0] === id) found.push(`${key} ∋ ${member}`);
      }
    }
    return found;
  });
}

describe.each(stores)('%s', (_name, make, handsOverExpired) => {
  const create = async () => (await make()).store;

  it('answers a record only to its own owner (the unowned one included)', async () => {
    const store = await create();
    await store.insert(runningRecord('a', 'alice'));
    await store.insert(runningRecord('n', undefined));
    expect((await store.get('a', 'alice'))?.id).toBe('a');
    expect(await store.get('a', 'bob')).toBeUndefined();
    expect(await store.get('a', undefined)).toBeUndefined();
    expect((await store.get('n', undefined))?.id).toBe('n');
    expect(await store.get('n', 'alice')).toBeUndefined();
    expect(store.size).toBe(2);
    await store.close?.();
  });

  it('finish() is a compare-and-set: the first terminal state stays, whoever tries next', async () => {
    const store = await create();
    await store.insert(runningRecord('x', 'o'));
    const later = Date.now() + 60_000;
    const rows = { rows: [1, 2] };
    const first = await store.finish('x', 'o', {
      status: 'completed',
      result: rows,
      finishedAt: 1,
      expiresAt: later,
    });
    const second = await store.finish('x', 'o', {
      status: 'cancelled',
      error: new OperationCancelledError('late'),
      finishedAt: 2,
      expiresAt: later,
    });
    expect(first).toMatchObject({ status: 'completed', finishedAt: 1 });
    expect(first?.result).toBe(rows); // its own object, not a copy read back
    expect(second).toMatchObject({ status: 'completed', finishedAt: 1 });
    expect(await store.get('x', 'o')).toMatchObject({ status: 'completed', result: { rows: [1, 2] } });
    expect(
      await store.finish('nope', 'o', { status: 'completed', finishedAt: 1, expiresAt: later }),
    ).toBeUndefined();
    await store.close?.();
  });

  it('finish() answers its own objects only when its update applied, even at the same status and time', async () => {
    // Two cancels in the same millisecond (two replicas, say): the loser must see the winner's
    // error, not its own, or both would report their own reason.
    const store = await create();
    await store.insert(runningRecord('t', 'o'));
    const expiresAt = Date.now() + 60_000;
    const mine = new OperationCancelledError('first');
    const theirs = new OperationCancelledError('second');
    const won = await store.finish('t', 'o', { status: 'cancelled', error: mine, finishedAt: 5, expiresAt });
    const lost = await store.finish('t', 'o', {
      status: 'cancelled',
      error: theirs,
      finishedAt: 5,
      expiresAt,
    });
    expect(won?.error).toBe(mine);
    expect(lost?.error).not.toBe(theirs);
    expect(lost?.error).toBeInstanceOf(OperationCancelledError);
    expect((lost!.error as OperationCancelledError).reason).toBe('first');
    await store.close?.();
  });

  it('keeps errors as errors: message, name and the library classes', async () => {
    const store = await create();
    await store.insert(runningRecord('c', undefined));
    await store.finish('c', undefined, {
      status: 'cancelled',
      error: new OperationCancelledError('user asked'),
      finishedAt: 1,
      expiresAt: Date.now() + 60_000,
    });
    const error = (await store.get('c', undefined))?.error;
    expect(error).toBeInstanceOf(OperationCancelledError);
    expect((error as OperationCancelledError).reason).toBe('user asked');
    await store.close?.();
  });

  it('keeps a NonErrorThrownError as its class, and every error’s cause chain (errors as errors, values as values)', async () => {
    const store = await create();
    const thrown = { code: 42, detail: ['a', 'b'] };
    const failures: [string, Error][] = [
      ['n', new NonErrorThrownError(thrown)],
      ['e', new Error('outer', { cause: new TypeError('inner', { cause: 'the root' }) })],
      ['l', Object.assign(new OperationCancelledError('stop'), { cause: new Error('why') })],
    ];
    for (const [id, error] of failures) {
      await store.insert(runningRecord(id, undefined));
      await store.finish(id, undefined, {
        status: id === 'l' ? 'cancelled' : 'failed',
        error,
        finishedAt: 1,
        expiresAt: Date.now() + 60_000,
      });
    }
    const nonError = (await store.get('n', undefined))?.error;
    expect(nonError).toBeInstanceOf(NonErrorThrownError);
    expect(nonError?.message).toBe(failures[0]![1].message);
    expect(nonError?.cause).toEqual(thrown);
    const chained = (await store.get('e', undefined))!.error!;
    expect(chained.message).toBe('outer');
    const inner = chained.cause as Error;
    expect(inner).toBeInstanceOf(Error);
    expect(inner.name).toBe('TypeError');
    expect(inner.message).toBe('inner');
    expect(inner.cause).toBe('the root');
    const own = (await store.get('l', undefined))!.error!;
    expect(own).toBeInstanceOf(OperationCancelledError);
    expect((own.cause as Error).message).toBe('why');
    await store.close?.();
  });

  it('hides expired records, and sweep() drops exactly those, handing each over', async () => {
    const store = await create();
    const now = Date.now();
    for (const [id, expiresAt] of [
      ['old', now - 1],
      ['new', now + 60_000],
    ] as const) {
      await store.insert(runningRecord(id, undefined));
      await store.finish(id, undefined, { status: 'completed', result: id, finishedAt: now, expiresAt });
    }
    await store.insert(runningRecord('live', undefined));
    expect(await store.get('old', undefined)).toBeUndefined();
    expect((await store.list({ owner: undefined, limit: 10 })).map((r) => r.id).sort()).toEqual([
      'live',
      'new',
    ]);
    const expired: string[] = [];
    expect(await store.sweep(now, (record) => expired.push(record.id))).toBe(1);
    expect(expired).toEqual(handsOverExpired ? ['old'] : []);
    expect(store.size).toBe(2);
    await store.close?.();
  });

  it('lists newest first, filtered by status and type, up to the limit, after a position', async () => {
    const store = await create();
    await store.insert(runningRecord('b', 'o', 2000, 'render'));
    await store.insert(runningRecord('a', 'o', 1000, 'crawl'));
    await store.insert(runningRecord('c', 'o', 3000, 'render'));
    await store.finish('c', 'o', {
      status: 'completed',
      result: 1,
      finishedAt: 4000,
      expiresAt: Date.now() + 60_000,
    });
    const ids = async (filter: Omit<RecordFilter, 'owner'>) =>
      (await store.list({ owner: 'o', ...filter })).map((r) => r.id);
    expect(await ids({ limit: 10 })).toEqual(['c', 'b', 'a']);
    expect(await ids({ status: 'running', limit: 10 })).toEqual(['b', 'a']);
    expect(await ids({ type: 'render', limit: 1 })).toEqual(['c']);
    expect(await ids({ limit: 10, after: { startedAt: 3000, id: 'c' } })).toEqual(['b', 'a']);
    expect(await ids({ type: 'render', limit: 10, after: { startedAt: 3000, id: 'c' } })).toEqual(['b']);
    await store.close?.();
  });

  it('breaks ties on the start time by id, descending, so that a page resumes exactly after its last', async () => {
    const store = await create();
    for (const id of ['t1', 't3', 't2', 't5', 't4']) await store.insert(runningRecord(id, 'o', 7000));
    await store.insert(runningRecord('older', 'o', 6000));
    const ids = async (filter: Omit<RecordFilter, 'owner'>) =>
      (await store.list({ owner: 'o', ...filter })).map((r) => r.id);
    expect(await ids({ limit: 3 })).toEqual(['t5', 't4', 't3']);
    expect(await ids({ limit: 3, after: { startedAt: 7000, id: 't3' } })).toEqual(['t2', 't1', 'older']);
    await store.close?.();
  });

  it('pages through hundreds of records started in one millisecond, and finds the few a filter wants', async () => {
    const store = await create();
    const ids = Array.from({ length: 450 }, (_, i) => `tie-${String(i).padStart(3, '0')}`);
    for (const id of ids)
      await store.insert(runningRecord(id, 'o', 9000, id === 'tie-007' ? 'rare' : 'common'));
    await store.insert(runningRecord('before', 'o', 8000, 'rare'));
    const expected = [...ids].sort().reverse().concat('before');
    const seen: string[] = [];
    let after: RecordFilter['after'];
    for (;;) {
      const page = await store.list({ owner: 'o', limit: 120, after });
      seen.push(...page.map((r) => r.id));
      if (page.length < 120) break;
      const last = page.at(-1)!;
      after = { startedAt: last.startedAt, id: last.id };
    }
    expect(seen).toEqual(expected);
    const rare = await store.list({ owner: 'o', type: 'rare', limit: 10 });
    expect(rare.map((r) => r.id)).toEqual(['tie-007', 'before']);
    const rareAfter = await store.list({
      owner: 'o',
      type: 'rare',
      limit: 10,
      after: { startedAt: 9000, id: 'tie-300' },
    });
    expect(rareAfter.map((r) => r.id)).toEqual(['tie-007', 'before']);
    await store.close?.();
  });

  it('lists records without needing their results, but with everything a snapshot shows', async () => {
    const store = await create();
    await store.insert(runningRecord('r', 'o', 1000));
    await store.finish('r', 'o', {
      status: 'completed',
      result: { big: 'x'.repeat(1000) },
      resultError: 'the tool reported: no luck',
      finishedAt: 2000,
      expiresAt: Date.now() + 60_000,
    });
    const [listed] = await store.list({ owner: 'o', limit: 1 });
    expect(listed).toMatchObject({
      id: 'r',
      status: 'completed',
      startedAt: 1000,
      finishedAt: 2000,
      resultError: 'the tool reported: no luck',
    });
    expect((await store.get('r', 'o'))?.resultError).toBe('the tool reported: no luck');
    await store.close?.();
  });

  it('leaves nothing of an expired operation behind, whatever ran before the sweep (an owner index included)', async () => {
    const { store, leftovers, heartbeat } = await make();
    const now = Date.now();
    await store.insert(runningRecord('gone', 'o', now - 20));
    await store.finish('gone', 'o', {
      status: 'completed',
      result: 1,
      finishedAt: now - 10,
      expiresAt: now - 1,
    });
    await heartbeat();
    await store.sweep(Date.now());
    expect(await leftovers('gone')).toEqual([]);
    await store.close?.();
  });

  it('evicts the oldest finished record, never a running one', async () => {
    const store = await create();
    const now = Date.now();
    await store.insert(runningRecord('r', undefined));
    for (const [id, expiresAt] of [
      ['f1', now + 1000],
      ['f2', now + 2000],
    ] as const) {
      await store.insert(runningRecord(id, undefined));
      await store.finish(id, undefined, { status: 'completed', result: id, finishedAt: now, expiresAt });
    }
    expect((await store.evictOldestFinished?.())?.id).toBe('f1');
    expect((await store.evictOldestFinished?.())?.id).toBe('f2');
    expect(await store.evictOldestFinished?.()).toBeUndefined();
    expect((await store.get('r', undefined))?.status).toBe('running');
    await store.close?.();
  });

  it('refuses a duplicate id', async () => {
    const store = await create();
    await store.insert(runningRecord('d', undefined));
    await expect(async () => store.insert(runningRecord('d', undefined))).rejects.toThrow();
    await store.close?.();
  });

  it('keeps input requests on a running record until answered, and each answer for one take', async () => {
    const store = await create();
    await store.insert(runningRecord('i', 'o'));
    const ask = { method: 'elicitation/create', params: { message: 'Overwrite?', n: 0.1 + 0.2, list: [] } };
    expect(await store.requestInput!('i', 'o', 'k1', ask)).toBe(true);
    expect(await store.requestInput!('i', 'o', 'k2', { method: 'roots/list' })).toBe(true);
    expect((await store.get('i', 'o'))?.inputRequests).toEqual({ k1: ask, k2: { method: 'roots/list' } });
    // Another owner sees nothing, asks nothing, answers nothing.
    expect(await store.requestInput!('i', 'bob', 'k3', {})).toBe(false);
    expect(await store.answerInput!('i', 'bob', { k1: { action: 'accept' } })).toBeUndefined();
    expect(await store.takeInput!('i', 'bob', 'k1')).toBeUndefined();
    // Nothing answered yet: a take leaves the request outstanding.
    expect(await store.takeInput!('i', 'o', 'k1')).toBeUndefined();
    expect(Object.keys((await store.get('i', 'o'))!.inputRequests!)).toEqual(['k1', 'k2']);
    // Only outstanding keys are taken; a second answer to the same key is ignored.
    const accepted = { action: 'accept', content: { overwrite: true, note: 'é' } };
    expect(await store.answerInput!('i', 'o', { k1: accepted, never: { x: 1 } })).toEqual(['k1']);
    expect(await store.answerInput!('i', 'o', { k1: { action: 'decline' } })).toEqual([]);
    expect((await store.get('i', 'o'))?.inputRequests).toEqual({ k2: { method: 'roots/list' } });
    expect(await store.takeInput!('i', 'o', 'k1')).toEqual({ response: accepted });
    expect(await store.takeInput!('i', 'o', 'k1')).toBeUndefined(); // once
    // Withdrawn: the request goes, and an answer to it is ignored.
    expect(await store.takeInput!('i', 'o', 'k2', true)).toBeUndefined();
    expect((await store.get('i', 'o'))?.inputRequests ?? {}).toEqual({});
    expect(await store.answerInput!('i', 'o', { k2: { roots: [] } })).toEqual([]);
    expect(await store.answerInput!('nope', 'o', { k1: {} })).toBeUndefined();
    await store.close?.();
  });

  it('drops a record’s input when it becomes terminal, and asks or takes none after', async () => {
    const store = await create();
    await store.insert(runningRecord('j', undefined));
    await store.requestInput!('j', undefined, 'asked', { method: 'roots/list' });
    await store.requestInput!('j', undefined, 'answered', { method: 'roots/list' });
    await store.answerInput!('j', undefined, { answered: { roots: [] } });
    const expiresAt = Date.now() + 60_000;
    const finished = await store.finish('j', undefined, {
      status: 'completed',
      result: 1,
      finishedAt: 1,
      expiresAt,
    });
    expect(finished?.inputRequests ?? {}).toEqual({});
    expect((await store.get('j', undefined))?.inputRequests ?? {}).toEqual({});
    expect(await store.takeInput!('j', undefined, 'answered')).toBeUndefined();
    expect(await store.requestInput!('j', undefined, 'late', {})).toBe(false);
    expect(await store.answerInput!('j', undefined, { asked: { roots: [] } })).toEqual([]);
    await store.close?.();
  });
});

describe('SqliteStore retention goes through the expiry index, not a scan', () => {
  it('the query plan of the sweep uses the expiry index', () => {
    const path = join(dir, 'plan.db');
    new SqliteStore({ path }).close();
    const db = new Database(path, { readonly: true });
    const plan = db
      .prepare(
        'EXPLAIN QUERY PLAN SELECT * FROM mcp_async_operations WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?',
      )
      .all(0, 10) as { detail: string }[];
    db.close();
    expect(plan.map((step) => step.detail).join(' | ')).toMatch(/USING INDEX mcp_async_operations_expiry/);
    expect(plan.map((step) => step.detail).join(' | ')).not.toMatch(/^SCAN mcp_async_operations$/m);
  });
});
