// The lifecycle of the operations this process runs, from their start to their final end: the work
// is started, its lifetime timer armed once it outlives its first microtask, made findable by id
// when it outlives its first wait (published: an id and a record in the store), ended exactly once,
// and final once the store holds that end. Every way an operation ends (its work returns or throws,
// cancel(), its lifetime, stop(), a refused insert, another writer to a shared store) goes through
// end(); see operation.ts for the words.

import { type Awaitable, isThenable } from './awaitable.js';
import { Context, type ContextHost } from './context.js';
import {
  NonErrorThrownError,
  OperationCancelledError,
  OperationLifetimeError,
  StoreError,
} from './errors.js';
import type { DurationStats } from './estimates.js';
import type { EventBus } from './events.js';
import { newOperationId } from './ids.js';
import { InputExchange } from './input.js';
import { LocalOperation } from './operation.js';
import type { ParsedExecute, ResolvedExecutorOptions } from './options.js';
import { resultOf, snapshotOf } from './results.js';
import type { RunningOperations } from './running.js';
import type { StoreAccess } from './store-access.js';
import type { OperationRecord, OperationStore } from './stores/store.js';
import { TerminalRetries } from './terminal-retries.js';
import type {
  JobFunction,
  OperationFunction,
  OperationResult,
  OperationSnapshot,
  OperationStatus,
  TerminalStatus,
} from './types.js';
import { checkOptionalString, checkProgressValues } from './validate.js';

/**
 * Who ended an operation: its work (it returned or threw), the executor (a cancel, its lifetime,
 * stop(), a refused insert: the work's signal fires), or another writer to the store, whose record
 * is given (the signal fires; nothing is written).
 */
export type EndedBy = 'work' | 'executor' | OperationRecord;

/** The operations of this process, from start to final end. */
export class Lifecycle implements ContextHost {
  readonly #options: ResolvedExecutorOptions;
  readonly #store: OperationStore;
  readonly #io: StoreAccess;
  readonly #events: EventBus;
  readonly #running: RunningOperations;
  readonly #durations: DurationStats;
  /** Published operations whose end is not final yet, by id. */
  readonly #byId = new Map<string, LocalOperation>();
  /** The input the work of these operations asks for. */
  readonly inputs: InputExchange;
  /** Ends the store refused, being written again. */
  readonly #retries = new TerminalRetries();

  constructor(
    options: ResolvedExecutorOptions,
    store: OperationStore,
    io: StoreAccess,
    events: EventBus,
    running: RunningOperations,
    durations: DurationStats,
  ) {
    this.#options = options;
    this.#store = store;
    this.#io = io;
    this.#events = events;
    this.#running = running;
    this.#durations = durations;
    this.inputs = new InputExchange(store, io, this);
  }

  /** Starts `fn` as a new operation and answers it; its end, synchronous or not, is taken care of. */
  start<T>(
    fn: OperationFunction<T>,
    options: ParsedExecute,
    backgroundReason: string | undefined,
  ): LocalOperation {
    const op = new LocalOperation(options.type, options.owner, Date.now());
    op.onProgress = options.onProgress;
    op.readResultError = options.resultError;
    op.backgroundReason = backgroundReason;
    if (options.redelivery !== undefined) {
      const lifetime = this.#options.maxLifetimeMs;
      op.redelivery = Number.isFinite(lifetime)
        ? { ...options.redelivery, maxLifetimeMs: lifetime }
        : options.redelivery;
      op.attempt = 1;
    }
    this.#running.add(op);
    this.#events.emit('started', () => ({ operation: this.#snapshot(op) }));
    this.#run(op, fn);
    return op;
  }

  /**
   * Runs again, here, a redeliverable operation the store handed this process (see
   * `OperationStore.serveRedeliveries`): under its id, published already (the store says this
   * process runs it), its lifetime counted from its first start.
   */
  rerun(
    record: OperationRecord,
    job: JobFunction<unknown>,
    resultError: ((result: never) => string | undefined) | undefined,
  ): void {
    const op = new LocalOperation(record.type, record.owner, record.startedAt);
    op.readResultError = resultError;
    op.id = record.id;
    op.redelivery = record.redelivery;
    op.attempt = record.attempt;
    op.progress = record.progress;
    this.#running.add(op);
    this.#running.markPublished(op);
    this.#byId.set(record.id, op);
    this.#events.emit('started', () => ({ operation: this.#snapshot(op) }));
    this.armLifetime(op);
    if (op.status !== 'running') return; // its lifetime is over already: the job is not called
    const run = { owner: record.owner, attempt: record.attempt ?? 1 };
    this.#run(op, (context) => job(record.redelivery?.args, context, run));
  }

  /**
   * Whether `op` can be handed back to the store, to run again elsewhere: redeliverable, running,
   * its record in the store (its insert landed), and a store that takes work back.
   */
  canHandBack(op: LocalOperation): boolean {
    return (
      op.redelivery !== undefined &&
      op.status === 'running' &&
      op.published &&
      op.insertion === undefined &&
      this.#store.handBack !== undefined
    );
  }

  /**
   * Hands a redeliverable operation back (a graceful stop): it stops here at once, then the store
   * queues it to run elsewhere, uncounted. Stopping it first means it never runs here and there at
   * once. A store that fails is reported (`storeError`); the record then stays this process's
   * until its lease lapses, when a reaper queues it (counted).
   */
  handBack(op: LocalOperation, reason: Error): void {
    const handBack = this.#store.handBack;
    if (handBack === undefined) return;
    const id = op.id!;
    this.#leave(op, reason);
    this.#io.background('handBack', id, () => handBack.call(this.#store, id, op.owner));
  }

  /**
   * Gives back, unrun, a record the store handed this process as it stopped (a job already on its
   * way): as a graceful stop hands back running work.
   */
  giveBack(record: OperationRecord): void {
    const handBack = this.#store.handBack;
    if (handBack === undefined) return;
    this.#io.background('handBack', record.id, () => handBack.call(this.#store, record.id, record.owner));
  }

  /**
   * The operation leaves this process without an end (another process runs it now, or will): its
   * signal fires with `reason`, its waiters here wake to answer it running, and whatever its work
   * does later changes nothing, here or in the store.
   */
  #leave(op: LocalOperation, reason: Error): void {
    if (op.status !== 'running') return;
    this.#running.remove(op);
    this.#byId.delete(op.id!);
    op.handedBack = true;
    op.disarmLifetime();
    op.abort(reason);
    op.wakeWaiters();
  }

  /**
   * This process lost its claim on its work (see `StoreChange.fenced`): its redeliverable
   * operations stop here (their signal fires with `reason`), and each is handed back to the store,
   * tried again until the store takes it or says it is no longer this process's (another process
   * runs it already, or it ended). Other work runs on: it is never run twice.
   */
  fence(reason: Error): void {
    if (this.#store.handBack === undefined) return;
    const redeliverable: LocalOperation[] = [];
    for (let op = this.#running.first; op !== undefined; op = op.nextRunning)
      if (this.canHandBack(op)) redeliverable.push(op);
    for (const op of redeliverable) {
      this.#leave(op, reason);
      this.#handBackUntilLanded(op.id!, op.owner, op.startedAt);
    }
  }

  /**
   * Hands `id` back, tried again until it lands or until the work's lifetime is over (wherever it
   * runs, it ends then); a hand-back that never landed is reported (`storeError`).
   */
  #handBackUntilLanded(id: string, owner: string | undefined, startedAt: number): void {
    const handBack = this.#store.handBack;
    if (handBack === undefined) return;
    const give = () => handBack.call(this.#store, id, owner);
    void this.#retries.retry(give, startedAt + this.#options.maxLifetimeMs).then((outcome) => {
      if (!outcome.landed && !outcome.stopped)
        this.#events.emit('storeError', () => ({ error: new StoreError('handBack', id, outcome.error) }));
    });
  }

  /** Calls the work, and takes care of its end, synchronous or not. */
  #run<T>(op: LocalOperation, fn: OperationFunction<T>): void {
    let value: T | PromiseLike<T>;
    try {
      value = fn(new Context(op, this));
    } catch (error) {
      this.end(op, 'failed', asError(error));
      return;
    }
    if (!isThenable(value)) this.end(op, 'completed', value);
    else {
      Promise.resolve(value).then(
        (result) => this.end(op, 'completed', result),
        (error: unknown) => this.end(op, 'failed', asError(error)),
      );
    }
  }

  /** The published operation of `id` whose end is not final yet, if this process runs it. */
  find(id: string): LocalOperation | undefined {
    return this.#byId.get(id);
  }

  /** Makes the operation findable by id: its record in the store (and its lifetime armed, if not yet). */
  publish(op: LocalOperation): void {
    op.id ??= newOperationId();
    if (op.published || op.status !== 'running') return;
    this.#running.markPublished(op);
    this.#byId.set(op.id, op);
    const record = op.runningRecord();
    const inserted = this.#io.background('insert', op.id, () => this.#store.insert(record));
    if (inserted instanceof StoreError) this.#insertFailed(op, inserted);
    else if (isThenable(inserted)) {
      op.insertion = inserted.then((answer) => {
        op.insertion = undefined;
        if (answer instanceof StoreError) this.#insertFailed(op, answer);
      });
    }
    this.armLifetime(op);
  }

  /** Answers `running` once the operation is published (or its end, if it ended meanwhile). */
  background<T>(op: LocalOperation): Awaitable<OperationResult<T>> {
    this.publish(op);
    return op.insertion === undefined ? this.resultOf(op) : op.insertion.then(() => this.resultOf<T>(op));
  }

  /** Fails the operation `maxLifetimeMs` after its start, whether or not its work heeds the signal. */
  armLifetime(op: LocalOperation): void {
    op.armLifetime(this.#options.maxLifetimeMs, this.expire);
  }

  /** Fails the operation for outliving `maxLifetimeMs` (its signal fires). */
  readonly expire = (op: LocalOperation): void => {
    this.end(op, 'failed', new OperationLifetimeError(this.#options.maxLifetimeMs), 'executor');
  };

  /**
   * The one way an operation of this process becomes terminal, whoever ended it (see
   * {@link EndedBy}). The first end wins; later ones change nothing. The end is final once the
   * store holds it (see #finalize). Never throws; answers the store write when it is asynchronous,
   * so that callers can wait for it.
   */
  end(
    op: LocalOperation,
    status: TerminalStatus,
    value: unknown,
    by: EndedBy = 'work',
  ): PromiseLike<void> | undefined {
    if (op.handedBack) return undefined; // another process runs it now
    const now = Date.now();
    const decided = typeof by === 'object' ? by : undefined;
    if (!op.end(status, value, decided?.finishedAt ?? now)) return undefined;
    this.#running.remove(op);
    if (by === 'work') {
      if (status === 'completed') this.#durations.record(op.type, now - op.startedAt);
    } else
      op.abort(decided === undefined ? (value as Error) : (decided.error ?? new OperationCancelledError()));
    if (!op.published || decided !== undefined) {
      this.#finalize(op, decided);
      return undefined;
    }
    // The work's own end applies only while this process runs the record; a cancel or the
    // lifetime applies wherever it runs now (a run elsewhere hears it and stops).
    const update = op.terminalUpdate(this.#options.retentionMs, by === 'work');
    const write = () => this.#store.finish(op.id!, op.owner, update);
    const landed = (record: OperationRecord | StoreError | undefined) => {
      if (record instanceof StoreError) this.#writeAgain(op, write, update.expiresAt);
      else if (record?.status === 'running') this.#lostRun(op);
      else this.#finalize(op, record);
    };
    const written = this.#io.write(op, 'finish', write);
    if (!isThenable(written)) {
      landed(written);
      return undefined;
    }
    return written.then(landed);
  }

  /** The executor stops: ends that the store refused are no longer tried again. */
  stopRetries(): Promise<void> {
    return this.#retries.stop();
  }

  /**
   * A record became terminal in the store, through any writer: an operation of this process that
   * another writer ended first takes on that end.
   */
  changedInStore(id: string, status: OperationStatus): void {
    if (status !== 'running') this.#readBack(id);
  }

  /**
   * The store's feed was cut, so changes to any record may have gone unheard: each running
   * operation of this process reads its record again (another writer may have ended it), and its
   * waits for input look for answers.
   */
  recheckAll(): void {
    for (const id of [...this.#byId.keys()]) {
      this.#readBack(id);
      this.inputs.answered(id);
    }
  }

  /** Reads the record of a running operation of this process, and takes on an end another writer made. */
  #readBack(id: string): void {
    const op = this.#byId.get(id);
    if (op === undefined || op.status !== 'running') return;
    // A failed read is reported (storeError), never thrown back into the feed: the work's own end
    // then finds the other writer's record, or its lifetime ends it.
    const read = this.#io.background('read', id, () => this.#store.get(id, op.owner));
    Promise.resolve(read).then((record) => {
      if (record === undefined || record instanceof StoreError || record.status === 'running') return;
      this.end(op, record.status, record.status === 'completed' ? record.result : record.error, record);
    });
  }

  /** A progress report from the work (see `ProgressReporter`). */
  report(op: LocalOperation, current: unknown, total: unknown, message: unknown): void {
    const values = checkProgressValues(current, total);
    const note = checkOptionalString('message', message);
    if (op.status !== 'running' || op.handedBack) return; // a run that left writes nothing
    const progress = op.advance(values[0], values[1], note, Date.now());
    if (op.published)
      this.#io.write(op, 'setProgress', () => this.#store.setProgress(op.id!, op.owner, progress));
    if (op.onProgress !== undefined) {
      try {
        op.onProgress(progress);
      } catch (error) {
        this.#events.listenerFailed('progress', error);
      }
    }
    this.#events.emit('progress', () => ({ operation: this.#snapshot(op), progress }));
  }

  /** The work asks for input (see `OperationContext.input`). */
  input(op: LocalOperation, request: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    if (op.handedBack) return Promise.reject(op.signal.reason); // a run that left asks nothing
    return this.inputs.ask(op, request, signal);
  }

  /** The operation's result as it stands (no id for one that was never published). */
  resultOf<T>(op: LocalOperation): OperationResult<T> {
    if (op.status !== 'running') return resultOf<T>(op, op.published ? op.id : undefined, 0);
    const context = {
      expectedMs: this.#durations.expectedMs(op.type),
      backgroundReason: op.backgroundReason,
    };
    return resultOf<T>(op, op.id, Date.now(), context);
  }

  /**
   * The store refused this process's end because the record is no longer this process's to end:
   * its redeliverable work runs elsewhere now (this process lost its lease while the work ran).
   * Its end here did not happen, as far as anyone is told: no event, and its waiters here answer
   * it running, to find the end the other run writes.
   */
  #lostRun(op: LocalOperation): void {
    op.reopen();
    op.handedBack = true;
    this.#byId.delete(op.id!);
    op.wakeWaiters();
  }

  /** The store refused the record: nobody can find the operation by id, so it ends here. */
  #insertFailed(op: LocalOperation, error: StoreError): void {
    this.#byId.delete(op.id!);
    this.#running.markUnpublished(op);
    this.end(op, 'failed', error, 'executor');
  }

  /**
   * The end is final: the store holds it (or the operation was never published). If another
   * writer's end came first, the operation takes it on (and its signal fires); then every waiter
   * wakes and the end is announced.
   */
  #finalize(op: LocalOperation, record: OperationRecord | undefined): void {
    if (record !== undefined) this.#takeOn(op, record);
    if (op.published) this.#byId.delete(op.id!);
    this.#announce(op);
  }

  /**
   * The store refused the end (the write failed) and still holds the record as running, which
   * every process sharing it would answer for work that has ended. The end is answered here at
   * once (waiters wake, it is announced) and stays findable by id, answered from memory, while
   * the write is tried again; it is final once the write lands, or once retention passes.
   */
  #writeAgain(
    op: LocalOperation,
    write: () => Awaitable<OperationRecord | undefined>,
    expiresAt: number,
  ): void {
    this.#announce(op);
    void this.#retries.retry(write, expiresAt).then((outcome) => {
      this.#byId.delete(op.id!);
      if (outcome.landed) {
        if (outcome.answer !== undefined) this.#takeOn(op, outcome.answer);
      } else if (!outcome.stopped) {
        const why = new Error("gave up writing the operation's end: its retention passed", {
          cause: outcome.error,
        });
        this.#events.emit('storeError', () => ({ error: new StoreError('finish', op.id, why) }));
      }
    });
  }

  /**
   * Another writer's end came first: the operation takes it on. Cancelled elsewhere, the work
   * stops. (A failure the store put in place of this process's end, a result it could not keep
   * say, leaves the signal alone: the work is done.)
   */
  #takeOn(op: LocalOperation, record: OperationRecord): void {
    if (op.adopt(record) && op.status === 'cancelled') op.abort(op.error ?? new OperationCancelledError());
  }

  /** Every waiter wakes and the end is announced. */
  #announce(op: LocalOperation): void {
    op.wakeWaiters();
    if (op.status === 'completed') {
      this.#events.emit('completed', () => ({ operation: this.#snapshot(op), result: op.result }));
    } else {
      const status = op.status as 'failed' | 'cancelled';
      this.#events.emit(status, () => ({ operation: this.#snapshot(op), error: op.error! }));
    }
  }

  /** A snapshot for an event: names the operation even if it was never published. */
  #snapshot(op: LocalOperation): OperationSnapshot {
    op.id ??= newOperationId();
    return snapshotOf(op, op.id, Date.now());
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new NonErrorThrownError(value);
}
