import mittImport, { type Emitter } from 'mitt';
import {
  ExecutorStoppedError,
  NonErrorThrownError,
  OperationCancelledError,
  OperationLifetimeError,
  OperationNotFoundError,
  type StoreAction,
  StoreError,
  TooManyOperationsError,
  TooManyWaitersError,
} from './errors.js';
import { type DurationEstimate, DurationStats } from './estimates.js';
import type { ExecutorEvents } from './events.js';
import { newOperationId } from './ids.js';
import { LiveOperation } from './operation.js';
import {
  type CancelOptions,
  type ContinueOptions,
  DEFAULT_LIST_LIMIT,
  type ExecuteOptions,
  type ExecutorOptions,
  type ListOptions,
  type OwnerOptions,
  type ResolvedExecutorOptions,
  resolveExecutorOptions,
} from './options.js';
import { createProgressReporter, type ProgressReporter } from './progress.js';
import { formatDuration, resultOf, snapshotOf } from './results.js';
import { MemoryStore } from './stores/memory.js';
import type { Awaitable, OperationRecord, OperationStore } from './stores/store.js';
import type {
  OperationContext,
  OperationFunction,
  OperationResult,
  OperationSnapshot,
  OperationStatus,
  Progress,
  TerminalStatus,
} from './types.js';
import {
  checkCount,
  checkMilliseconds,
  checkOperationId,
  checkOptionalBoolean,
  checkOptionalSignal,
  checkOptionalString,
  checkOptionsObject,
  checkProgressValues,
  describeValue,
} from './validate.js';
import { Waiter } from './waiter.js';

// mitt's typings describe its ESM build as CommonJS under NodeNext resolution; at run time the
// default import is the factory itself.
const mitt = mittImport as unknown as typeof mittImport.default;

const DEFAULT_TYPE = 'operation';
/** Completed runs of a type needed before `background: 'auto'` trusts their median. */
const MIN_RUNS_FOR_AUTO = 3;
const RESOLVED = Promise.resolve();
const STATUSES: ReadonlySet<unknown> = new Set<OperationStatus>([
  'running',
  'completed',
  'failed',
  'cancelled',
]);

/** A handler of the executor event `K`. */
export type EventHandler<K extends keyof ExecutorEvents> = (event: ExecutorEvents[K]) => void;

/**
 * Runs work in the background, waits a bounded time for it, and answers either its result or an
 * operation id to continue with later.
 *
 * ```ts
 * const executor = new Executor({ defaultTimeout: 15_000 });
 * const r = await executor.execute(({ signal, progress }) => render(scene, { signal, progress }), { type: 'render' });
 * if (r.status === 'running') {
 *   const later = await executor.continue(r.operationId, 30_000);
 * }
 * ```
 */
export class Executor {
  /** The options in force, defaults applied. */
  readonly options: ResolvedExecutorOptions;
  readonly #store: OperationStore;
  readonly #ownsStore: boolean;
  /** Registered operations of this process, until their terminal record is in the store. */
  readonly #live = new Map<string, LiveOperation>();
  /** Every running operation of this process, registered or not (what `stop()` must abort), linked through the operations. */
  #running: LiveOperation | undefined = undefined;
  /** Running operations not registered yet: counted against `maxOperations` besides the store. */
  #unregistered = 0;
  /** Waits on operations that run in another process (a shared store), by id: the store's change feed or `stop()` ends them. */
  readonly #remoteWaits = new Map<string, Set<Waiter>>();
  /** Running operations per owner, for `maxRunningPerOwner`. */
  readonly #runningByOwner = new Map<string, number>();
  /** `continue()` calls waiting now, for `maxWaiters`. */
  #waiting = 0;
  /** Unsubscribes from the store's change feed, if it has one. */
  readonly #unwatch: (() => void) | undefined;
  readonly #emitter: Emitter<ExecutorEvents> = mitt<ExecutorEvents>();
  readonly #handlers: Array<{ type: keyof ExecutorEvents; handler: unknown; safe: (event: never) => void }> =
    [];
  readonly #cleanupTimer: NodeJS.Timeout;
  readonly #durations = new DurationStats();
  #sweeping: Promise<void> | undefined = undefined;
  #stopped: Promise<void> | undefined = undefined;

  /** @param options - see {@link ExecutorOptions}; every field is optional */
  constructor(options?: ExecutorOptions) {
    const { store, ...resolved } = resolveExecutorOptions(options);
    this.options = Object.freeze(resolved);
    this.#ownsStore = store === undefined;
    this.#store = store ?? new MemoryStore();
    this.#cleanupTimer = setInterval(() => void this.#sweep(), this.options.cleanupInterval);
    this.#cleanupTimer.unref();
    this.#unwatch = this.#store.watch?.((change) => this.#onStoreChange(change.id, change.status));
  }

  /**
   * Starts `fn` and waits up to `timeout` (capped by `maxWait`) for it. Answers `completed` or
   * `failed` if it finished in time, else `running` with an `operationId` for {@link continue}.
   * The work goes on in the background either way; whatever it throws is captured.
   *
   * Rejects only when the call itself is refused: bad arguments (`TypeError`/`RangeError`),
   * {@link TooManyOperationsError}, {@link ExecutorStoppedError}.
   */
  execute<T>(fn: OperationFunction<T>, options?: ExecuteOptions): Promise<OperationResult<T>> {
    if (this.#stopped !== undefined) return Promise.reject(new ExecutorStoppedError());
    let type: string;
    let owner: string | undefined;
    let wait: number;
    let signal: AbortSignal | undefined;
    let cancelOnAbort: boolean | undefined;
    let onProgress: unknown;
    let backgroundReason: string | undefined;
    try {
      if (typeof fn !== 'function') {
        throw new TypeError(`Expected \`fn\` to be a function, got ${describeValue(fn)}`);
      }
      const o = checkOptionsObject('options', options);
      type = checkOptionalString('type', o.type) ?? DEFAULT_TYPE;
      owner = checkOptionalString('owner', o.owner);
      wait = this.#waitOf('timeout', o.timeout);
      signal = checkOptionalSignal('signal', o.signal);
      cancelOnAbort = checkOptionalBoolean('cancelOnAbort', o.cancelOnAbort);
      onProgress = o.onProgress;
      if (onProgress !== undefined && typeof onProgress !== 'function') {
        throw new TypeError(`Expected \`onProgress\` to be a function, got ${describeValue(onProgress)}`);
      }
      if (o.background !== undefined && o.background !== 'auto') {
        throw new TypeError(`Expected \`background\` to be "auto", got ${describeValue(o.background)}`);
      }
      const estimateMs =
        o.estimateMs === undefined
          ? undefined
          : checkMilliseconds('estimateMs', o.estimateMs, Number.MAX_SAFE_INTEGER);
      if (o.background === 'auto' && wait > 0) {
        backgroundReason = this.#outlivesWait(type, estimateMs, wait);
        if (backgroundReason !== undefined) wait = 0;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#unregistered + this.#store.size >= this.options.maxOperations) {
      return this.#executeWhenRoom(fn, options);
    }
    if (owner !== undefined && (this.#runningByOwner.get(owner) ?? 0) >= this.options.maxRunningPerOwner) {
      return Promise.reject(new TooManyOperationsError(this.options.maxRunningPerOwner, owner));
    }

    const op = new LiveOperation(type, owner, Date.now());
    if (onProgress !== undefined) op.onProgress = onProgress as (progress: Progress) => void;
    op.backgroundReason = backgroundReason;
    this.#track(op);
    this.#unregistered++;
    this.#emit('created', () => ({ operation: this.#snapshot(op) }));
    this.#emit('started', () => ({ operation: this.#snapshot(op) }));

    let value: T | PromiseLike<T>;
    try {
      value = fn(new Context(op, this.#contextHost));
    } catch (error) {
      this.#settle(op, 'failed', asError(error));
      return Promise.resolve(this.#resultOf(op));
    }
    if (!isThenable(value)) {
      this.#settle(op, 'completed', value);
      return Promise.resolve(this.#resultOf(op));
    }
    Promise.resolve(value).then(
      (result) => this.#settle(op, 'completed', result),
      (error: unknown) => this.#settle(op, 'failed', asError(error)),
    );

    const lifetime = this.options.maxLifetime;
    const reachesLifetime = wait >= lifetime;
    if (reachesLifetime) wait = lifetime;
    if (wait === 0) return Promise.resolve(this.#background(op));

    return new Promise<OperationResult<T>>((resolve) => {
      const waiter = new Waiter(
        (why) => {
          if (op.status !== 'running') resolve(this.#resultOf(op));
          else if (why === 'timeout' && reachesLifetime) {
            this.#settle(op, 'failed', new OperationLifetimeError(lifetime));
            resolve(this.#resultOf(op));
          } else if (why === 'aborted' && cancelOnAbort === true) {
            this.#settle(op, 'cancelled', new OperationCancelledError('the caller aborted its request'));
            resolve(this.#resultOf(op));
          } else resolve(this.#background(op));
        },
        () => op.removeWaiter(waiter),
      );
      op.addWaiter(waiter);
      if (signal !== undefined) waiter.listen(signal);
      // Work that is already settled (a sync-looking async function, a cached answer) settles
      // in the reaction queued above, before this one: it never pays for a timer. (A promise
      // reaction, not queueMicrotask, which Node wraps in an AsyncResource at twice the cost.)
      if (!waiter.ended) RESOLVED.then(() => waiter.startTimer(wait));
    });
  }

  /**
   * Waits up to `waitMs` (capped by `maxWait`; default `defaultTimeout`) for the operation to
   * finish. Answers its result once finished, the same result every time until retention drops
   * it, or `running` when the wait ends first (the time ran out or `signal` aborted).
   *
   * Rejects with {@link OperationNotFoundError} for an id that is unknown, expired, or another
   * owner's, and with {@link TooManyWaitersError} past `maxWaitersPerOperation` or `maxWaiters`.
   */
  async continue<T = unknown>(
    operationId: string,
    waitMs?: number,
    options?: ContinueOptions,
  ): Promise<OperationResult<T>> {
    this.#assertNotStopped();
    const id = checkOperationId(operationId);
    const wait = this.#waitOf('waitMs', waitMs);
    const o = checkOptionsObject('options', options);
    const owner = checkOptionalString('owner', o.owner);
    const signal = checkOptionalSignal('signal', o.signal);

    const op = this.#live.get(id);
    if (op !== undefined) {
      if (op.owner !== owner) throw new OperationNotFoundError(id);
      if (op.status !== 'running' || wait === 0) return this.#resultOf(op);
      this.#admitWaiter(id, op.waiterCount);
      this.#waiting++;
      return new Promise<OperationResult<T>>((resolve) => {
        const waiter = new Waiter(
          () => {
            this.#waiting--;
            resolve(this.#resultOf(op));
          },
          () => op.removeWaiter(waiter),
        );
        op.addWaiter(waiter);
        if (signal !== undefined) waiter.listen(signal);
        waiter.startTimer(wait);
      });
    }

    // Maybe running, but not in this process: another executor sharing the store runs it. The
    // store's change feed ends the wait when it finishes (without one, it is read again when the
    // wait is over). The wait listens before the read: a change landing between the two would
    // otherwise be missed, and the wait sit out its whole time.
    if (wait > 0) this.#admitWaiter(id, 0); // the per-operation count once the owner is known
    const remote = wait === 0 || this.#unwatch === undefined ? undefined : this.#remoteWait(id);
    let record: OperationRecord | undefined;
    try {
      record = await this.#read('read', id, () => this.#store.get(id, owner));
    } catch (error) {
      remote?.cancel();
      throw error;
    }
    if (record === undefined) {
      remote?.cancel();
      throw new OperationNotFoundError(id);
    }
    const expectedMs = this.#expectedMs(record.type);
    if (record.status !== 'running' || wait === 0) {
      remote?.cancel();
      return resultOf(record, id, Date.now(), { expectedMs });
    }
    const others = (this.#remoteWaits.get(id)?.size ?? 0) - (remote === undefined ? 0 : 1);
    if (others >= this.options.maxWaitersPerOperation) {
      remote?.cancel();
      throw new TooManyWaitersError(this.options.maxWaitersPerOperation, id);
    }
    await (remote ?? this.#remoteWait(id)).wait(wait, signal);
    const after = await this.#read('read', id, () => this.#store.get(id, owner));
    return resultOf(after ?? record, id, Date.now(), { expectedMs });
  }

  /**
   * Cancels a running operation: its status becomes `cancelled` at once, its signal fires with an
   * {@link OperationCancelledError}, every waiter wakes, and whatever the work returns later is
   * discarded. On a finished operation it changes nothing. Answers the snapshot afterwards: a
   * status other than `cancelled`, or an earlier `finishedAt`, says it had already finished.
   *
   * Rejects with {@link OperationNotFoundError} for an id that is unknown, expired, or another
   * owner's.
   */
  async cancel(operationId: string, options?: CancelOptions): Promise<OperationSnapshot> {
    this.#assertNotStopped();
    const id = checkOperationId(operationId);
    const o = checkOptionsObject('options', options);
    const owner = checkOptionalString('owner', o.owner);
    const reason = checkOptionalString('reason', o.reason);

    const op = this.#live.get(id);
    if (op !== undefined) {
      if (op.owner !== owner) throw new OperationNotFoundError(id);
      await this.#settle(op, 'cancelled', new OperationCancelledError(reason));
      return snapshotOf(op, id, Date.now());
    }
    const record = await this.#read('read', id, () => this.#store.get(id, owner));
    if (record === undefined) throw new OperationNotFoundError(id);
    if (record.status !== 'running') return snapshotOf(record, id, Date.now());
    const now = Date.now();
    const after = await this.#read('cancel', id, () =>
      this.#store.finish(id, owner, {
        status: 'cancelled',
        error: new OperationCancelledError(reason),
        finishedAt: now,
        expiresAt: now + this.options.retentionPeriod,
      }),
    );
    return snapshotOf(after ?? record, id, Date.now());
  }

  /** The operation's snapshot, or `undefined` if it is unknown, expired, or another owner's. */
  async get(operationId: string, options?: OwnerOptions): Promise<OperationSnapshot | undefined> {
    this.#assertNotStopped();
    const id = checkOperationId(operationId);
    const owner = checkOptionalString('owner', checkOptionsObject('options', options).owner);
    const op = this.#live.get(id);
    const state =
      op !== undefined
        ? op.owner === owner
          ? op
          : undefined
        : await this.#read('read', id, () => this.#store.get(id, owner));
    return state === undefined ? undefined : snapshotOf(state, id, Date.now(), this.#expectedMs(state.type));
  }

  /**
   * The owner's operations, oldest first, optionally of one `status` or `type`. Operations are
   * listed once they have an id: when they outlive `execute()`'s wait, or when the work reads
   * `operationId`.
   */
  async list(options?: ListOptions): Promise<OperationSnapshot[]> {
    this.#assertNotStopped();
    const o = checkOptionsObject('options', options);
    const owner = checkOptionalString('owner', o.owner);
    const type = checkOptionalString('type', o.type);
    if (o.status !== undefined && !STATUSES.has(o.status)) {
      throw new TypeError(
        `Expected \`status\` to be one of "running", "completed", "failed", "cancelled", got ${describeValue(o.status)}`,
      );
    }
    const status = o.status as OperationStatus | undefined;
    const limit = o.limit === undefined ? DEFAULT_LIST_LIMIT : checkCount('limit', o.limit, 0);
    const records = await this.#read('list', undefined, () =>
      this.#store.list({ owner, status, type, limit }),
    );
    const now = Date.now();
    // One estimate per type, not one per record: each is a sort of the type's recent runs.
    const expected = new Map<string, number | undefined>();
    return records.map((record) => {
      if (!expected.has(record.type)) expected.set(record.type, this.#expectedMs(record.type));
      return snapshotOf(this.#live.get(record.id) ?? record, record.id, now, expected.get(record.type));
    });
  }

  /**
   * How long operations of each type took in their recent completed runs (count, median, p90):
   * what `background: 'auto'` and the ETA go by. Pass a type for that one only.
   */
  estimates(type?: string): DurationEstimate[] {
    if (type === undefined) return this.#durations.all();
    const estimate = this.#durations.estimate(type);
    return estimate === undefined ? [] : [estimate];
  }

  /**
   * Subscribes `handler` to an event; answers a function that unsubscribes it. See
   * {@link ExecutorEvents} for the events and their payloads.
   */
  on<K extends keyof ExecutorEvents>(type: K, handler: EventHandler<K>): () => void {
    const safe = (event: ExecutorEvents[K]): void => {
      try {
        handler(event);
      } catch (error) {
        this.#listenerFailed(type, error);
      }
    };
    this.#handlers.push({ type, handler, safe });
    this.#emitter.on(type, safe);
    return () => this.off(type, handler);
  }

  /** Unsubscribes a handler given to {@link on}. */
  off<K extends keyof ExecutorEvents>(type: K, handler: EventHandler<K>): void {
    const index = this.#handlers.findIndex((entry) => entry.type === type && entry.handler === handler);
    if (index === -1) return;
    const [entry] = this.#handlers.splice(index, 1);
    this.#emitter.off(type, entry!.safe as EventHandler<K>);
  }

  /**
   * Stops the executor: running operations are cancelled with an {@link ExecutorStoppedError}
   * (their signals fire, their waiters wake), every timer is cleared, and every later call but
   * `stop()` rejects with {@link ExecutorStoppedError}. Idempotent: later calls answer the same
   * promise. Resolves once pending store writes are done and a store the executor created is closed.
   */
  stop(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    clearInterval(this.#cleanupTimer);
    const reason = new ExecutorStoppedError();
    const writes: PromiseLike<unknown>[] = [];
    while (this.#running !== undefined) {
      const write = this.#settle(this.#running, 'cancelled', reason);
      if (write !== undefined) writes.push(write);
    }
    for (const waiters of [...this.#remoteWaits.values()])
      for (const waiter of [...waiters]) waiter.end('aborted');
    this.#unwatch?.();
    this.#stopped = (async () => {
      await Promise.all(writes);
      await this.#sweeping;
      if (this.#ownsStore) await this.#store.close?.();
    })();
    return this.#stopped;
  }

  // ---- internals -------------------------------------------------------------------------

  readonly #contextHost: ContextHost = {
    idOf: (op) => {
      this.#register(op);
      return op.id!;
    },
    report: (op, current, total, message) => this.#report(op, current, total, message),
  };

  /** A wait as given to execute() or continue(): `defaultTimeout` if absent, capped by `maxWait`. */
  #waitOf(name: string, value: unknown): number {
    const wait =
      value === undefined
        ? this.options.defaultTimeout
        : checkMilliseconds(name, value, Number.MAX_SAFE_INTEGER);
    return Math.min(wait, this.options.maxWait);
  }

  /** Refuses one more `continue()` wait past `maxWaitersPerOperation` or `maxWaiters`. */
  #admitWaiter(id: string, onOperation: number): void {
    if (onOperation >= this.options.maxWaitersPerOperation) {
      throw new TooManyWaitersError(this.options.maxWaitersPerOperation, id);
    }
    if (this.#waiting >= this.options.maxWaiters) throw new TooManyWaitersError(this.options.maxWaiters);
  }

  #assertNotStopped(): void {
    if (this.#stopped !== undefined) throw new ExecutorStoppedError();
  }

  #track(op: LiveOperation): void {
    op.nextRunning = this.#running;
    if (this.#running !== undefined) this.#running.previousRunning = op;
    this.#running = op;
    if (op.owner !== undefined)
      this.#runningByOwner.set(op.owner, (this.#runningByOwner.get(op.owner) ?? 0) + 1);
  }

  #untrack(op: LiveOperation): void {
    if (op.owner !== undefined) {
      const count = this.#runningByOwner.get(op.owner)! - 1;
      if (count === 0) this.#runningByOwner.delete(op.owner);
      else this.#runningByOwner.set(op.owner, count);
    }
    if (op.previousRunning === undefined) this.#running = op.nextRunning;
    else op.previousRunning.nextRunning = op.nextRunning;
    if (op.nextRunning !== undefined) op.nextRunning.previousRunning = op.previousRunning;
    op.previousRunning = undefined;
    op.nextRunning = undefined;
  }

  /** At `maxOperations`: sweep expired records, evict if allowed, then try again or refuse. */
  async #executeWhenRoom<T>(fn: OperationFunction<T>, options?: ExecuteOptions): Promise<OperationResult<T>> {
    await this.#sweep();
    if (this.#unregistered + this.#store.size >= this.options.maxOperations && !(await this.#evictOne())) {
      throw new TooManyOperationsError(this.options.maxOperations);
    }
    return this.execute(fn, options);
  }

  /** With `whenFull: 'evict-oldest'`, drops the oldest finished operation; answers whether it did. */
  async #evictOne(): Promise<boolean> {
    if (this.options.whenFull !== 'evict-oldest' || this.#store.evictOldestFinished === undefined)
      return false;
    const store = this.#store as Required<Pick<OperationStore, 'evictOldestFinished'>>;
    const evicted = await this.#read('evict', undefined, () => store.evictOldestFinished());
    if (evicted === undefined) return false;
    this.#emit('evicted', () => ({ operation: snapshotOf(evicted, evicted.id, Date.now()) }));
    return true;
  }

  #resultOf<T>(op: LiveOperation): OperationResult<T> {
    if (op.status !== 'running') return resultOf<T>(op, op.registered ? op.id : undefined, 0);
    return resultOf<T>(op, op.id, Date.now(), {
      expectedMs: this.#expectedMs(op.type),
      backgroundReason: op.backgroundReason,
    });
  }

  /** The type's learned estimate, once there are enough runs to trust it. */
  #trusted(type: string): DurationEstimate | undefined {
    const learned = this.#durations.estimate(type);
    return learned !== undefined && learned.count >= MIN_RUNS_FOR_AUTO ? learned : undefined;
  }

  /** The learned median of the type, once there are enough runs to trust it. */
  #expectedMs(type: string): number | undefined {
    return this.#trusted(type)?.p50Ms;
  }

  /** Why an operation will outlive `wait` (so `background: 'auto'` answers at once), or `undefined`. */
  #outlivesWait(type: string, estimateMs: number | undefined, wait: number): string | undefined {
    if (estimateMs !== undefined) {
      if (estimateMs <= wait) return undefined;
      return `expected to take about ${formatDuration(estimateMs)} (the caller's estimate), longer than the ${formatDuration(wait)} wait`;
    }
    const learned = this.#trusted(type);
    if (learned === undefined || learned.p50Ms <= wait) return undefined;
    return `expected to take about ${formatDuration(learned.p50Ms)} (the median of the last ${learned.count} "${type}" runs), longer than the ${formatDuration(wait)} wait`;
  }

  /** Snapshot for an event: names the operation even if it was never registered. */
  #snapshot(op: LiveOperation): OperationSnapshot {
    op.id ??= newOperationId();
    return snapshotOf(op, op.id, Date.now());
  }

  /** Makes the operation findable by id: the live map, the store, the lifetime timer. */
  #register(op: LiveOperation): void {
    if (op.registered || op.status !== 'running') return;
    op.id ??= newOperationId();
    op.registered = true;
    this.#unregistered--;
    this.#live.set(op.id, op);
    const record: OperationRecord = {
      id: op.id,
      type: op.type,
      owner: op.owner,
      status: 'running',
      createdAt: op.createdAt,
      startedAt: op.startedAt,
      finishedAt: undefined,
      expiresAt: undefined,
      result: undefined,
      error: undefined,
      progress: op.progress,
    };
    const inserted = this.#storeCall('insert', op.id!, () => this.#store.insert(record));
    if (inserted instanceof Error) {
      this.#registrationFailed(op, inserted);
      return;
    }
    if (isThenable(inserted)) {
      op.registration = inserted.then((failure) => {
        if (failure instanceof Error) this.#registrationFailed(op, failure);
      });
    }
    this.#armLifetime(op);
  }

  /** The store refused the record: nobody can reach the operation by id, so it ends here. */
  #registrationFailed(op: LiveOperation, error: Error): void {
    this.#live.delete(op.id!);
    op.registered = false;
    op.registration = undefined;
    // Finished while the insert was pending: its settle already woke, or will wake, its waiters.
    if (op.status !== 'running') return;
    this.#unregistered++;
    this.#settle(op, 'failed', error);
    op.abort(error);
  }

  /** Answers `running` once the operation is registered (or its result, if it ended meanwhile). */
  #background<T>(op: LiveOperation): Awaitable<OperationResult<T>> {
    this.#register(op);
    const registration = op.registration;
    if (registration === undefined) return this.#resultOf(op);
    return registration.then(() => this.#resultOf<T>(op));
  }

  #armLifetime(op: LiveOperation): void {
    const lifetime = this.options.maxLifetime;
    if (lifetime === Number.POSITIVE_INFINITY || op.status !== 'running') return;
    const remaining = op.startedAt + lifetime - Date.now();
    if (remaining <= 0) {
      this.#settle(op, 'failed', new OperationLifetimeError(lifetime));
      return;
    }
    op.lifetimeTimer = setTimeout(
      () => this.#settle(op, 'failed', new OperationLifetimeError(lifetime)),
      remaining,
    );
    op.lifetimeTimer.unref();
  }

  /**
   * The one way an operation of this process becomes terminal. The first call wins; later ones
   * (a result after a cancel, a cancel after a result) change nothing. Never throws. Answers a
   * promise when the store write is asynchronous, so that callers can wait for it.
   */
  #settle(op: LiveOperation, status: TerminalStatus, value: unknown): PromiseLike<void> | undefined {
    const now = Date.now();
    if (!op.settle(status, value, now)) return undefined;
    this.#untrack(op);
    if (status === 'completed') this.#durations.record(op.type, now - op.startedAt);
    if (status === 'cancelled' || value instanceof OperationLifetimeError) op.abort(value as Error);
    if (!op.registered) {
      this.#unregistered--;
      this.#announce(op);
      return undefined;
    }
    const id = op.id!;
    const update = {
      status,
      result: op.result,
      error: op.error,
      finishedAt: now,
      expiresAt: now + this.options.retentionPeriod,
    } as const;
    const write = (): Awaitable<OperationRecord | undefined> => this.#store.finish(id, op.owner, update);
    const registration = op.registration;
    const written =
      registration === undefined
        ? this.#storeCall('finish', id, write)
        : registration.then(() => this.#storeCall('finish', id, write));
    if (written === undefined || !isThenable(written)) {
      this.#finished(op, written);
      return undefined;
    }
    return written.then((record) => this.#finished(op, record));
  }

  /** The store has the terminal record (or failed to take it): wake everyone and let go. */
  #finished(op: LiveOperation, record: OperationRecord | Error | undefined): void {
    if (
      record !== undefined &&
      !(record instanceof Error) &&
      record.status !== 'running' &&
      !isOwnOutcome(op, record)
    ) {
      // Another writer to a shared store made it terminal first: that outcome is the real one
      // (even with the same status: when two cancels race, the other one's reason and time stand).
      op.adopt(record.status, record.result, record.error, record.finishedAt);
      if (record.status === 'cancelled') op.abort(record.error ?? new OperationCancelledError());
    }
    this.#live.delete(op.id!);
    this.#announce(op);
  }

  #announce(op: LiveOperation): void {
    op.wakeWaiters();
    if (op.status === 'completed') {
      this.#emit('completed', () => ({ operation: this.#snapshot(op), result: op.result }));
    } else {
      this.#emit(op.status as 'failed' | 'cancelled', () => ({
        operation: this.#snapshot(op),
        error: op.error!,
      }));
    }
  }

  #report(op: LiveOperation, currentValue: unknown, totalValue: unknown, message: unknown): void {
    const [current, total] = checkProgressValues(currentValue, totalValue);
    const note = checkOptionalString('message', message);
    if (op.status !== 'running') return;
    const previous = op.progress;
    const progress = {
      current: previous !== undefined && previous.current > current ? previous.current : current,
      total,
      message: note,
      updatedAt: Date.now(),
    };
    op.progress = progress;
    if (op.registered) {
      const id = op.id!;
      const write = () => this.#store.setProgress(id, op.owner, progress);
      if (op.registration === undefined) this.#storeCall('setProgress', id, write);
      else op.registration.then(() => this.#storeCall('setProgress', id, write));
    }
    if (op.onProgress !== undefined) {
      try {
        op.onProgress(progress);
      } catch (error) {
        this.#listenerFailed('progress', error);
      }
    }
    this.#emit('progress', () => ({ operation: this.#snapshot(op), progress }));
  }

  /**
   * Calls the store in the background; a throw or a rejection is reported as `storeError` and
   * turned into a {@link StoreError} answer (never an unhandled rejection). Answers the store's
   * value, synchronously when the store answered synchronously.
   */
  #storeCall<R>(
    action: StoreAction,
    id: string,
    call: () => Awaitable<R>,
  ): Awaitable<R | StoreError> | undefined {
    const failed = (error: unknown): StoreError => {
      const failure = new StoreError(action, id, error);
      this.#emit('storeError', () => ({ error: failure }));
      return failure;
    };
    try {
      const answer = call();
      if (!isThenable(answer)) return answer;
      return Promise.resolve(answer).then(undefined, failed);
    } catch (error) {
      return failed(error);
    }
  }

  /** Calls the store for a caller who waits on the answer: a failure rejects as a {@link StoreError}. */
  async #read<R>(action: StoreAction, id: string | undefined, call: () => Awaitable<R>): Promise<R> {
    try {
      return await call();
    } catch (error) {
      throw new StoreError(action, id, error);
    }
  }

  /**
   * A wait for an operation another executor runs, listening to the change feed from now on:
   * `wait()` bounds it (at once if a change came already), `cancel()` drops it unused.
   */
  #remoteWait(id: string): {
    wait(ms: number, signal: AbortSignal | undefined): Promise<void>;
    cancel(): void;
  } {
    let waiters = this.#remoteWaits.get(id);
    if (waiters === undefined) {
      waiters = new Set();
      this.#remoteWaits.set(id, waiters);
    }
    const own = waiters;
    let ended!: () => void;
    const done = new Promise<void>((resolve) => {
      ended = resolve;
    });
    this.#waiting++;
    const waiter = new Waiter(
      () => {
        this.#waiting--;
        own.delete(waiter);
        if (own.size === 0 && this.#remoteWaits.get(id) === own) this.#remoteWaits.delete(id);
        ended();
      },
      () => undefined,
    );
    own.add(waiter);
    return {
      wait(ms, signal) {
        if (!waiter.ended) {
          if (signal !== undefined) waiter.listen(signal);
          waiter.startTimer(ms);
        }
        return done;
      },
      cancel: () => waiter.end('aborted'),
    };
  }

  /**
   * The store's change feed: a record became terminal, through any writer. Waits on it elsewhere
   * end (they read it again); an operation of this process that another writer finished first (a
   * cancel on another replica, a reaper) takes on that outcome, and its work is aborted.
   */
  #onStoreChange(id: string, status: OperationStatus): void {
    if (status === 'running') return;
    const waiters = this.#remoteWaits.get(id);
    if (waiters !== undefined) for (const waiter of [...waiters]) waiter.end('settled');
    const op = this.#live.get(id);
    if (op === undefined || op.status !== 'running') return;
    // A failed read is reported (storeError), never thrown back into the feed: the work's own end
    // then finds the other writer's record, or its lifetime settles it.
    const read = this.#storeCall('read', id, () => this.#store.get(id, op.owner));
    Promise.resolve(read).then((record) => {
      if (record === undefined || record instanceof StoreError) return;
      if (record.status === 'running' || op.status !== 'running') return;
      op.settle(
        record.status,
        record.status === 'completed' ? record.result : record.error,
        record.finishedAt ?? Date.now(),
      );
      this.#untrack(op);
      op.abort(record.error ?? new OperationCancelledError());
      this.#finished(op, record);
    });
  }

  #sweep(): Promise<void> {
    this.#sweeping ??= (async () => {
      try {
        // Without a listener the store need not rebuild the records it drops.
        await this.#store.sweep(
          Date.now(),
          this.#listening('expired')
            ? (record) =>
                this.#emitter.emit('expired', { operation: snapshotOf(record, record.id, Date.now()) })
            : undefined,
        );
      } catch (error) {
        // A failing sweep leaves expired records in place; reads still hide them (store contract).
        const failure = new StoreError('sweep', undefined, error);
        this.#emit('storeError', () => ({ error: failure }));
      } finally {
        this.#sweeping = undefined;
      }
    })();
    return this.#sweeping;
  }

  #listening(type: keyof ExecutorEvents): boolean {
    const handlers = this.#emitter.all.get(type);
    return handlers !== undefined && handlers.length > 0;
  }

  /** Emits `type`, building its payload only when someone listens. */
  #emit<K extends keyof ExecutorEvents>(type: K, payload: () => ExecutorEvents[K]): void {
    if (this.#listening(type)) this.#emitter.emit(type, payload());
  }

  #listenerFailed(type: keyof ExecutorEvents, error: unknown): void {
    const handlers = this.#emitter.all.get('listenerError');
    if (type !== 'listenerError' && handlers !== undefined && handlers.length > 0) {
      this.#emitter.emit('listenerError', { event: type, error });
    } else {
      process.emitWarning(
        `mcp-async: a "${type}" event handler threw: ${String(error)}`,
        'McpAsyncListenerWarning',
      );
    }
  }
}

interface ContextHost {
  idOf(op: LiveOperation): string;
  report(op: LiveOperation, current: unknown, total: unknown, message: unknown): void;
}

/** What the work receives; everything on it is made on first use. */
class Context implements OperationContext {
  readonly #op: LiveOperation;
  readonly #host: ContextHost;
  #progress: ProgressReporter | undefined = undefined;

  constructor(op: LiveOperation, host: ContextHost) {
    this.#op = op;
    this.#host = host;
  }

  get signal(): AbortSignal {
    return this.#op.signal;
  }

  get operationId(): string {
    return this.#host.idOf(this.#op);
  }

  get progress(): ProgressReporter {
    this.#progress ??= createProgressReporter((current, total, message) =>
      this.#host.report(this.#op, current, total, message),
    );
    return this.#progress;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new NonErrorThrownError(value);
}

/**
 * Whether the store's terminal record is this process's own write: stores answer their own
 * update's result or error object itself (not a copy), so identity tells it from another writer's.
 */
function isOwnOutcome(op: LiveOperation, record: OperationRecord): boolean {
  if (record.status !== op.status) return false;
  return record.status === 'completed' ? record.result === op.result : record.error === op.error;
}
