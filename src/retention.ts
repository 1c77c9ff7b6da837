// Retention: finished records are swept from the store once their retention has passed, on a timer,
// and, with `whenFull: 'evict-oldest'`, the oldest is dropped early to make room.

import { StoreError } from './errors.js';
import type { EventBus } from './events.js';
import { snapshotOf } from './results.js';
import type { StoreAccess } from './store-access.js';
import type { OperationStore } from './stores/store.js';

/** Sweeps expired records every `intervalMs`, one sweep at a time, and evicts on demand. */
export class Retention {
  readonly #store: OperationStore;
  readonly #io: StoreAccess;
  readonly #events: EventBus;
  readonly #timer: NodeJS.Timeout;
  #sweeping: Promise<void> | undefined = undefined;

  constructor(store: OperationStore, io: StoreAccess, events: EventBus, intervalMs: number) {
    this.#store = store;
    this.#io = io;
    this.#events = events;
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  /** Drops the expired records now (or answers the sweep under way). Never rejects. */
  sweep(): Promise<void> {
    this.#sweeping ??= (async () => {
      try {
        // Without a listener the store need not rebuild the records it drops.
        await this.#store.sweep(
          Date.now(),
          this.#events.listening('expired')
            ? (record) =>
                this.#events.emit('expired', () => ({ operation: snapshotOf(record, record.id, Date.now()) }))
            : undefined,
        );
      } catch (error) {
        // A failing sweep leaves expired records in place; reads still hide them (store contract).
        const failure = new StoreError('sweep', undefined, error);
        this.#events.emit('storeError', () => ({ error: failure }));
      } finally {
        this.#sweeping = undefined;
      }
    })();
    return this.#sweeping;
  }

  /**
   * Makes room while `full()` says there is none: sweeps, then (with `evict`) drops the finished
   * record that finished longest ago. Answers whether there is room.
   */
  async makeRoom(full: () => boolean, evict: boolean): Promise<boolean> {
    await this.sweep();
    return !full() || (evict && (await this.#evictOldest()));
  }

  /** Drops the finished record that finished longest ago, emitting `evicted`; answers whether it did. */
  async #evictOldest(): Promise<boolean> {
    const store = this.#store;
    if (store.evictOldestFinished === undefined) return false;
    const evicted = await this.#io.call('evict', undefined, () => store.evictOldestFinished!());
    if (evicted === undefined) return false;
    this.#events.emit('evicted', () => ({ operation: snapshotOf(evicted, evicted.id, Date.now()) }));
    return true;
  }

  /** Stops the timer and waits for a sweep under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }
}
