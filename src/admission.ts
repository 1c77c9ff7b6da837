// Whether a call may add work or a wait: the limits that keep one executor, and one client, from
// growing without bound (maxOperations, maxRunningPerOwner, maxWaitersPerOperation, maxWaiters).

import { TooManyOperationsError, TooManyWaitersError } from './errors.js';
import type { ResolvedExecutorOptions } from './options.js';
import type { RunningOperations } from './running.js';
import type { OperationStore } from './stores/store.js';

/** The executor's limits, and the count of waits they need besides the running operations. */
export class Admission {
  readonly #options: ResolvedExecutorOptions;
  readonly #running: RunningOperations;
  readonly #store: OperationStore;
  /** `continue()` calls waiting now. */
  #waiting = 0;

  constructor(options: ResolvedExecutorOptions, running: RunningOperations, store: OperationStore) {
    this.#options = options;
    this.#running = running;
    this.#store = store;
  }

  /** Whether `maxOperations` is reached: the store's records and the running work not published yet. */
  get full(): boolean {
    return this.#running.unpublished + this.#store.size >= this.#options.maxOperations;
  }

  /** Refuses one more running operation of `owner` past `maxRunningPerOwner`. */
  checkOwner(owner: string | undefined): void {
    const limit = this.#options.maxRunningPerOwner;
    if (owner !== undefined && this.#running.countOf(owner) >= limit) {
      throw new TooManyOperationsError(limit, owner);
    }
  }

  /**
   * Refuses one more wait on operation `id`, which has `onOperation` already, past
   * `maxWaitersPerOperation`, or one more wait at all past `maxWaiters`.
   */
  checkWaiter(id: string, onOperation: number): void {
    if (onOperation >= this.#options.maxWaitersPerOperation) {
      throw new TooManyWaitersError(this.#options.maxWaitersPerOperation, id);
    }
    if (this.#waiting >= this.#options.maxWaiters) throw new TooManyWaitersError(this.#options.maxWaiters);
  }

  /** A `continue()` wait began. */
  waitStarted(): void {
    this.#waiting++;
  }

  /** A `continue()` wait ended. */
  waitEnded(): void {
    this.#waiting--;
  }
}
