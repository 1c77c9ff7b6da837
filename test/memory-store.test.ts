import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { ShardedMap } from '../src/stores/sharded-map.js';
import { runningRecord } from './helpers.js';

describe('ShardedMap', () => {
  it('keeps every entry readable, replaceable and deletable across its promotion to shards', () => {
    const map = new ShardedMap<number>();
    const ids = Array.from({ length: 10_000 }, (_, i) => `id-${i}-${(i * 7919) % 10_007}`);
    for (const [i, id] of ids.entries()) map.set(id, i);
    expect(map.size).toBe(10_000);
    expect(ids.every((id, i) => map.get(id) === i && map.has(id))).toBe(true);
    map.set(ids[5]!, -5); // replace: size unchanged
    expect(map.size).toBe(10_000);
    expect(map.get(ids[5]!)).toBe(-5);
    expect(map.delete(ids[0]!)).toBe(true);
    expect(map.delete(ids[0]!)).toBe(false);
    expect(map.has(ids[0]!)).toBe(false);
    expect(map.size).toBe(9_999);
    expect([...map.values()].sort((a, b) => a - b)).toEqual([
      -5,
      ...Array.from({ length: 9_999 }, (_, i) => i + 1).filter((n) => n !== 5),
    ]);
  });
});

describe('MemoryStore', () => {
  it('lists newest first by startedAt whatever order the records were inserted in, also once sharded', () => {
    const store = new MemoryStore();
    const count = 6000; // past the promotion threshold
    for (let i = 0; i < count; i++) store.insert(runningRecord(`op-${i}`, 'alice', (i * 7919) % count)); // shuffled
    const listed = store.list({ owner: 'alice', limit: 5 });
    expect(listed.map((r) => r.startedAt)).toEqual([5999, 5998, 5997, 5996, 5995]);
    expect(store.list({ owner: 'alice', limit: 10_000 })).toHaveLength(count);
    const after = listed.at(-1)!;
    expect(store.list({ owner: 'alice', limit: 2, after }).map((r) => r.startedAt)).toEqual([5994, 5993]);
  });

  it('finds a record only under its owner', () => {
    const store = new MemoryStore();
    store.insert(runningRecord('a', 'alice', 1));
    expect(store.get('a', 'alice')?.id).toBe('a');
    expect(store.get('a', 'bob')).toBeUndefined();
    expect(store.get('a', undefined)).toBeUndefined();
  });

  it('refuses a duplicate id', () => {
    const store = new MemoryStore();
    store.insert(runningRecord('dup', undefined, 1));
    expect(() => store.insert(runningRecord('dup', undefined, 2))).toThrow(/"dup" already exists/);
  });

  it('finish() is a compare-and-set: the first terminal state stays', () => {
    const store = new MemoryStore();
    store.insert(runningRecord('x', undefined, 1));
    const first = store.finish('x', undefined, {
      status: 'completed',
      result: 1,
      finishedAt: 2,
      expiresAt: Date.now() + 1e6,
    });
    const second = store.finish('x', undefined, {
      status: 'failed',
      error: new Error('late'),
      finishedAt: 3,
      expiresAt: 4,
    });
    expect(first?.status).toBe('completed');
    expect(second).toBe(first);
    expect(
      store.finish('missing', undefined, { status: 'completed', finishedAt: 1, expiresAt: 2 }),
    ).toBeUndefined();
  });

  it('setProgress() updates a running record only', () => {
    const store = new MemoryStore();
    store.insert(runningRecord('p', undefined, 1));
    const progress = { current: 1, total: 2, message: undefined, updatedAt: 5 };
    store.setProgress('p', undefined, progress);
    expect(store.get('p', undefined)?.progress).toBe(progress);
    store.finish('p', undefined, { status: 'completed', finishedAt: 6, expiresAt: Date.now() + 1e6 });
    store.setProgress('p', undefined, { ...progress, current: 2 });
    expect(store.get('p', undefined)?.progress?.current).toBe(1);
  });

  it('drops an owner entirely once its last record is swept', async () => {
    const store = new MemoryStore();
    store.insert(runningRecord('gone', 'carol', 1));
    store.finish('gone', 'carol', { status: 'completed', finishedAt: 1, expiresAt: 10 });
    expect(await store.sweep(10)).toBe(1);
    expect(store.size).toBe(0);
    expect(store.list({ owner: 'carol', limit: 10 })).toEqual([]);
  });
});
