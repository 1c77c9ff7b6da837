import { afterEach, describe, expect, it } from 'vitest';
import { Executor } from '../src/index.js';

// Every option and argument is checked; the message names it and shows the value received.

let executor: Executor | undefined;
afterEach(async () => {
  await executor?.stop();
  executor = undefined;
});

describe('Executor options', () => {
  it.each([
    ['defaultTimeout', Number.NaN, RangeError, /`defaultTimeout`.*got `NaN` \(number\)/],
    ['defaultTimeout', -1, RangeError, /`defaultTimeout`.*got `-1` \(number\)/],
    ['defaultTimeout', '100', TypeError, /`defaultTimeout`.*got `"100"` \(string\)/],
    ['defaultTimeout', 60_000, RangeError, /`defaultTimeout` to be at most `maxWait` \(55000\), got `60000`/],
    ['maxLifetime', 0, RangeError, /`maxLifetime` to be more than 0, got `0`/],
    ['maxLifetime', 3_000_000_000, RangeError, /`maxLifetime`.*from 0 to 2147483647, got `3000000000`/],
    ['maxLifetime', null, TypeError, /`maxLifetime`.*got `null` \(null\)/],
    ['retentionPeriod', Number.POSITIVE_INFINITY, RangeError, /`retentionPeriod`.*got `Infinity`/],
    ['cleanupInterval', 0, RangeError, /`cleanupInterval` to be at least 1 ms, got `0`/],
    ['cleanupInterval', 2 ** 31, RangeError, /`cleanupInterval`.*got `2147483648`/],
    ['maxWait', -5, RangeError, /`maxWait`.*got `-5`/],
    [
      'maxOperations',
      0,
      RangeError,
      /`maxOperations` to be a whole number from 1 up \(or Infinity\), got `0`/,
    ],
    ['maxOperations', 1.5, RangeError, /`maxOperations`.*got `1.5`/],
    ['maxOperations', '10', TypeError, /`maxOperations`.*got `"10"` \(string\)/],
    ['maxRunningPerOwner', 0, RangeError, /`maxRunningPerOwner` to be a whole number from 1 up.*got `0`/],
    ['maxWaitersPerOperation', -1, RangeError, /`maxWaitersPerOperation`.*got `-1`/],
    ['maxWaiters', '5', TypeError, /`maxWaiters`.*got `"5"` \(string\)/],
    ['whenFull', 'evict', TypeError, /`whenFull` to be "reject" or "evict-oldest", got `"evict"`/],
    ['store', {}, TypeError, /`store` to implement OperationStore.*got `\[object Object\]` \(object\)/],
  ])('%s = %o is refused', (name, value, kind, message) => {
    const create = () => new Executor({ [name]: value } as never);
    expect(create).toThrow(kind);
    expect(create).toThrow(message);
  });

  it('shrinks the default timeout to fit a smaller maxWait, but refuses an explicit one that does not fit', () => {
    executor = new Executor({ maxWait: 10 });
    expect(executor.options.defaultTimeout).toBe(10);
    expect(() => new Executor({ maxWait: 10, defaultTimeout: 11 })).toThrow(
      /at most `maxWait` \(10\), got `11`/,
    );
  });

  it('refuses unknown options, naming them (a typo is not silently ignored)', () => {
    expect(() => new Executor({ defaultTimout: 5 } as never)).toThrow(
      /Unknown executor option `defaultTimout`/,
    );
  });

  it('refuses a non-object options argument', () => {
    expect(() => new Executor(42 as never)).toThrow(/`options` to be an object, got `42` \(number\)/);
  });

  it('accepts Infinity for maxLifetime and maxOperations, and exposes the resolved options', () => {
    executor = new Executor({
      maxLifetime: Number.POSITIVE_INFINITY,
      maxOperations: Number.POSITIVE_INFINITY,
    });
    expect(executor.options).toEqual({
      whenFull: 'reject',
      defaultTimeout: 15_000,
      maxLifetime: Number.POSITIVE_INFINITY,
      retentionPeriod: 300_000,
      cleanupInterval: 60_000,
      maxWait: 55_000,
      maxOperations: Number.POSITIVE_INFINITY,
      maxRunningPerOwner: 1000,
      maxWaitersPerOperation: 1000,
      maxWaiters: 10_000,
    });
    expect(Object.isFrozen(executor.options)).toBe(true);
  });
});

describe('method arguments', () => {
  it.each([
    [
      'fn',
      () => (executor as Executor).execute(undefined as never),
      /`fn` to be a function, got `undefined`/,
    ],
    ['options', () => (executor as Executor).execute(() => 1, 'fast' as never), /`options` to be an object/],
    [
      'timeout NaN',
      () => (executor as Executor).execute(() => 1, { timeout: Number.NaN }),
      /`timeout`.*`NaN`/,
    ],
    ['timeout negative', () => (executor as Executor).execute(() => 1, { timeout: -10 }), /`timeout`.*`-10`/],
    [
      'type',
      () => (executor as Executor).execute(() => 1, { type: 5 as never }),
      /`type` to be a string, got `5`/,
    ],
    [
      'owner',
      () => (executor as Executor).execute(() => 1, { owner: {} as never }),
      /`owner` to be a string/,
    ],
    [
      'signal',
      () => (executor as Executor).execute(() => 1, { signal: 'x' as never }),
      /`signal` to be an AbortSignal/,
    ],
    [
      'cancelOnAbort',
      () => (executor as Executor).execute(() => 1, { cancelOnAbort: 1 as never }),
      /`cancelOnAbort` to be a boolean/,
    ],
    [
      'continue id',
      () => (executor as Executor).continue(42 as never, 0),
      /`operationId` to be a non-empty string.*`42` \(number\)/,
    ],
    ['continue empty id', () => (executor as Executor).continue('', 0), /`operationId`.*`""` \(string\)/],
    [
      'continue long id',
      () => (executor as Executor).continue('a'.repeat(300), 0),
      /`operationId`.*at most 256/,
    ],
    ['continue waitMs', () => (executor as Executor).continue('abc', Number.NaN), /`waitMs`.*`NaN`/],
    ['continue negative', () => (executor as Executor).continue('abc', -1), /`waitMs`.*`-1`/],
    ['cancel id', () => (executor as Executor).cancel(null as never), /`operationId`.*`null` \(null\)/],
    [
      'cancel reason',
      () => (executor as Executor).cancel('abc', { reason: 3 as never }),
      /`reason` to be a string/,
    ],
    ['get id', () => (executor as Executor).get([] as never), /`operationId`.*\[Array\(0\)\]/],
    [
      'list status',
      () => (executor as Executor).list({ status: 'done' as never }),
      /`status` to be one of .*`"done"`/,
    ],
    ['list limit', () => (executor as Executor).list({ limit: -1 }), /`limit`.*`-1`/],
  ])('%s: rejects with a message naming the argument', async (_, call, message) => {
    executor = new Executor();
    await expect(call()).rejects.toThrow(message);
  });

  it('caps a huge continue() wait by maxWait instead of refusing it', async () => {
    executor = new Executor({ maxWait: 10 });
    const running = await executor.execute(() => new Promise(() => undefined), { timeout: 0 });
    if (running.status !== 'running') throw new Error('expected running');
    expect((await executor.continue(running.operationId, 1e12)).status).toBe('running');
  });

  it('progress() refuses non-finite values, naming them', async () => {
    executor = new Executor();
    const result = await executor.execute(({ progress }) => {
      progress(Number.NaN);
    });
    expect(result.status).toBe('failed');
    if (result.status === 'failed') expect(result.error.message).toMatch(/progress `current`.*`NaN`/);
  });
});
