import pTimeout from 'p-timeout';
import { Admission } from './admission.js';
import { encodeCursor } from './cursor.js';
import {
  ExecutorStoppedError,
  OperationCancelledError,
  OperationNotFoundError,
  ReplicaLostError,
  TooManyOperationsError,
} from './errors.js';
import { type DurationEstimate, DurationStats } from './estimates.js';
import { EventBus, type EventHandler, type ExecutorEvents } from './events.js';
import { Lifecycle } from './lifecycle.js';
import {
  type CancelOptions,
  type ContinueOptions,
  type ExecuteOptions,
  type ExecutorOptions,
  type GetOptions,
  type ListOptions,
  type ParsedContinue,
  type ParsedExecute,
  type ProvideInputOptions,
  parseCancel,
  parseContinue,
  parseExecute,
  parseGet,
  parseList,
  parseProvideInput,
  parseStop,
  type ResolvedExecutorOptions,
  resolveExecutorOptions,
  type StopOptions,
} from './options.js';
import { RemoteOperations } from './remote.js';
import { asksBeyond, snapshotOf } from './results.js';
import { Retention } from './retention.js';
import { RunningOperations } from './running.js';
import { StoreAccess } from './store-access.js';
import { MemoryStore } from './stores/memory.js';
import type { OperationRecord, OperationStore } from './stores/store.js';
import type {
  CancelOutcome,
  JobFunction,
  OperationFunction,
  OperationPage,
  OperationResult,
  OperationSnapshot,
} from './types.js';
import { checkFunction, checkOperationId, checkOptions, describeValue } from './validate.js';
import { Waiter } from './waiter.js';

const RESOLVED = Promise.resolve();
const DEFINE_JOB_KEYS = new Set(['resultError']);

type ResultErrorReader = ((result: never) => string | undefined) | undefined;

/**
 * Runs work in the background, waits a bounded time for it, and answers either its result or an
 * operation id to continue with later.
 *
 * ```ts
 * const executor = new Executor({ defaultWaitMs: 15_000 });
 * const r = await executor.execute(({ signal, progress }) => render(scene, { signal, progress }), { type: 'render' });
 * if (r.status === 'running') {
 *   const later = await executor.continue(r.id, { waitMs: 30_000 });
 * }
 * ```
 */
export class Executor {
  /** The options in force, defaults applied. */
  readonly options: ResolvedExecutorOptions;
  readonly #store: OperationStore;
  readonly #ownsStore: boolean;
  readonly #events = new EventBus();
  readonly #io = new StoreAccess(this.#events);
  readonly #running = new RunningOperations();
  readonly #durations = new DurationStats();
  readonly #lifecycle: Lifecycle;
  readonly #admission: Admission;
  readonly #remote: RemoteOperations;
  readonly #retention: Retention;
  readonly #unwatch: (() => void) | undefined;
  /** `draining` from stop() on (no new work), `stopped` once the drain is over (no call but stop()). */
  #state: 'open' | 'draining' | 'stopped' = 'open';
  #stopping: Promise<void> | undefined = undefined;
  /** The jobs defined here (see defineJob), by name. */
  readonly #jobs = new Map<string, { job: JobFunction<unknown>; resultError: ResultErrorReader }>();
  /** Stops taking redelivered work, once serving (see defineJob). */
  #unserve: (() => Promise<void>) | undefined = undefined;
  /** Ends a drain early (a second stop() without one). */
  #cutDrain: AbortController | undefined = undefined;
  /** execute() and continue() without options, parsed once: the fast path allocates none. */
  readonly #noExecuteOptions: ParsedExecute;
  readonly #noContinueOptions: ParsedContinue;

  /** @param options - see {@link ExecutorOptions}; every field is optional */
  constructor(options?: ExecutorOptions) {
    const { store, ...resolved } = resolveExecutorOptions(options);
    this.options = Object.freeze(resolved);
    this.#ownsStore = store === undefined;
    this.#store = store ?? new MemoryStore();
    const o = this.options;
    this.#noExecuteOptions = Object.freeze(parseExecute(undefined, o));
    this.#noContinueOptions = Object.freeze(parseContinue(undefined, o));
    this.#lifecycle = new Lifecycle(o, this.#store, this.#io, this.#events, this.#running, this.#durations);
    this.#admission = new Admission(o, this.#running, this.#store);
    this.#remote = new RemoteOperations(o, this.#store, this.#io, this.#admission, this.#durations);
    this.#retention = new Retention(this.#store, this.#io, this.#events, o.sweepIntervalMs);
    this.#unwatch = this.#store.watch?.(({ id, status, input, resumed, fenced }) => {
      if (fenced !== undefined) {
        this.#lifecycle.fence(new ReplicaLostError(fenced));
        return;
      }
      if (resumed === true) {
        // The feed lost changes: every wait on a record reads it again.
        this.#remote.recheckAll();
        this.#lifecycle.recheckAll();
        return;
      }
      if (input === 'answered') this.#lifecycle.inputs.answered(id);
      else if (input === 'asked') this.#remote.changed(id); // waits elsewhere answer: input is wanted
      if (status === 'running') return;
      this.#remote.changed(id);
      this.#lifecycle.changedInStore(id, status);
    });
  }

  /**
   * Starts `fn` and waits up to `waitMs` (capped by `maxWaitMs`) for it. Answers `completed` or
   * `failed` if it finished in time, else `running` with an `id` for {@link continue}. The work
   * goes on in the background either way; whatever it throws is captured.
   *
   * Rejects only when the call itself is refused: bad arguments (`TypeError`/`RangeError`),
   * {@link TooManyOperationsError}, {@link ExecutorStoppedError}.
   */
  execute<T>(fn: OperationFunction<T>, options?: ExecuteOptions<T>): Promise<OperationResult<T>> {
    if (this.#state !== 'open') return Promise.reject(new ExecutorStoppedError(this.#state));
    let o: ParsedExecute;
    try {
      checkFunction('fn', fn);
      o = options === undefined ? this.#noExecuteOptions : parseExecute(options, this.options);
      if (o.redelivery !== undefined && !this.#jobs.has(o.redelivery.job)) {
        throw new TypeError(
          `Expected \`redeliver.job\` to name a job defined with defineJob(), got ${JSON.stringify(o.redelivery.job)}`,
        );
      }
      if (this.#admission.full) return this.#executeWhenRoom(fn, options);
      this.#admission.checkOwner(o.owner);
    } catch (error) {
      return Promise.reject(error);
    }
    const backgroundReason =
      o.background === 'auto' && o.waitMs > 0
        ? this.#durations.backgroundReason(o.type, o.estimateMs, o.waitMs)
        : undefined;
    const op = this.#lifecycle.start(fn, o, backgroundReason);
    if (op.status !== 'running') return Promise.resolve(this.#lifecycle.resultOf(op)); // ended synchronously
    const waitMs = backgroundReason === undefined ? o.waitMs : 0;
    if (waitMs === 0) return Promise.resolve(this.#lifecycle.background(op));

    return new Promise<OperationResult<T>>((resolve) => {
      const waiter = new Waiter(
        (why) => {
          if (op.status === 'running') {
            // A wait as long as the lifetime ends in it, whichever of the two timers Node runs first.
            if (why === 'timeout' && waitMs >= this.options.maxLifetimeMs) this.#lifecycle.expire(op);
            else if (why === 'aborted' && o.cancelOnAbort) {
              const reason = new OperationCancelledError('the caller aborted its request');
              this.#lifecycle.end(op, 'cancelled', reason, 'executor');
            }
          }
          resolve(op.status === 'running' ? this.#lifecycle.background(op) : this.#lifecycle.resultOf(op));
        },
        () => op.removeWaiter(waiter),
      );
      op.addWaiter(waiter);
      if (o.signal !== undefined) waiter.listen(o.signal);
      // Work that is already settled (a sync-looking async function, a cached answer) ends in the
      // reaction start() queued, before this one: it never pays for a timer. (A promise reaction,
      // not queueMicrotask, which Node wraps in an AsyncResource at twice the cost.)
      if (!waiter.ended)
        RESOLVED.then(() => {
          if (waiter.ended) return;
          this.#lifecycle.armLifetime(op);
          waiter.startTimer(waitMs);
        });
    });
  }

  /**
   * Waits up to `waitMs` (capped by `maxWaitMs`; default `defaultWaitMs`) for the operation to
   * finish. Answers its result once finished, the same result every time until retention drops
   * it, or `running` when the wait ends first (the time ran out or `signal` aborted).
   *
   * Rejects with {@link OperationNotFoundError} for an id that is unknown, expired, or another
   * owner's, and with {@link TooManyWaitersError} past `maxWaitersPerOperation` or `maxWaiters`.
   */
  continue<T = unknown>(operationId: string, options?: ContinueOptions): Promise<OperationResult<T>> {
    // Not an async function: a promise it answers is handed on, not adopted (a tick less per call).
    try {
      this.#assertOpen();
      const id = checkOperationId(operationId);
      const { waitMs, owner, signal, knownInput } =
        options === undefined ? this.#noContinueOptions : parseContinue(options, this.options);
      const op = this.#lifecycle.find(id);
      if (op === undefined) return this.#remote.continue(id, owner, waitMs, signal, knownInput);
      if (op.owner !== owner) throw new OperationNotFoundError(id);
      if (op.status !== 'running' || waitMs === 0 || asksBeyond(op.inputRequests, knownInput))
        return Promise.resolve(this.#lifecycle.resultOf(op));
      this.#admission.checkWaiter(id, op.waiterCount);
      this.#admission.waitStarted();
      return new Promise<OperationResult<T>>((resolve) => {
        const waiter = new Waiter(
          () => {
            this.#admission.waitEnded();
            resolve(this.#lifecycle.resultOf(op));
          },
          () => op.removeWaiter(waiter),
        );
        op.addWaiter(waiter);
        if (signal !== undefined) waiter.listen(signal);
        waiter.startTimer(waitMs);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Cancels a running operation: its status becomes `cancelled` at once, its signal fires with an
   * {@link OperationCancelledError}, every waiter wakes, and whatever the work returns later is
   * discarded. On an operation that has ended it changes nothing. Answers whether this call
   * cancelled it, and the operation as it stands afterwards.
   *
   * Rejects with {@link OperationNotFoundError} for an id that is unknown, expired, or another
   * owner's.
   */
  async cancel(operationId: string, options?: CancelOptions): Promise<CancelOutcome> {
    this.#assertOpen();
    const { id, owner, reason } = parseCancel(operationId, options);
    const error = new OperationCancelledError(reason);
    const op = this.#lifecycle.find(id);
    if (op !== undefined) {
      if (op.owner !== owner) throw new OperationNotFoundError(id);
      await this.#lifecycle.end(op, 'cancelled', error, 'executor');
      return { cancelled: op.error === error, operation: snapshotOf(op, id, Date.now()) };
    }
    return this.#remote.cancel(id, owner, error);
  }

  /** The operation's snapshot, or `undefined` if it is unknown, expired, or another owner's. */
  async get(operationId: string, options?: GetOptions): Promise<OperationSnapshot | undefined> {
    this.#assertOpen();
    const { id, owner } = parseGet(operationId, options);
    const op = this.#lifecycle.find(id);
    const state = op === undefined ? await this.#remote.read(id, owner) : op.owner === owner ? op : undefined;
    return state === undefined
      ? undefined
      : snapshotOf(state, id, Date.now(), this.#durations.expectedMs(state.type));
  }

  /**
   * Answers input the work of an operation asked for (`context.input()`), wherever it runs: each
   * key of `responses` that names a request still outstanding is taken, and that request's
   * `input()` resolves with its value; other keys (answered already, withdrawn, never asked) are
   * ignored, so that a response given twice is taken once. Answers the keys taken.
   *
   * Rejects with {@link OperationNotFoundError} for an id that is unknown, expired, or another
   * owner's; with a `TypeError`/`RangeError` for responses that are not an object of JSON values
   * (at most 100, 1 MiB in all); with {@link InputUnavailableError} when the store keeps no input.
   */
  async provideInput(
    operationId: string,
    responses: Readonly<Record<string, unknown>>,
    options?: ProvideInputOptions,
  ): Promise<readonly string[]> {
    this.#assertOpen();
    const { id, owner } = parseProvideInput(operationId, options);
    const op = this.#lifecycle.find(id);
    if (op !== undefined && op.owner !== owner) throw new OperationNotFoundError(id);
    return this.#lifecycle.inputs.provide(id, owner, responses);
  }

  /**
   * The owner's operations, the most recently started first, a page at a time (pass `nextCursor`
   * back as `cursor` for the next), optionally of one `status` or `type`. Operations are listed
   * once they have an id: when they outlive `execute()`'s wait, or when the work reads
   * `operationId`.
   */
  async list(options?: ListOptions): Promise<OperationPage> {
    this.#assertOpen();
    const { owner, status, type, limit, after } = parseList(options);
    // One more than the page: whether it exists says whether there is a next page.
    const filter = { owner, status, type, after, limit: limit + 1 };
    const records = await this.#io.call('list', undefined, () => this.#store.list(filter));
    const page = records.slice(0, limit);
    const now = Date.now();
    // One estimate per type, not one per record: each is a sort of the type's recent runs.
    const expected = new Map<string, number | undefined>();
    const operations = page.map((record) => {
      if (!expected.has(record.type)) expected.set(record.type, this.#durations.expectedMs(record.type));
      return snapshotOf(this.#lifecycle.find(record.id) ?? record, record.id, now, expected.get(record.type));
    });
    const last = page.at(-1);
    return { operations, nextCursor: records.length > limit && last ? encodeCursor(last) : undefined };
  }

  /**
   * Defines the job `name`: redeliverable work that another process may run again from its
   * arguments. Define the same jobs on every process sharing the store, before work declared with
   * `execute(fn, { redeliver: { job: name, args } })` starts: when the process running such work
   * dies (or hands it back while stopping), the store hands the operation to a live process, which
   * runs `job(args, context, { owner, attempt })` under the same id. On a store that redelivers
   * (`RedisStore`), this process serves such runs from the first definition on.
   *
   * `options.resultError` reads a run's result as `execute()`'s option of that name does (the
   * first run's reader is the one given to `execute()`).
   *
   * Throws a `TypeError` for a name defined already or a job that is not a function, and whatever
   * the store throws when it cannot redeliver (`RedisStore` without the `bullmq` package).
   */
  defineJob<T>(
    name: string,
    job: JobFunction<T>,
    options?: { resultError?: ((result: T) => string | undefined) | undefined },
  ): void {
    this.#assertOpen();
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`Expected \`name\` to be a job name, got ${describeValue(name)}`);
    }
    checkFunction('job', job);
    const { resultError } = checkOptions('the options of defineJob()', options, DEFINE_JOB_KEYS);
    if (resultError !== undefined) checkFunction('resultError', resultError);
    if (this.#jobs.has(name)) throw new TypeError(`The job ${JSON.stringify(name)} is defined already`);
    if (this.#unserve === undefined && this.#state === 'open')
      this.#unserve = this.#store.serveRedeliveries?.((record) => this.#runAgain(record));
    this.#jobs.set(name, { job: job as JobFunction<unknown>, resultError: resultError as ResultErrorReader });
  }

  /**
   * How long operations of each type took in their recent completed runs (count, median, p90):
   * what `background: 'auto'` and the ETA go by. Pass a type for that one only.
   */
  estimates(type?: string): DurationEstimate[] {
    return this.#durations.list(type);
  }

  /**
   * Subscribes `handler` to an event; answers a function that unsubscribes it. See
   * {@link ExecutorEvents} for the events and their payloads.
   */
  on<K extends keyof ExecutorEvents>(type: K, handler: EventHandler<K>): () => void {
    this.#events.on(type, handler);
    return () => this.#events.off(type, handler);
  }

  /** Unsubscribes a handler given to {@link on}. */
  off<K extends keyof ExecutorEvents>(type: K, handler: EventHandler<K>): void {
    this.#events.off(type, handler);
  }

  /**
   * Stops the executor. With `drainMs`, a graceful drain first: `execute()` is refused at once,
   * while running work gets that long to finish and the other calls keep answering (a second
   * `stop()` without `drainMs` ends the drain early). Then what still runs is cancelled with an
   * {@link ExecutorStoppedError} (its signal fires, its waiters wake), but for redeliverable work
   * on a store that takes it back (`RedisStore`): that is handed back, to run again on another
   * process, uncounted (its signal fires, saying so). Every timer is cleared,
   * and every later call but `stop()` rejects with {@link ExecutorStoppedError}. Idempotent:
   * later calls answer the same promise. Resolves once pending store writes are done and a store
   * the executor created is closed.
   */
  stop(options?: StopOptions): Promise<void> {
    let drainMs: number;
    try {
      drainMs = parseStop(options).drainMs;
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#stopping !== undefined) {
      if (drainMs === 0) this.#endDrain();
      return this.#stopping;
    }
    this.#state = 'draining';
    this.#stopping = this.#drainThenStop(drainMs);
    return this.#stopping;
  }

  // ---- internals -------------------------------------------------------------------------

  async #drainThenStop(drainMs: number): Promise<void> {
    await this.#unserve?.(); // no more work handed over by the store
    if (drainMs > 0 && this.#running.size > 0) {
      this.#cutDrain = new AbortController();
      const drained = this.#running.whenEmpty();
      const options = { milliseconds: drainMs, signal: this.#cutDrain.signal, fallback: () => undefined };
      await pTimeout(drained, options).catch(() => undefined); // cut short by a second stop()
    }
    this.#endDrain();
    await this.#lifecycle.stopRetries();
    await this.#retention.stop();
    await this.#io.settled();
    if (this.#ownsStore) await this.#store.close?.();
  }

  /**
   * The drain is over (or there was none): what still runs is cancelled (or handed back), now,
   * synchronously; the hand-backs' store calls are waited for with the other pending writes.
   */
  #endDrain(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#cutDrain?.abort();
    const reason = new ExecutorStoppedError();
    const handedBack = new ExecutorStoppedError('handed-back');
    for (let op = this.#running.first; op !== undefined; op = this.#running.first) {
      // Redeliverable work goes back to the store, to run again elsewhere; the rest is cancelled.
      if (this.#lifecycle.canHandBack(op)) this.#lifecycle.handBack(op, handedBack);
      else this.#lifecycle.end(op, 'cancelled', reason, 'executor');
    }
    this.#remote.endAll();
    this.#unwatch?.();
  }

  /**
   * A redeliverable operation the store handed to this process (another one died running it): its
   * job runs it here. A job not defined here fails it, saying so: no process is known to have it.
   */
  #runAgain(record: OperationRecord): void {
    const name = record.redelivery?.job ?? '';
    const job = this.#jobs.get(name);
    if (job !== undefined && this.#state !== 'stopped') {
      this.#lifecycle.rerun(record, job.job, job.resultError);
      return;
    }
    if (job !== undefined) {
      // Taken as this process stopped (a job already on its way): back to the queue, uncounted.
      this.#lifecycle.giveBack(record);
      return;
    }
    const why = `the job ${JSON.stringify(name)} is not defined on the process it was handed to (define it with defineJob() on every process)`;
    this.#lifecycle.rerun(
      record,
      () => {
        throw new Error(`Could not run the operation again: ${why}`);
      },
      undefined,
    );
  }

  #assertOpen(): void {
    if (this.#state === 'stopped') throw new ExecutorStoppedError();
  }

  /** At `maxOperations`: sweep expired records, evict if allowed, then try again or refuse. */
  async #executeWhenRoom<T>(
    fn: OperationFunction<T>,
    options?: ExecuteOptions<T>,
  ): Promise<OperationResult<T>> {
    const evict = this.options.whenFull === 'evict-oldest';
    if (!(await this.#retention.makeRoom(() => this.#admission.full, evict))) {
      throw new TooManyOperationsError(this.options.maxOperations);
    }
    return this.execute(fn, options);
  }
}
