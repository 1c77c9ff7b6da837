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
    ['defaultWaitMs', Number.NaN, RangeError, /`defaultWaitMs`.*got `NaN` \(number\)/],
    ['defaultWaitMs', -1, RangeError, /`defaultWaitMs`.*got `-1` \(number\)/],
    ['defaultWaitMs', '100', TypeError, /`defaultWaitMs`.*got `"100"` \(string\)/],
    ['defaultWaitMs', 60_000, RangeError, /`defaultWaitMs` to be at most `maxWaitMs` \(55000\), got `60000`/],
    ['maxLifetimeMs', 0, RangeError, /`maxLifetimeMs` to be more than 0, got `0`/],
    ['maxLifetimeMs', 3_000_000_000, RangeError, /`maxLifetimeMs`.*from 0 to 2147483647, got `3000000000`/],
    ['maxLifetimeMs', null, TypeError, /`maxLifetimeMs`.*got `null` \(null\)/],
    ['retentionMs', Number.POSITIVE_INFINITY, RangeError, /`retentionMs`.*got `Infinity`/],
    ['sweepIntervalMs', 0, RangeError, /`sweepIntervalMs` to be at least 1, got `0`/],
    ['sweepIntervalMs', 2 ** 31, RangeError, /`sweepIntervalMs`.*got `2147483648`/],
    ['maxWaitMs', -5, RangeError, /`maxWaitMs`.*got `-5`/],
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

  it('shrinks the default timeout to fit a smaller maxWaitMs, but refuses an explicit one that does not fit', () => {
    executor = new Executor({ maxWaitMs: 10 });
    expect(executor.options.defaultWaitMs).toBe(10);
    expect(() => new Executor({ maxWaitMs: 10, defaultWaitMs: 11 })).toThrow(
      /at most `maxWaitMs` \(10\), got `11`/,
    );
  });

  it('refuses unknown options, naming them and the nearest known one (a typo is not silently ignored)', () => {
    expect(() => new Executor({ defaultWaitMS: 5 } as never)).toThrow(
      /Unknown option `defaultWaitMS` in the options of new Executor\(\); did you mean `defaultWaitMs`\?/,
    );
    // A name from before the 0.x renames points at its new name.
    expect(() => new Executor({ defaultTimeout: 5 } as never)).toThrow(/did you mean `defaultWaitMs`\?/);
    expect(() => new Executor({ color: 'red' } as never)).toThrow(
      /Unknown option `color` in the options of new Executor\(\)\. Known options: `defaultWaitMs`, /,
    );
  });

  it('refuses a non-object options argument', () => {
    expect(() => new Executor(42 as never)).toThrow(
      /the options of new Executor\(\) to be an object, got `42` \(number\)/,
    );
  });

  it('accepts Infinity for maxLifetimeMs and maxOperations, and exposes the resolved options', () => {
    executor = new Executor({
      maxLifetimeMs: Number.POSITIVE_INFINITY,
      maxOperations: Number.POSITIVE_INFINITY,
    });
    expect(executor.options).toEqual({
      whenFull: 'reject',
      defaultWaitMs: 15_000,
      maxLifetimeMs: Number.POSITIVE_INFINITY,
      retentionMs: 300_000,
      sweepIntervalMs: 60_000,
      maxWaitMs: 55_000,
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
    [
      'options',
      () => (executor as Executor).execute(() => 1, 'fast' as never),
      /the options of execute\(\) to be an object, got `"fast"`/,
    ],
    ['waitMs NaN', () => (executor as Executor).execute(() => 1, { waitMs: Number.NaN }), /`waitMs`.*`NaN`/],
    ['waitMs negative', () => (executor as Executor).execute(() => 1, { waitMs: -10 }), /`waitMs`.*`-10`/],
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
      () => (executor as Executor).continue(42 as never, { waitMs: 0 }),
      /`operationId` to be a non-empty string.*`42` \(number\)/,
    ],
    [
      'continue empty id',
      () => (executor as Executor).continue('', { waitMs: 0 }),
      /`operationId`.*`""` \(string\)/,
    ],
    [
      'continue long id',
      () => (executor as Executor).continue('a'.repeat(300), { waitMs: 0 }),
      /`operationId`.*at most 256/,
    ],
    [
      'continue waitMs',
      () => (executor as Executor).continue('abc', { waitMs: Number.NaN }),
      /`waitMs`.*`NaN`/,
    ],
    ['continue negative', () => (executor as Executor).continue('abc', { waitMs: -1 }), /`waitMs`.*`-1`/],
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
    ['list limit too high', () => (executor as Executor).list({ limit: 1001 }), /`limit` to be at most 1000/],
    [
      'list cursor not ours',
      () => (executor as Executor).list({ cursor: Buffer.from('[1,2]').toString('base64url') }),
      /`cursor` to be the nextCursor/,
    ],
    ['stop drainMs', () => (executor as Executor).stop({ drainMs: -1 }), /`drainMs`.*`-1`/],
  ])('%s: rejects with a message naming the argument', async (_, call, message) => {
    executor = new Executor();
    await expect(call()).rejects.toThrow(message);
  });

  it('caps a huge continue() wait by maxWaitMs instead of refusing it', async () => {
    executor = new Executor({ maxWaitMs: 10 });
    const running = await executor.execute(() => new Promise(() => undefined), { waitMs: 0 });
    if (running.status !== 'running') throw new Error('expected running');
    expect((await executor.continue(running.id, { waitMs: 1e12 })).status).toBe('running');
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

describe('unknown options on every call', () => {
  // Each of these used to be ignored: the call went on with the default (a 15 s wait, no owner
  // scoping, no reason, no filter). Now each is refused, naming the key and the nearest known name.
  it.each([
    [
      'execute',
      (e: Executor) => e.execute(() => 1, { Timeout: 50 } as never),
      /`Timeout` in the options of execute\(\)/,
      undefined,
    ],
    [
      'execute (old name)',
      (e: Executor) => e.execute(() => 1, { timeout: 50 } as never),
      /`timeout`/,
      'waitMs',
    ],
    [
      'continue',
      (e: Executor) => e.continue('abc', { ownr: 'a' } as never),
      /`ownr` in the options of continue\(\)/,
      'owner',
    ],
    [
      'get',
      (e: Executor) => e.get('abc', { ownr: 'a' } as never),
      /`ownr` in the options of get\(\)/,
      'owner',
    ],
    [
      'cancel',
      (e: Executor) => e.cancel('abc', { reasn: 'x' } as never),
      /`reasn` in the options of cancel\(\)/,
      'reason',
    ],
    [
      'list',
      (e: Executor) => e.list({ stauts: 'running' } as never),
      /`stauts` in the options of list\(\)/,
      'status',
    ],
    ['stop', (e: Executor) => e.stop({ drain: 5 } as never), /`drain` in the options of stop\(\)/, 'drainMs'],
  ])('%s', async (_, call, message, nearest) => {
    executor = new Executor();
    const error = await call(executor).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
    if (nearest !== undefined) expect((error as Error).message).toContain(`did you mean \`${nearest}\`?`);
  });

  it('execute() with a misspelt wait neither starts the work nor waits the default', async () => {
    executor = new Executor();
    let started = false;
    await expect(
      executor.execute(
        () => {
          started = true;
        },
        { Timeout: 50 } as never,
      ),
    ).rejects.toThrow(TypeError);
    expect(started).toBe(false);
  });

  it('the other options objects are checked the same way', () => {
    executor = new Executor();
    expect(() => executor!.on('complete' as never, () => undefined)).toThrow(
      /Unknown executor event "complete"; did you mean "completed"\?/,
    );
    expect(() => executor!.on('completed', 'nope' as never)).toThrow(
      /handler of "completed" to be a function/,
    );
  });
});
