// The operations whose work runs in this process and has not ended: what stop() cancels, what a
// drain waits for, and what the admission limits count (per owner, and those not published yet).

import type { LocalOperation } from './operation.js';

/** Running local operations, linked through the operations themselves. */
export class RunningOperations {
  #head: LocalOperation | undefined = undefined;
  #size = 0;
  /** Running operations without a record in the store: they count against `maxOperations` too. */
  #unpublished = 0;
  readonly #byOwner = new Map<string, number>();
  #whenEmpty: { promise: Promise<void>; resolve: () => void } | undefined = undefined;

  /** How many there are. */
  get size(): number {
    return this.#size;
  }

  /** How many have no record in the store yet. */
  get unpublished(): number {
    return this.#unpublished;
  }

  /** One of them, or `undefined` when none is left (stop() ends them one by one). */
  get first(): LocalOperation | undefined {
    return this.#head;
  }

  /** How many of `owner`'s are running. */
  countOf(owner: string): number {
    return this.#byOwner.get(owner) ?? 0;
  }

  /** A new operation, not published yet. */
  add(op: LocalOperation): void {
    op.nextRunning = this.#head;
    if (this.#head !== undefined) this.#head.previousRunning = op;
    this.#head = op;
    this.#size++;
    this.#unpublished++;
    if (op.owner !== undefined) this.#byOwner.set(op.owner, this.countOf(op.owner) + 1);
  }

  /** `op` has a record in the store now. */
  markPublished(op: LocalOperation): void {
    op.published = true;
    this.#unpublished--;
  }

  /** The store refused `op`'s record. */
  markUnpublished(op: LocalOperation): void {
    op.published = false;
    if (op.status === 'running') this.#unpublished++;
  }

  /** `op` has ended. */
  remove(op: LocalOperation): void {
    if (op.previousRunning === undefined) this.#head = op.nextRunning;
    else op.previousRunning.nextRunning = op.nextRunning;
    if (op.nextRunning !== undefined) op.nextRunning.previousRunning = op.previousRunning;
    op.previousRunning = undefined;
    op.nextRunning = undefined;
    this.#size--;
    if (!op.published) this.#unpublished--;
    if (op.owner !== undefined) {
      const count = this.countOf(op.owner) - 1;
      if (count === 0) this.#byOwner.delete(op.owner);
      else this.#byOwner.set(op.owner, count);
    }
    if (this.#size === 0 && this.#whenEmpty !== undefined) {
      this.#whenEmpty.resolve();
      this.#whenEmpty = undefined;
    }
  }

  /** Resolves once none is running (at once if none is). */
  whenEmpty(): Promise<void> {
    if (this.#size === 0) return Promise.resolve();
    if (this.#whenEmpty === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      this.#whenEmpty = { promise, resolve };
    }
    return this.#whenEmpty.promise;
  }
}
