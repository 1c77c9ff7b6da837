import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Executor,
  OperationCancelledError,
  OperationInterruptedError,
  OperationNotFoundError,
  ResultNotStorableError,
} from '../src/index.js';
import { SqliteStore } from '../src/sqlite/index.js';
import { deferred, expectStatus, never } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-async-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const newPath = () => join(dir, `ops-${++n}.db`);

/** An executor on a SQLite file; `end()` stops it and closes the file, as a process exit would. */
function open(path: string, options: { maxResultBytes?: number } = {}) {
  const store = new SqliteStore({ path, ...options });
  const executor = new Executor({ store });
  return {
    executor,
    store,
    async end() {
      await executor.stop();
      store.close();
    },
  };
}

describe('SqliteStore with the executor', () => {
  it('serves finished results after a restart, the same every time, errors as their classes', async () => {
    const path = newPath();
    const first = open(path);
    const done = expectStatus(
      await first.executor.execute(async () => ({ frames: 240, file: 'a.mp4' }), {
        waitMs: 0,
        owner: 'alice',
      }),
      'running',
    );
    const cancelled = expectStatus(
      await first.executor.execute(() => never(), { waitMs: 0, owner: 'alice' }),
      'running',
    );
    await first.executor.continue(done.id, { waitMs: 1000, owner: 'alice' });
    await first.executor.cancel(cancelled.id, { owner: 'alice', reason: 'too slow' });
    await first.end();

    const second = open(path);
    const result = expectStatus(
      await second.executor.continue(done.id, { waitMs: 0, owner: 'alice' }),
      'completed',
    );
    expect(result.result).toEqual({ frames: 240, file: 'a.mp4' });
    expect(await second.executor.continue(done.id, { waitMs: 0, owner: 'alice' })).toEqual(result);
    const stillCancelled = expectStatus(
      await second.executor.continue(cancelled.id, { waitMs: 0, owner: 'alice' }),
      'cancelled',
    );
    expect(stillCancelled.error).toBeInstanceOf(OperationCancelledError);
    expect((stillCancelled.error as OperationCancelledError).reason).toBe('too slow');
    await expect(second.executor.continue(done.id, { waitMs: 0, owner: 'bob' })).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
    await second.end();
  });

  it('reports operations that were running when the process died as failed, interrupted by restart', async () => {
    const path = newPath();
    const crashed = open(path);
    const running = expectStatus(await crashed.executor.execute(() => never(), { waitMs: 0 }), 'running');
    crashed.store.close(); // the process dies: nothing is written after this
    const restarted = open(path);
    const result = expectStatus(await restarted.executor.continue(running.id, { waitMs: 0 }), 'failed');
    expect(result.error).toBeInstanceOf(OperationInterruptedError);
    expect(result.error.message).toContain('interrupted by restart');
    expect((await restarted.executor.list({ status: 'running' })).operations.length).toBe(0);
    await restarted.end();
    await crashed.executor.stop().catch(() => undefined);
  });

  it.each([
    ['a BigInt', () => ({ total: 10n }), /not JSON-serialisable \(Do not know how to serialize a BigInt\)/],
    [
      'a cycle',
      () => {
        const node: Record<string, unknown> = {};
        node.self = node;
        return node;
      },
      /not JSON-serialisable \(.*circular/i,
    ],
    ['a function', () => ({ callback: () => 1 }), /holds a function, which JSON cannot keep/],
    ['too many bytes', () => 'x'.repeat(2000), /2002 bytes of JSON, over the store's limit of 1000/],
  ])(
    'a result holding %s fails its operation with a clear error, and the executor serves on',
    async (_, make, message) => {
      const session = open(newPath(), { maxResultBytes: 1000 });
      const work = deferred<unknown>();
      let signal: AbortSignal | undefined;
      const running = expectStatus(
        await session.executor.execute(
          (context) => {
            signal = context.signal;
            return work.promise;
          },
          { waitMs: 0 },
        ),
        'running',
      );
      const waiting = session.executor.continue(running.id, { waitMs: 5000 });
      work.resolve(make());
      const failed = expectStatus(await waiting, 'failed');
      expect(failed.error).toBeInstanceOf(ResultNotStorableError);
      expect(signal?.aborted).toBe(false); // the work had returned: nothing to abort
      expect(failed.error.message).toMatch(message);
      expect(
        expectStatus(await session.executor.continue(running.id, { waitMs: 0 }), 'failed').error.message,
      ).toMatch(message);
      expect(
        expectStatus(await session.executor.execute(async () => 'next', { waitMs: 0 }), 'running'),
      ).toBeTruthy();
      await session.end();
    },
  );

  it('refuses bad options, naming them', () => {
    expect(() => new SqliteStore({ path: '' })).toThrow(/`path` to be a file path or ":memory:", got `""`/);
    expect(() => new SqliteStore({ path: ':memory:', table: 'bad name' })).toThrow(
      /`table` to be a SQL identifier/,
    );
    expect(() => new SqliteStore({ path: ':memory:', maxResultBytes: 0 })).toThrow(/`maxResultBytes`/);
  });
});
