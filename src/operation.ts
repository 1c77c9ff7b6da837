// One operation whose work runs in this process, from execute() until its end is final: its state
// machine, its AbortController, its lifetime timer and the waiters to wake.
//
// The words used for where an operation stands, here and in the executor:
// - running: its status is `running` (not yet ended);
// - published: it has been handed an id and has a record in the store, so continue() can find it;
//   work that finishes inside execute()'s wait is never published;
// - ended: it reached a terminal status in this process (first end wins);
// - final: its end is in the store too (or it was never published), its waiters woken, its event
//   emitted; the executor then lets go of it and the store alone answers for it.
//
// It is built for the fast path, where work finishes inside execute()'s wait: the id, the
// AbortController (whose signal costs about 5 µs to create) and the lifetime timer are made only
// when needed.

import type { OperationRecord, Redelivery, TerminalUpdate } from './stores/store.js';
import type { OperationStatus, Progress, TerminalStatus } from './types.js';
import type { Waiter } from './waiter.js';

/** The longest `resultError` kept: a message, not a second copy of the result. */
const MAX_RESULT_ERROR_LENGTH = 1000;

/** The fields a result or snapshot is built from; both a local operation and a stored record have them. */
export type OperationState = Pick<
  OperationRecord,
  | 'type'
  | 'owner'
  | 'status'
  | 'startedAt'
  | 'finishedAt'
  | 'result'
  | 'resultError'
  | 'error'
  | 'progress'
  | 'inputRequests'
  | 'attempt'
>;

/** An operation whose work runs in this process. */
export class LocalOperation implements OperationState {
  /** Made on first use: reading `context.operationId`, storing, or an event that names it. */
  id: string | undefined = undefined;
  readonly type: string;
  readonly owner: string | undefined;
  readonly startedAt: number;
  status: OperationStatus = 'running';
  finishedAt: number | undefined = undefined;
  result: unknown = undefined;
  resultError: string | undefined = undefined;
  error: Error | undefined = undefined;
  progress: Progress | undefined = undefined;
  /** The input its work asked for and has not had yet, by key (see input.ts). */
  inputRequests: Readonly<Record<string, unknown>> | undefined = undefined;
  /** Its work's waits for input, by key: woken when an answer may have come. */
  inputWaits: Map<string, () => void> | undefined = undefined;
  /** For redeliverable work: how it can be run again elsewhere, and which run this is. */
  redelivery: Redelivery | undefined = undefined;
  attempt: number | undefined = undefined;
  /** Handed back by a graceful drain: it runs elsewhere now, and nothing here ends it. */
  handedBack = false;
  /** True once it has an id and a record in the store (and so can be found by id). */
  published = false;
  /** The store's insert of its record, while it is pending; later writes chain after it. */
  insertion: PromiseLike<void> | undefined = undefined;
  /** Why `background: 'auto'` sent it to the background at once, if it did. */
  backgroundReason: string | undefined = undefined;
  /** The `onProgress` given to `execute()`. */
  onProgress: ((progress: Progress) => void) | undefined = undefined;
  /** The `resultError` reader given to `execute()`. */
  readResultError: ((result: never) => string | undefined) | undefined = undefined;
  /** Links of the executor's list of running operations (a Set costs 130 ns more per operation). */
  previousRunning: LocalOperation | undefined = undefined;
  nextRunning: LocalOperation | undefined = undefined;
  #lifetimeTimer: NodeJS.Timeout | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #abortReason: Error | undefined = undefined;
  // Most operations have at most one waiter (execute()'s own wait): a field, not a Set, for it.
  #firstWaiter: Waiter | undefined = undefined;
  #moreWaiters: Set<Waiter> | undefined = undefined;

  constructor(type: string, owner: string | undefined, now: number) {
    this.type = type;
    this.owner = owner;
    this.startedAt = now;
  }

  /** The work's AbortSignal, created on first use. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      // Asked for after the abort (work that looks at its signal late): born aborted.
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /**
   * Calls `expire` when `lifetimeMs` have passed since the start, unless the operation ends first
   * (at once if they have passed already). Arms once; `Infinity` never arms. `expire` gets the
   * operation, so that one function serves every operation (no closure per timer).
   */
  armLifetime(lifetimeMs: number, expire: (op: LocalOperation) => void): void {
    if (
      this.#lifetimeTimer !== undefined ||
      this.status !== 'running' ||
      lifetimeMs === Number.POSITIVE_INFINITY
    )
      return;
    const remaining = this.startedAt + lifetimeMs - Date.now();
    if (remaining <= 0) {
      expire(this);
      return;
    }
    this.#lifetimeTimer = setTimeout(expire, remaining, this);
    this.#lifetimeTimer.unref();
  }

  /**
   * Ends it with `status` unless it has ended already; answers whether it did. `value` is the
   * result for `completed`, the error otherwise.
   */
  end(status: TerminalStatus, value: unknown, now: number): boolean {
    if (this.status !== 'running') return false;
    this.status = status;
    this.finishedAt = now;
    if (status === 'completed') {
      this.result = value;
      this.resultError = this.#resultErrorOf(value);
    } else this.error = value as Error;
    this.disarmLifetime();
    // An ended operation waits for no input (the store drops it too); its waits wake to find that.
    this.inputRequests = undefined;
    if (this.inputWaits !== undefined) for (const wake of [...this.inputWaits.values()]) wake();
    return true;
  }

  /** Clears its lifetime timer (it ended, or left this process). */
  disarmLifetime(): void {
    if (this.#lifetimeTimer !== undefined) {
      clearTimeout(this.#lifetimeTimer);
      this.#lifetimeTimer = undefined;
    }
  }

  /**
   * Undoes its end (the store refused it: the work runs elsewhere now): running again, as far as
   * what it answers goes. Only for an operation that leaves this process at once.
   */
  reopen(): void {
    this.status = 'running';
    this.finishedAt = undefined;
    this.result = undefined;
    this.resultError = undefined;
    this.error = undefined;
  }

  /**
   * Takes a progress report and answers the progress it leaves: `current` never goes backwards (a
   * lower value keeps the higher one), the rest is the latest.
   */
  advance(current: number, total: number | undefined, message: string | undefined, now: number): Progress {
    const previous = this.progress;
    const progress: Progress = {
      current: previous !== undefined && previous.current > current ? previous.current : current,
      total,
      message,
      updatedAt: now,
    };
    this.progress = progress;
    return progress;
  }

  /** Its record as the store's `insert()` takes it: running, under its id. */
  runningRecord(): OperationRecord {
    const record: OperationRecord = {
      id: this.id!,
      type: this.type,
      owner: this.owner,
      status: 'running',
      startedAt: this.startedAt,
      finishedAt: undefined,
      expiresAt: undefined,
      result: undefined,
      resultError: undefined,
      error: undefined,
      progress: this.progress,
    };
    // Only redeliverable work's record carries the two fields: the others stay as small as before.
    return this.redelivery === undefined
      ? record
      : { ...record, redelivery: this.redelivery, attempt: this.attempt };
  }

  /**
   * Its end as the store's `finish()` takes it, `retentionMs` deciding when the record expires;
   * `byWork` when the work itself ended (see {@link TerminalUpdate.runner}).
   */
  terminalUpdate(retentionMs: number, byWork: boolean): TerminalUpdate {
    return {
      status: this.status as TerminalStatus,
      result: this.result,
      resultError: this.resultError,
      error: this.error,
      finishedAt: this.finishedAt!,
      expiresAt: this.finishedAt! + retentionMs,
      runner: byWork,
    };
  }

  /**
   * Takes on the end the store holds when another writer's came first (a cancel on another replica,
   * a reaper), even at the same status: when two cancels race, the other one's reason and time
   * stand. Stores answer their own update's result or error object itself (not a copy), so identity
   * tells this process's write from another's. Answers whether it took it on.
   */
  adopt(record: OperationRecord): boolean {
    if (record.status === 'running') return false;
    const own =
      record.status === this.status &&
      (record.status === 'completed' ? record.result === this.result : record.error === this.error);
    if (own) return false;
    this.status = record.status;
    this.result = record.result;
    this.resultError = record.resultError;
    this.error = record.error;
    if (record.finishedAt !== undefined) this.finishedAt = record.finishedAt;
    return true;
  }

  /**
   * Fires the work's signal with `reason` (the first reason wins). A signal nobody has asked for
   * yet is not created now; it is created aborted if the work asks later.
   */
  abort(reason: Error): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  addWaiter(waiter: Waiter): void {
    if (this.#firstWaiter === undefined) this.#firstWaiter = waiter;
    else {
      this.#moreWaiters ??= new Set();
      this.#moreWaiters.add(waiter);
    }
  }

  /** How many waits are on it now. */
  get waiterCount(): number {
    return (this.#firstWaiter === undefined ? 0 : 1) + (this.#moreWaiters?.size ?? 0);
  }

  removeWaiter(waiter: Waiter): void {
    if (this.#firstWaiter === waiter) this.#firstWaiter = undefined;
    else this.#moreWaiters?.delete(waiter);
  }

  /** Wakes every waiter once; each is removed as it wakes. */
  wakeWaiters(): void {
    const first = this.#firstWaiter;
    const more = this.#moreWaiters;
    this.#firstWaiter = undefined;
    this.#moreWaiters = undefined;
    first?.end('settled');
    if (more !== undefined) for (const waiter of more) waiter.end('settled');
  }

  /** The error `value` reports of its own, as `readResultError` reads it; a reader that fails reads none. */
  #resultErrorOf(value: unknown): string | undefined {
    if (this.readResultError === undefined) return undefined;
    try {
      const message: unknown = this.readResultError(value as never);
      if (typeof message !== 'string') return undefined;
      return message.length > MAX_RESULT_ERROR_LENGTH
        ? `${message.slice(0, MAX_RESULT_ERROR_LENGTH)}…`
        : message;
    } catch {
      return undefined;
    }
  }
}
