/**
 * Every option of the executor and of its calls, with its default, and the parsing of each: an
 * unknown key or a wrong value is an error that names it. Durations are milliseconds, and say so
 * (`…Ms`).
 *
 * @module
 */
import { decodeCursor } from './cursor.js';
import type { ListPosition, OperationStore, Redelivery } from './stores/store.js';
import type { OperationStatus, Progress } from './types.js';
import {
  checkCount,
  checkMilliseconds,
  checkOperationId,
  checkOptionalBoolean,
  checkOptionalSignal,
  checkOptionalString,
  checkOptions,
  describeValue,
  MAX_TIMER_MS,
} from './validate.js';

/** Options of `new Executor(options)`. Every field is optional. */
export interface ExecutorOptions {
  /**
   * How long `execute()` and `continue()` wait for the work before answering `running`, when the
   * call gives no `waitMs`. At most `maxWaitMs`.
   * @defaultValue 15_000, or `maxWaitMs` if that is smaller
   */
  defaultWaitMs?: number | undefined;
  /**
   * The longest any one wait may last: a call's `waitMs` is capped to it. Keep it below your
   * clients' request timeout (60 s in the MCP SDK).
   * @defaultValue 55_000
   */
  maxWaitMs?: number | undefined;
  /**
   * An operation still running this long after it started is failed with an
   * {@link OperationLifetimeError} and its signal aborted, whether or not the work heeds it.
   * Up to 2_147_483_647 (about 24.8 days), or `Infinity` for no limit.
   * @defaultValue 600_000
   */
  maxLifetimeMs?: number | undefined;
  /**
   * How long a finished operation stays readable through `continue()` and `get()`. Operations that
   * finish within `execute()`'s wait were never handed an id and are not retained.
   * @defaultValue 300_000
   */
  retentionMs?: number | undefined;
  /**
   * How often expired operations are swept from the store. Reads never return an expired operation
   * whatever this is; it only bounds how long expired records hold memory.
   * @defaultValue 60_000
   */
  sweepIntervalMs?: number | undefined;
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

/** {@link ExecutorOptions} with every default applied and validated (the store aside). */
export interface ResolvedExecutorOptions {
  /** See {@link ExecutorOptions.defaultWaitMs}. */
  readonly defaultWaitMs: number;
  /** See {@link ExecutorOptions.maxWaitMs}. */
  readonly maxWaitMs: number;
  /** See {@link ExecutorOptions.maxLifetimeMs}. */
  readonly maxLifetimeMs: number;
  /** See {@link ExecutorOptions.retentionMs}. */
  readonly retentionMs: number;
  /** See {@link ExecutorOptions.sweepIntervalMs}. */
  readonly sweepIntervalMs: number;
  /** See {@link ExecutorOptions.maxOperations}. */
  readonly maxOperations: number;
  /** See {@link ExecutorOptions.maxRunningPerOwner}. */
  readonly maxRunningPerOwner: number;
  /** See {@link ExecutorOptions.maxWaitersPerOperation}. */
  readonly maxWaitersPerOperation: number;
  /** See {@link ExecutorOptions.maxWaiters}. */
  readonly maxWaiters: number;
  /** See {@link ExecutorOptions.whenFull}. */
  readonly whenFull: 'reject' | 'evict-oldest';
}

const DEFAULTS: ResolvedExecutorOptions = {
  defaultWaitMs: 15_000,
  maxWaitMs: 55_000,
  maxLifetimeMs: 600_000,
  retentionMs: 300_000,
  sweepIntervalMs: 60_000,
  maxOperations: 10_000,
  maxRunningPerOwner: 1000,
  maxWaitersPerOperation: 1000,
  maxWaiters: 10_000,
  whenFull: 'reject',
};

/** Options of one `execute()` call. */
export interface ExecuteOptions<T = unknown> {
  /**
   * A name for the kind of work (`"render"`, `"crawl"`): shown in results, snapshots and events,
   * and usable as a `list()` filter.
   * @defaultValue "operation"
   */
  type?: string | undefined;
  /**
   * How long to wait for the work before answering `running`; capped by `maxWaitMs`. `0` answers
   * `running` at once (explicit background mode).
   * @defaultValue the executor's `defaultWaitMs`
   */
  waitMs?: number | undefined;
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
   * Cancel the operation, not just the wait, when `signal` aborts.
   * @defaultValue false
   */
  cancelOnAbort?: boolean | undefined;
  /**
   * `'auto'`: when this operation is expected to outlive the wait (by `estimateMs`, or else by the
   * median of at least 3 recent completed runs of its `type`), answer `running` at once rather
   * than hold the caller for the whole wait; the answer's `backgroundReason` says why.
   */
  background?: 'auto' | undefined;
  /**
   * The caller's estimate of how long this run will take (from the input's size, an item
   * count...): used by `background: 'auto'` in place of the learned median.
   */
  estimateMs?: number | undefined;
  /**
   * Called with the operation's progress each time it moves (after phases are mapped and
   * backward steps dropped), for the caller that started it: an MCP request forwarding progress
   * notifications, say. A handler that throws is reported as `listenerError`.
   */
  onProgress?: ((progress: Progress) => void) | undefined;
  /**
   * Reads the error a completed result reports of its own (an MCP tool result with `isError`, an
   * HTTP 5xx...), as a message, or `undefined` when it reports none. The answer is kept with the
   * record as `resultError` (its first 1000 characters), so that a reader knows it without loading
   * the result. A reader that throws or answers something else than a string counts as none.
   * @defaultValue none: `resultError` is always `undefined`
   */
  resultError?: ((result: T) => string | undefined) | undefined;
  /**
   * Declares the work redeliverable: idempotent, so that if the process running it dies, another
   * process sharing the store (a replica on the same `RedisStore`) may run it again, as the job
   * `job` (defined there with {@link Executor.defineJob}) with `args`. The operation keeps its id,
   * owner and waiters; its snapshot's `attempt` counts the runs. Without it, work cut off by its
   * process's death is never run again: it ends with a `ReplicaLostError`, outcome unknown.
   * On a store that does not redeliver (memory, SQLite) the work runs once (the job must be
   * defined all the same).
   */
  redeliver?: RedeliverOptions | undefined;
}

/** See {@link ExecuteOptions.redeliver}. */
export interface RedeliverOptions {
  /** The job to run again, as {@link Executor.defineJob} defined it on every process. */
  job: string;
  /** Its arguments: a JSON value, kept with the record until the operation ends. */
  args?: unknown;
  /**
   * Runs in all, the first included, that the loss of the process running it may start; past it,
   * the operation fails with a `ReplicaLostError`. A run handed back by a graceful drain
   * (`stop()`) does not count.
   * @defaultValue 3
   */
  attempts?: number | undefined;
  /**
   * The wait before the first run again, in milliseconds, doubled for each one after it (at most
   * an hour).
   * @defaultValue 1000
   */
  backoffMs?: number | undefined;
}

/** Options of one `continue()` call. */
export interface ContinueOptions {
  /**
   * How long to wait for the operation to finish; capped by `maxWaitMs`. `0` answers where it
   * stands at once.
   * @defaultValue the executor's `defaultWaitMs`
   */
  waitMs?: number | undefined;
  /** The owner the operation was started under; see {@link ExecuteOptions.owner}. */
  owner?: string | undefined;
  /** Ends the wait early (answering `running`); the operation goes on. */
  signal?: AbortSignal | undefined;
  /**
   * The keys of the input requests the caller has seen (from `inputRequests`): the wait also
   * answers, at once, while the work waits for input not among them. Without it a wait answers
   * when the work asks, not for requests made before the wait began.
   */
  knownInput?: readonly string[] | undefined;
}

/** Options of `get()`. */
export interface GetOptions {
  /** The owner the operation was started under; see {@link ExecuteOptions.owner}. */
  owner?: string | undefined;
}

/** Options of `provideInput()`. */
export interface ProvideInputOptions {
  /** The owner the operation was started under; see {@link ExecuteOptions.owner}. */
  owner?: string | undefined;
}

/** Options of one `cancel()` call. */
export interface CancelOptions {
  /** The owner the operation was started under; see {@link ExecuteOptions.owner}. */
  owner?: string | undefined;
  /** Why; recorded in the {@link OperationCancelledError} the work's signal fires with. */
  reason?: string | undefined;
}

/** Options of `list()`. */
export interface ListOptions {
  /** Whose operations; see {@link ExecuteOptions.owner}. */
  owner?: string | undefined;
  /** Only operations with this status. */
  status?: OperationStatus | undefined;
  /** Only operations of this type. */
  type?: string | undefined;
  /**
   * At most this many on a page, from 1 to 1000.
   * @defaultValue 100
   */
  limit?: number | undefined;
  /** The `nextCursor` of the previous page; without it, the first page. */
  cursor?: string | undefined;
}

/** Options of `stop()`. */
export interface StopOptions {
  /**
   * A graceful drain first: new work is refused at once, running work gets this long to finish
   * (`continue()`, `get()`, `list()` and `cancel()` keep answering meanwhile), and only what is
   * still running then is cancelled. `0` cancels running work at once.
   * @defaultValue 0
   */
  drainMs?: number | undefined;
}

const DEFAULT_TYPE = 'operation';
const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 1000;
const STATUSES: ReadonlySet<unknown> = new Set<OperationStatus>([
  'running',
  'completed',
  'failed',
  'cancelled',
]);

const EXECUTOR_KEYS = new Set([...Object.keys(DEFAULTS), 'store']);
const EXECUTE_KEYS = new Set([
  'redeliver',
  'type',
  'waitMs',
  'owner',
  'signal',
  'cancelOnAbort',
  'background',
  'estimateMs',
  'onProgress',
  'resultError',
]);
const CONTINUE_KEYS = new Set(['waitMs', 'owner', 'signal', 'knownInput']);
const GET_KEYS = new Set(['owner']);
const INPUT_KEYS = new Set(['signal']);
const CANCEL_KEYS = new Set(['owner', 'reason']);
const LIST_KEYS = new Set(['owner', 'status', 'type', 'limit', 'cursor']);
const STOP_KEYS = new Set(['drainMs']);

/** Applies defaults and validates; throws a TypeError/RangeError naming the option and the value. */
export function resolveExecutorOptions(
  options: unknown,
): ResolvedExecutorOptions & { store?: OperationStore } {
  const given = checkOptions('the options of new Executor()', options, EXECUTOR_KEYS);
  const pick = <K extends keyof ResolvedExecutorOptions>(name: K): unknown =>
    given[name] === undefined ? DEFAULTS[name] : given[name];

  const maxWaitMs = checkMilliseconds('maxWaitMs', pick('maxWaitMs'));
  // Left out, the default wait shrinks to fit a smaller maxWaitMs; given, it must fit.
  const defaultWaitMs =
    given.defaultWaitMs === undefined
      ? Math.min(DEFAULTS.defaultWaitMs, maxWaitMs)
      : checkMilliseconds('defaultWaitMs', given.defaultWaitMs);
  if (defaultWaitMs > maxWaitMs) {
    throw new RangeError(
      `Expected \`defaultWaitMs\` to be at most \`maxWaitMs\` (${maxWaitMs}), got ${describeValue(defaultWaitMs)}`,
    );
  }
  const maxLifetimeValue = pick('maxLifetimeMs');
  const maxLifetimeMs =
    maxLifetimeValue === Number.POSITIVE_INFINITY
      ? maxLifetimeValue
      : checkMilliseconds('maxLifetimeMs', maxLifetimeValue, MAX_TIMER_MS);
  if (maxLifetimeMs === 0) {
    throw new RangeError(`Expected \`maxLifetimeMs\` to be more than 0, got ${describeValue(maxLifetimeMs)}`);
  }
  const retentionMs = checkMilliseconds('retentionMs', pick('retentionMs'), Number.MAX_SAFE_INTEGER);
  const sweepIntervalMs = checkMilliseconds('sweepIntervalMs', pick('sweepIntervalMs'));
  if (sweepIntervalMs < 1) {
    throw new RangeError(
      `Expected \`sweepIntervalMs\` to be at least 1, got ${describeValue(sweepIntervalMs)}`,
    );
  }
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
    defaultWaitMs,
    maxWaitMs,
    maxLifetimeMs,
    retentionMs,
    sweepIntervalMs,
    maxOperations: checkCount('maxOperations', pick('maxOperations'), 1, true),
    maxRunningPerOwner: checkCount('maxRunningPerOwner', pick('maxRunningPerOwner'), 1, true),
    maxWaitersPerOperation: checkCount('maxWaitersPerOperation', pick('maxWaitersPerOperation'), 1, true),
    maxWaiters: checkCount('maxWaiters', pick('maxWaiters'), 1, true),
    whenFull,
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

/** A wait as a call gives it: the executor's `defaultWaitMs` if absent, capped by `maxWaitMs`. */
function waitOf(value: unknown, executor: ResolvedExecutorOptions): number {
  const wait =
    value === undefined
      ? executor.defaultWaitMs
      : checkMilliseconds('waitMs', value, Number.MAX_SAFE_INTEGER);
  return Math.min(wait, executor.maxWaitMs);
}

/**
 * One `execute()` call's options, checked, with its wait capped. The executor parses "no options"
 * once and keeps the answer, so that a call without options allocates none.
 */
export interface ParsedExecute {
  readonly type: string;
  readonly owner: string | undefined;
  readonly waitMs: number;
  readonly signal: AbortSignal | undefined;
  readonly cancelOnAbort: boolean;
  readonly background: 'auto' | undefined;
  readonly estimateMs: number | undefined;
  readonly onProgress: ((progress: Progress) => void) | undefined;
  readonly resultError: ((result: never) => string | undefined) | undefined;
  readonly redelivery: Redelivery | undefined;
}

export function parseExecute(options: unknown, executor: ResolvedExecutorOptions): ParsedExecute {
  const o = checkOptions('the options of execute()', options, EXECUTE_KEYS);
  if (o.background !== undefined && o.background !== 'auto') {
    throw new TypeError(`Expected \`background\` to be "auto", got ${describeValue(o.background)}`);
  }
  return {
    type: checkOptionalString('type', o.type) ?? DEFAULT_TYPE,
    owner: checkOptionalString('owner', o.owner),
    waitMs: waitOf(o.waitMs, executor),
    signal: checkOptionalSignal('signal', o.signal),
    cancelOnAbort: checkOptionalBoolean('cancelOnAbort', o.cancelOnAbort) === true,
    background: o.background,
    estimateMs:
      o.estimateMs === undefined
        ? undefined
        : checkMilliseconds('estimateMs', o.estimateMs, Number.MAX_SAFE_INTEGER),
    onProgress: checkOptionalFunction('onProgress', o.onProgress) as ParsedExecute['onProgress'],
    resultError: checkOptionalFunction('resultError', o.resultError) as ParsedExecute['resultError'],
    redelivery: o.redeliver === undefined ? undefined : parseRedeliver(o.redeliver),
  };
}

const REDELIVER_KEYS = new Set(['job', 'args', 'attempts', 'backoffMs']);
const MAX_ATTEMPTS = 100;
/** The longest wait before a run again (backoffMs doubles up to it). */
export const MAX_BACKOFF_MS = 3_600_000;

/** `redeliver`, checked, defaults applied. */
export function parseRedeliver(options: unknown): Redelivery {
  const o = checkOptions('`redeliver`', options, REDELIVER_KEYS);
  const job = checkOptionalString('redeliver.job', o.job);
  if (job === undefined || job === '') {
    throw new TypeError(`Expected \`redeliver.job\` to be a job name, got ${describeValue(o.job)}`);
  }
  let json: string | undefined;
  try {
    json = o.args === undefined ? 'null' : JSON.stringify(o.args);
  } catch (error) {
    throw new TypeError(
      `Expected \`redeliver.args\` to be a JSON value: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // A function or a symbol: JSON has no such value, and a run elsewhere would get nothing.
  if (json === undefined) {
    throw new TypeError(`Expected \`redeliver.args\` to be a JSON value, got ${describeValue(o.args)}`);
  }
  const attempts = checkCount('redeliver.attempts', o.attempts ?? 3, 1);
  if (attempts > MAX_ATTEMPTS) {
    throw new RangeError(
      `Expected \`redeliver.attempts\` to be at most ${MAX_ATTEMPTS}, got ${describeValue(attempts)}`,
    );
  }
  const backoffMs = checkMilliseconds('redeliver.backoffMs', o.backoffMs ?? 1000, MAX_BACKOFF_MS);
  // The arguments as the store will hand them back: what a run elsewhere gets.
  return { job, args: JSON.parse(json) as unknown, attempts, backoffMs };
}

function checkOptionalFunction(name: string, value: unknown): unknown {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`Expected \`${name}\` to be a function, got ${describeValue(value)}`);
  }
  return value;
}

/** One `continue()` call's options, checked, with its wait capped. */
export interface ParsedContinue {
  readonly waitMs: number;
  readonly owner: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly knownInput: readonly string[] | undefined;
}

export function parseContinue(options: unknown, executor: ResolvedExecutorOptions): ParsedContinue {
  const o = checkOptions('the options of continue()', options, CONTINUE_KEYS);
  const knownInput = o.knownInput;
  if (
    knownInput !== undefined &&
    (!Array.isArray(knownInput) || knownInput.some((key: unknown) => typeof key !== 'string'))
  ) {
    throw new TypeError(
      `Expected \`knownInput\` to be an array of input request keys, got ${describeValue(knownInput)}`,
    );
  }
  return {
    waitMs: waitOf(o.waitMs, executor),
    owner: checkOptionalString('owner', o.owner),
    signal: checkOptionalSignal('signal', o.signal),
    knownInput: knownInput as readonly string[] | undefined,
  };
}

/** One `get()` call's id and owner, checked. */
export function parseGet(operationId: unknown, options: unknown): { id: string; owner: string | undefined } {
  const id = checkOperationId(operationId);
  return {
    id,
    owner: checkOptionalString('owner', checkOptions('the options of get()', options, GET_KEYS).owner),
  };
}

/** One `provideInput()` call's id and options, checked. */
export function parseProvideInput(
  operationId: unknown,
  options: unknown,
): { id: string; owner: string | undefined } {
  const id = checkOperationId(operationId);
  const given = checkOptions('the options of provideInput()', options, GET_KEYS);
  return { id, owner: checkOptionalString('owner', given.owner) };
}

/** The options of one `context.input()` call, checked. */
export function parseInput(options: unknown): { signal: AbortSignal | undefined } {
  const given = checkOptions('the options of input()', options, INPUT_KEYS);
  return { signal: checkOptionalSignal('signal', given.signal) };
}

/** One `cancel()` call's id and options, checked. */
export function parseCancel(
  operationId: unknown,
  options: unknown,
): { id: string; owner: string | undefined; reason: string | undefined } {
  const id = checkOperationId(operationId);
  const o = checkOptions('the options of cancel()', options, CANCEL_KEYS);
  return {
    id,
    owner: checkOptionalString('owner', o.owner),
    reason: checkOptionalString('reason', o.reason),
  };
}

/** One `list()` call's options, checked, the cursor decoded. */
export function parseList(options: unknown): {
  owner: string | undefined;
  status: OperationStatus | undefined;
  type: string | undefined;
  limit: number;
  after: ListPosition | undefined;
} {
  const o = checkOptions('the options of list()', options, LIST_KEYS);
  if (o.status !== undefined && !STATUSES.has(o.status)) {
    throw new TypeError(
      `Expected \`status\` to be one of "running", "completed", "failed", "cancelled", got ${describeValue(o.status)}`,
    );
  }
  const limit = o.limit === undefined ? DEFAULT_LIST_LIMIT : checkCount('limit', o.limit, 1);
  if (limit > MAX_LIST_LIMIT) {
    throw new RangeError(`Expected \`limit\` to be at most ${MAX_LIST_LIMIT}, got ${describeValue(limit)}`);
  }
  return {
    owner: checkOptionalString('owner', o.owner),
    status: o.status as OperationStatus | undefined,
    type: checkOptionalString('type', o.type),
    limit,
    after: o.cursor === undefined ? undefined : decodeCursor(o.cursor),
  };
}

/** One `stop()` call's options, checked. */
export function parseStop(options: unknown): { drainMs: number } {
  const o = checkOptions('the options of stop()', options, STOP_KEYS);
  return { drainMs: o.drainMs === undefined ? 0 : checkMilliseconds('drainMs', o.drainMs, MAX_TIMER_MS) };
}
