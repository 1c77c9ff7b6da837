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
    this.#running.add(op);
    this.#events.emit('started', () => ({ operation: this.#snapshot(op) }));
    let value: T | PromiseLike<T>;
    try {
      value = fn(new Context(op, this));
    } catch (error) {
      this.end(op, 'failed', asError(error));
      return op;
    }
    if (!isThenable(value)) this.end(op, 'completed', value);
    else {
      Promise.resolve(value).then(
        (result) => this.end(op, 'completed', result),
        (error: unknown) => this.end(op, 'failed', asError(error)),
      );
    }
    return op;
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
    const update = op.terminalUpdate(this.#options.retentionMs);
    const write = () => this.#store.finish(op.id!, op.owner, update);
    const landed = (record: OperationRecord | StoreError | undefined) => {
      if (record instanceof StoreError) this.#writeAgain(op, write, update.expiresAt);
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
    if (op.status !== 'running') return;
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
