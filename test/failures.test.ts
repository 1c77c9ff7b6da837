import { afterEach, describe, expect, it } from 'vitest';
import { Executor, NonErrorThrownError } from '../src/index.js';
import { expectStatus, never } from './helpers.js';

// Go defect: a panic in an operation killed the process. Here whatever the work does is captured
// as a `failed` result, and the suite itself fails on any unhandled rejection (vitest's default,
// stated in vitest.config.ts), so none may escape.

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

describe('work that fails', () => {
  it('a synchronous throw becomes a failed result carrying the very Error', async () => {
    executor = new Executor();
    const thrown = new RangeError('bad frame');
    const result = expectStatus(
      await executor.execute(() => {
        throw thrown;
      }),
      'failed',
    );
    expect(result.error).toBe(thrown);
    expect(result.id).toBeUndefined();
  });

  it('an async rejection becomes a failed result', async () => {
    executor = new Executor();
    const result = expectStatus(
      await executor.execute(async () => {
        throw new Error('upstream 503');
      }),
      'failed',
    );
    expect(result.error.message).toBe('upstream 503');
  });

  it.each([
    ['a string', 'just a string', '"just a string"'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
    ['a plain object', { code: 42 }, '{"code":42}'],
    ['a number', 7, '7'],
  ])(
    'a rejection with %s becomes a NonErrorThrownError keeping the value as cause',
    async (_, value, shown) => {
      executor = new Executor();
      const result = expectStatus(await executor.execute(() => Promise.reject(value)), 'failed');
      expect(result.error).toBeInstanceOf(NonErrorThrownError);
      expect((result.error as NonErrorThrownError).code).toBe('NON_ERROR_THROWN');
      expect(result.error.cause).toBe(value);
      expect(result.error.message).toContain(shown);
    },
  );

  it('a synchronous throw of a non-Error is captured too', async () => {
    executor = new Executor();
    const result = expectStatus(
      await executor.execute(() => {
        throw 'sync string';
      }),
      'failed',
    );
    expect(result.error.cause).toBe('sync string');
  });

  it('a cyclic thrown object is described without throwing', async () => {
    executor = new Executor();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const result = expectStatus(await executor.execute(() => Promise.reject(cyclic)), 'failed');
    expect(result.error.message).toContain('[object Object]');
  });

  it('a failure after the wait is kept for continue()', async () => {
    executor = new Executor();
    const running = expectStatus(
      await executor.execute(
        async () => {
          await new Promise((resolve) => setImmediate(resolve));
          throw new Error('late failure');
        },
        { waitMs: 0 },
      ),
      'running',
    );
    const result = expectStatus(await executor.continue(running.id, { waitMs: 5000 }), 'failed');
    expect(result.error.message).toBe('late failure');
  });

  it('work that never settles holds nothing up: the executor keeps serving', async () => {
    executor = new Executor({ defaultWaitMs: 1 });
    const stuck = await executor.execute(() => never());
    expectStatus(stuck, 'running');
    expect(expectStatus(await executor.execute(() => 'next'), 'completed').result).toBe('next');
  });

  it('a thenable that is not a native promise is adopted', async () => {
    executor = new Executor();
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: a minimal non-native thenable is the point of the test
      then: (resolve: (v: string) => void) => resolve('from thenable'),
    } as PromiseLike<string>;
    expect(expectStatus(await executor.execute(() => thenable), 'completed').result).toBe('from thenable');
  });

  it('a thenable whose then() throws becomes a failed result', async () => {
    executor = new Executor();
    const thenable = {
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a hostile thenable
      then: () => {
        throw new Error('hostile then');
      },
    };
    const result = expectStatus(await executor.execute(() => thenable as PromiseLike<never>), 'failed');
    expect(result.error.message).toBe('hostile then');
  });
});

describe('event handlers that throw', () => {
  it('do not disturb the executor and are reported as listenerError', async () => {
    executor = new Executor();
    const reported: unknown[] = [];
    executor.on('completed', () => {
      throw new Error('handler bug');
    });
    executor.on('listenerError', (event) => reported.push(event.error));
    const result = expectStatus(await executor.execute(() => 'fine'), 'completed');
    expect(result.result).toBe('fine');
    expect(reported).toHaveLength(1);
    expect((reported[0] as Error).message).toBe('handler bug');
  });
});
