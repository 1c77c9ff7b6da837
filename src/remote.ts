// continue() and cancel() on operations this process does not run: their records are in the
// store, and their work may run in another process sharing it (another replica). The store's change
// feed ends a wait when the record becomes terminal; without a feed a wait lasts its whole time,
// and the record is read again. A cancel is the store's compare-and-set; the process running the
// work hears of it through the feed.

import type { Admission } from './admission.js';
import {
  type OperationCancelledError,
  OperationNotFoundError,
  StoreError,
  TooManyWaitersError,
} from './errors.js';
import type { DurationStats } from './estimates.js';
import type { ResolvedExecutorOptions } from './options.js';
import { asksBeyond, resultOf, snapshotOf } from './results.js';
import type { StoreAccess } from './store-access.js';
import type { OperationRecord, OperationStore } from './stores/store.js';
import type { CancelOutcome, OperationResult } from './types.js';
import { Waiter } from './waiter.js';

/** One wait on an operation that runs elsewhere. */
export interface RemoteWait {
  /** Waits up to `ms` (or until `signal` aborts), at once if a change came since it was made. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void>;
  /** Drops it unused. */
  cancel(): void;
}

/** Operations known only by their record; the waits on them, by operation id. */
export class RemoteOperations {
  readonly #options: ResolvedExecutorOptions;
  readonly #store: OperationStore;
  readonly #io: StoreAccess;
  readonly #admission: Admission;
  readonly #durations: DurationStats;
  readonly #byId = new Map<string, Set<Waiter>>();
  /** The owner each waited-on id was asked for under (to read it again: see recheckAll). */
  readonly #owners = new Map<string, string | undefined>();

  constructor(
    options: ResolvedExecutorOptions,
    store: OperationStore,
    io: StoreAccess,
    admission: Admission,
    durations: DurationStats,
  ) {
    this.#options = options;
    this.#store = store;
    this.#io = io;
    this.#admission = admission;
    this.#durations = durations;
  }

  /** The store's record of `id`, if `owner`'s and not expired (a failure rejects as a StoreError). */
  read(id: string, owner: string | undefined): Promise<OperationRecord | undefined> {
    return this.#io.call('read', id, () => this.#store.get(id, owner));
  }

  /**
   * continue() on an operation this process does not run: its record is in the store, maybe
   * running in another process sharing it. The wait listens before the read: a change landing
   * between the two would otherwise be missed, and the wait sit out its whole time.
   */
  async continue<T>(
    id: string,
    owner: string | undefined,
    waitMs: number,
    signal: AbortSignal | undefined,
    knownInput?: readonly string[],
  ): Promise<OperationResult<T>> {
    if (waitMs > 0) this.#admission.checkWaiter(id, 0); // the per-operation count once the owner is known
    const wait = waitMs === 0 ? undefined : this.#listen(id, owner);
    let record: OperationRecord | undefined;
    try {
      record = await this.read(id, owner);
    } finally {
      // Kept only for a running record that asks nothing unseen: the one thing worth waiting on.
      const answerNow = record?.status !== 'running' || asksBeyond(record.inputRequests, knownInput);
      if (wait !== undefined && answerNow) wait.cancel();
    }
    if (record === undefined) throw new OperationNotFoundError(id);
    const expectedMs = this.#durations.expectedMs(record.type);
    if (record.status !== 'running' || wait === undefined || asksBeyond(record.inputRequests, knownInput))
      return resultOf(record, id, Date.now(), { expectedMs });
    const max = this.#options.maxWaitersPerOperation;
    if (this.#countOn(id) > max) {
      wait.cancel();
      throw new TooManyWaitersError(max, id);
    }
    await wait.wait(waitMs, signal);
    // What the store holds now, not the record read before the wait: that one may be gone since
    // (a Redis restart without persistence loses it, and nobody will ever finish it).
    const now = await this.read(id, owner);
    if (now === undefined) throw new OperationNotFoundError(id);
    return resultOf(now, id, Date.now(), { expectedMs });
  }

  /**
   * cancel() on an operation this process does not run: one compare-and-set in the store. The
   * store answers an applied update's own error object, so identity says whether this call won.
   */
  async cancel(
    id: string,
    owner: string | undefined,
    error: OperationCancelledError,
  ): Promise<CancelOutcome> {
    const record = await this.read(id, owner);
    if (record === undefined) throw new OperationNotFoundError(id);
    if (record.status !== 'running')
      return { cancelled: false, operation: snapshotOf(record, id, Date.now()) };
    const now = Date.now();
    const update = {
      status: 'cancelled',
      error,
      finishedAt: now,
      expiresAt: now + this.#options.retentionMs,
    } as const;
    const after = await this.#io.call('cancel', id, () => this.#store.finish(id, owner, update));
    return { cancelled: after?.error === error, operation: snapshotOf(after ?? record, id, Date.now()) };
  }

  /**
   * A wait on `id` that hears of changes from now on: made before the caller reads the record, so
   * that a change landing between the read and the wait is not missed. Counts as a wait at once.
   */
  #listen(id: string, owner: string | undefined): RemoteWait {
    let waiters = this.#byId.get(id);
    if (waiters === undefined) {
      waiters = new Set();
      this.#byId.set(id, waiters);
      this.#owners.set(id, owner);
    }
    const own = waiters;
    let ended!: () => void;
    const done = new Promise<void>((resolve) => {
      ended = resolve;
    });
    this.#admission.waitStarted();
    const waiter = new Waiter(
      () => {
        this.#admission.waitEnded();
        own.delete(waiter);
        if (own.size === 0 && this.#byId.get(id) === own) {
          this.#byId.delete(id);
          this.#owners.delete(id);
        }
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

  /** How many waits are on `id`. */
  #countOn(id: string): number {
    return this.#byId.get(id)?.size ?? 0;
  }

  /** The record of `id` became terminal: its waits end. */
  changed(id: string): void {
    const waiters = this.#byId.get(id);
    if (waiters !== undefined) for (const waiter of [...waiters]) waiter.end('settled');
  }

  /**
   * Any record may have changed unheard (the store's feed was cut): each record waited on is read
   * again, and the waits on one that ended, went, or asks for input end (they read it themselves).
   */
  recheckAll(): void {
    for (const [id, owner] of [...this.#owners]) {
      const read = this.#io.background('read', id, () => this.#store.get(id, owner));
      Promise.resolve(read).then((record) => {
        if (record instanceof StoreError) return; // reported; the wait ends at its time, and reads then
        if (record === undefined || record.status !== 'running' || record.inputRequests !== undefined)
          this.changed(id);
      });
    }
  }

  /** Ends every wait (the executor stops). */
  endAll(): void {
    for (const waiters of [...this.#byId.values()]) for (const waiter of [...waiters]) waiter.end('aborted');
  }
}
