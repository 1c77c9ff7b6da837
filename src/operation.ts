// One operation while this process runs its work: its state machine, its AbortController and the
// waiters to wake. Once it is terminal and its record is in the store, the executor drops it.
//
// It is built for the fast path, where work finishes inside execute()'s wait: the id and the
// AbortController (whose signal costs about 5 µs to create) are made only when asked for, and
// nothing is registered anywhere until the operation needs to be found by id.

import type { OperationRecord } from './stores/store.js';
import type { OperationStatus, Progress, TerminalStatus } from './types.js';
import type { Waiter } from './waiter.js';

/** The fields a result or snapshot is built from; both a live operation and a stored record have them. */
export type OperationState = Pick<
  OperationRecord,
  'type' | 'owner' | 'status' | 'createdAt' | 'startedAt' | 'finishedAt' | 'result' | 'error' | 'progress'
>;

/** A running (or just finished) operation of this process. */
export class LiveOperation implements OperationState {
  /** Made on first use: reading `context.operationId`, registering, or an event that names it. */
  id: string | undefined = undefined;
  readonly type: string;
  readonly owner: string | undefined;
  readonly createdAt: number;
  readonly startedAt: number;
  status: OperationStatus = 'running';
  finishedAt: number | undefined = undefined;
  result: unknown = undefined;
  error: Error | undefined = undefined;
  progress: Progress | undefined = undefined;
  /** True once the operation can be found by id (in the executor's live map and in the store). */
  registered = false;
  /** The store's insert of this operation's record, when it answered with a promise. */
  registration: PromiseLike<void> | undefined = undefined;
  /** Why `background: 'auto'` sent it to the background at once, if it did. */
  backgroundReason: string | undefined = undefined;
  /** The `onProgress` given to `execute()`. */
  onProgress: ((progress: Progress) => void) | undefined = undefined;
  /** Fires `maxLifetime` after the start, once registered. */
  lifetimeTimer: NodeJS.Timeout | undefined = undefined;
  /** Links of the executor's list of running operations (a Set costs 130 ns more per operation). */
  previousRunning: LiveOperation | undefined = undefined;
  nextRunning: LiveOperation | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #abortReason: Error | undefined = undefined;
  // Most operations have at most one waiter (execute()'s own wait): a field, not a Set, for it.
  #firstWaiter: Waiter | undefined = undefined;
  #moreWaiters: Set<Waiter> | undefined = undefined;

  constructor(type: string, owner: string | undefined, now: number) {
    this.type = type;
    this.owner = owner;
    this.createdAt = now;
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

  /** Moves to a terminal status unless already terminal; answers whether it did. */
  settle(status: TerminalStatus, value: unknown, now: number): boolean {
    if (this.status !== 'running') return false;
    this.status = status;
    this.finishedAt = now;
    if (status === 'completed') this.result = value;
    else this.error = value as Error;
    if (this.lifetimeTimer !== undefined) {
      clearTimeout(this.lifetimeTimer);
      this.lifetimeTimer = undefined;
    }
    return true;
  }

  /** Takes on a terminal outcome decided elsewhere (another writer to a shared store won). */
  adopt(
    status: TerminalStatus,
    result: unknown,
    error: Error | undefined,
    finishedAt: number | undefined,
  ): void {
    this.status = status;
    this.result = result;
    this.error = error;
    if (finishedAt !== undefined) this.finishedAt = finishedAt;
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
}
