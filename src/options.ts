/**
 * Every option of the executor and of its calls, with its default.
 *
 * @module
 */
import type { OperationStore } from './stores/store.js';
import type { OperationStatus, Progress } from './types.js';
import {
  checkCount,
  checkMilliseconds,
  checkOptionsObject,
  describeValue,
  MAX_TIMER_MS,
} from './validate.js';

/** Options of `new Executor(options)`. Every field is optional. */
export interface ExecutorOptions {
  /**
   * How long `execute()` waits for the work before answering `running` with an operation id, in
   * milliseconds, when the call gives no `timeout`. At most `maxWait`.
   * @defaultValue 15_000, or `maxWait` if that is smaller
   */
  defaultTimeout?: number | undefined;
  /**
   * An operation still running this long after it started is failed with an
   * {@link OperationLifetimeError} and its signal aborted, whether or not the work heeds it.
   * Milliseconds, up to 2_147_483_647 (about 24.8 days), or `Infinity` for no limit.
   * @defaultValue 600_000
   */
  maxLifetime?: number | undefined;
  /**
   * How long a finished operation stays readable through `continue()` and `get()`, in milliseconds.
   * Operations that finish within `execute()`'s wait were never handed an id and are not retained.
   * @defaultValue 300_000
   */
  retentionPeriod?: number | undefined;
  /**
   * How often expired operations are swept from the store, in milliseconds. Reads never return an
   * expired operation whatever this is; it only bounds how long expired records hold memory.
   * @defaultValue 60_000
   */
  cleanupInterval?: number | undefined;
  /**
   * The longest any one wait may last, in milliseconds: `execute()`'s `timeout` and `continue()`'s
   * `waitMs` are capped to it. Keep it below your clients' request timeout (60 s in the MCP SDK).
   * @defaultValue 55_000
   */
  maxWait?: number | undefined;
  /**
   * The most operations that may be running or retained at once; past it `execute()` rejects with
   * a {@link TooManyOperationsError} instead of growing without bound. `Infinity` for no cap.
   * @defaultValue 10_000
   */
  maxOperations?: number | undefined;
  /**
   * The most operations one owner may have running at once; past it `execute()` rejects with a
   * {@link TooManyOperationsError} naming the owner, so that one client cannot take every slot.
   * Operations without an owner are not counted. Per executor (per replica with a shared store).
   * `Infinity` for no cap.
   * @defaultValue 1000
   */
  maxRunningPerOwner?: number | undefined;
  /**
   * The most `continue()` calls that may wait on one operation at once (its `execute()` call's own
   * wait counts too); past it `continue()` rejects with a {@link TooManyWaitersError}.
   * `Infinity` for no cap.
   * @defaultValue 1000
   */
  maxWaitersPerOperation?: number | undefined;
  /**
   * The most `continue()` calls that may wait at once, over every operation; past it `continue()`
   * rejects with a {@link TooManyWaitersError}. Each wait holds a timer and a promise until it
   * ends. `Infinity` for no cap.
   * @defaultValue 10_000
   */
  maxWaiters?: number | undefined;
  /**
   * What `execute()` does at `maxOperations`, once expired records are swept: `'reject'` with a
   * {@link TooManyOperationsError}, or `'evict-oldest'`: drop the finished operation that finished
   * longest ago (emitting `evicted`) to make room. Running operations are never evicted.
   * @defaultValue "reject"
   */
  whenFull?: 'reject' | 'evict-oldest' | undefined;
  /**
   * Where operation records live.
   * @defaultValue a new {@link MemoryStore}, closed by `stop()`
   */
  store?: OperationStore | undefined;
}

/** {@link ExecutorOptions} with every default applied and validated. */
export interface ResolvedExecutorOptions {
  /** See {@link ExecutorOptions.whenFull}. */
  readonly whenFull: 'reject' | 'evict-oldest';
  /** See {@link ExecutorOptions.defaultTimeout}. */
  readonly defaultTimeout: number;
  /** See {@link ExecutorOptions.maxLifetime}. */
  readonly maxLifetime: number;
  /** See {@link ExecutorOptions.retentionPeriod}. */
  readonly retentionPeriod: number;
  /** See {@link ExecutorOptions.cleanupInterval}. */
  readonly cleanupInterval: number;
  /** See {@link ExecutorOptions.maxWait}. */
  readonly maxWait: number;
  /** See {@link ExecutorOptions.maxOperations}. */
  readonly maxOperations: number;
  /** See {@link ExecutorOptions.maxRunningPerOwner}. */
  readonly maxRunningPerOwner: number;
  /** See {@link ExecutorOptions.maxWaitersPerOperation}. */
  readonly maxWaitersPerOperation: number;
  /** See {@link ExecutorOptions.maxWaiters}. */
  readonly maxWaiters: number;
}

/** The defaults of {@link ExecutorOptions}. */
export const DEFAULT_EXECUTOR_OPTIONS: ResolvedExecutorOptions = Object.freeze({
  whenFull: 'reject',
  defaultTimeout: 15_000,
  maxLifetime: 600_000,
  retentionPeriod: 300_000,
  cleanupInterval: 60_000,
  maxWait: 55_000,
  maxOperations: 10_000,
  maxRunningPerOwner: 1000,
  maxWaitersPerOperation: 1000,
  maxWaiters: 10_000,
});

/** Options of one `execute()` call. */
export interface ExecuteOptions {
  /**
   * A name for the kind of work (`"render"`, `"crawl"`): shown in results, snapshots and events,
   * and usable as a `list()` filter.
   * @defaultValue "operation"
   */
  type?: string | undefined;
  /**
   * How long to wait for the work before answering `running`, in milliseconds; capped by
   * `maxWait`. `0` answers `running` at once (explicit background mode).
   * @defaultValue the executor's `defaultTimeout`
   */
  timeout?: number | undefined;
  /**
   * Who the operation belongs to. Only calls naming the same owner can see or touch it; to any
   * other it does not exist.
   * @defaultValue `undefined` (the unowned operations, a single shared owner)
   */
  owner?: string | undefined;
  /**
   * The caller's signal (an MCP request's, say). When it aborts, the wait ends with `running` and
   * the operation goes on, unless `cancelOnAbort` is set.
   */
  signal?: AbortSignal | undefined;
  /**
   * `'auto'`: when this operation is expected to outlive the wait (by `estimateMs`, or else by the
   * median of at least 3 recent completed runs of its `type`), answer `running` at once rather
   * than hold the caller for the whole wait; the answer's `backgroundReason` says why.
   */
  background?: 'auto' | undefined;
  /**
   * The caller's estimate of how long this run will take, in milliseconds (from the input's
   * size, an item count...): used by `background: 'auto'` in place of the learned median.
   */
  estimateMs?: number | undefined;
  /**
   * Cancel the operation, not just the wait, when `signal` aborts.
   * @defaultValue false
   */
  cancelOnAbort?: boolean | undefined;
  /**
   * Called with the operation's progress each time it moves (after phases are mapped and
   * backward steps dropped), for the caller that started it: an MCP request forwarding progress
   * notifications, say. A handler that throws is reported as `listenerError`.
   */
  onProgress?: ((progress: Progress) => void) | undefined;
}

/** Options of `continue()`, `get()` and `list()`. */
export interface OwnerOptions {
  /** The owner the operation was started under; see {@link ExecuteOptions.owner}. */
  owner?: string | undefined;
}

/** Options of one `continue()` call. */
export interface ContinueOptions extends OwnerOptions {
  /** Ends the wait early (answering `running`); the operation goes on. */
  signal?: AbortSignal | undefined;
}

/** Options of one `cancel()` call. */
export interface CancelOptions extends OwnerOptions {
  /** Why; recorded in the {@link OperationCancelledError} the work's signal fires with. */
  reason?: string | undefined;
}

/** Options of `list()`. */
export interface ListOptions extends OwnerOptions {
  /** Only operations with this status. */
  status?: OperationStatus | undefined;
  /** Only operations of this type. */
  type?: string | undefined;
  /**
   * At most this many, oldest first.
   * @defaultValue 1000
   */
  limit?: number | undefined;
}

/** The default `list()` limit. */
export const DEFAULT_LIST_LIMIT = 1000;

const OPTION_NAMES = new Set([...Object.keys(DEFAULT_EXECUTOR_OPTIONS), 'store']);

/** Applies defaults and validates; throws a TypeError/RangeError naming the option and the value. */
export function resolveExecutorOptions(
  options: unknown,
): ResolvedExecutorOptions & { store?: OperationStore } {
  const given = checkOptionsObject('options', options);
  for (const key of Object.keys(given)) {
    if (!OPTION_NAMES.has(key)) {
      throw new TypeError(
        `Unknown executor option \`${key}\`; expected one of ${[...OPTION_NAMES].map((n) => `\`${n}\``).join(', ')}`,
      );
    }
  }
  const pick = <K extends keyof ResolvedExecutorOptions>(name: K): unknown =>
    given[name] === undefined ? DEFAULT_EXECUTOR_OPTIONS[name] : given[name];

  const maxWait = checkMilliseconds('maxWait', pick('maxWait'));
  // Left out, the default timeout shrinks to fit a smaller maxWait; given, it must fit.
  const defaultTimeout =
    given.defaultTimeout === undefined
      ? Math.min(DEFAULT_EXECUTOR_OPTIONS.defaultTimeout, maxWait)
      : checkMilliseconds('defaultTimeout', given.defaultTimeout);
  if (defaultTimeout > maxWait) {
    throw new RangeError(
      `Expected \`defaultTimeout\` to be at most \`maxWait\` (${maxWait}), got ${describeValue(defaultTimeout)}`,
    );
  }
  const maxLifetimeValue = pick('maxLifetime');
  const maxLifetime =
    maxLifetimeValue === Number.POSITIVE_INFINITY
      ? maxLifetimeValue
      : checkMilliseconds('maxLifetime', maxLifetimeValue, MAX_TIMER_MS);
  if (maxLifetime === 0) {
    throw new RangeError(`Expected \`maxLifetime\` to be more than 0, got ${describeValue(maxLifetime)}`);
  }
  const retentionPeriod = checkMilliseconds(
    'retentionPeriod',
    pick('retentionPeriod'),
    Number.MAX_SAFE_INTEGER,
  );
  const cleanupInterval = checkMilliseconds('cleanupInterval', pick('cleanupInterval'));
  if (cleanupInterval < 1) {
    throw new RangeError(
      `Expected \`cleanupInterval\` to be at least 1 ms, got ${describeValue(cleanupInterval)}`,
    );
  }
  const maxOperations = checkCount('maxOperations', pick('maxOperations'), 1, true);
  const maxRunningPerOwner = checkCount('maxRunningPerOwner', pick('maxRunningPerOwner'), 1, true);
  const maxWaitersPerOperation = checkCount(
    'maxWaitersPerOperation',
    pick('maxWaitersPerOperation'),
    1,
    true,
  );
  const maxWaiters = checkCount('maxWaiters', pick('maxWaiters'), 1, true);
  const whenFull = pick('whenFull');
  if (whenFull !== 'reject' && whenFull !== 'evict-oldest') {
    throw new TypeError(
      `Expected \`whenFull\` to be "reject" or "evict-oldest", got ${describeValue(whenFull)}`,
    );
  }

  const store = given.store;
  if (store !== undefined && !isStore(store)) {
    throw new TypeError(
      `Expected \`store\` to implement OperationStore (size, insert, get, setProgress, finish, list, sweep), got ${describeValue(store)}`,
    );
  }
  return {
    whenFull,
    defaultTimeout,
    maxLifetime,
    retentionPeriod,
    cleanupInterval,
    maxWait,
    maxOperations,
    maxRunningPerOwner,
    maxWaitersPerOperation,
    maxWaiters,
    ...(store === undefined ? {} : { store }),
  };
}

function isStore(value: unknown): value is OperationStore {
  if (value === null || typeof value !== 'object') return false;
  const store = value as Record<string, unknown>;
  return (
    typeof store.size === 'number' &&
    ['insert', 'get', 'setProgress', 'finish', 'list', 'sweep'].every(
      (name) => typeof store[name] === 'function',
    )
  );
}
