// How the executor calls its store. A call a caller waits on rejects as a StoreError; a call in the
// background (a record's insert, progress or end, the read after a change) never rejects: a failure
// is reported as a `storeError` event and answered as the StoreError. The writes of one operation
// go in order: each waits for its record's insert while that is pending. A synchronous store is
// answered synchronously, so that the memory store costs no promise.

import { type Awaitable, isThenable } from './awaitable.js';
import { type StoreAction, StoreError } from './errors.js';
import type { EventBus } from './events.js';
import type { LocalOperation } from './operation.js';

/** The executor's calls to its store. */
export class StoreAccess {
  readonly #events: EventBus;
  /** Background calls still in flight, so that stop() can wait for them. */
  readonly #inFlight = new Set<PromiseLike<unknown>>();

  constructor(events: EventBus) {
    this.#events = events;
  }

  /** For a caller who waits on the answer: a failure rejects as a {@link StoreError}. */
  async call<R>(action: StoreAction, id: string | undefined, call: () => Awaitable<R>): Promise<R> {
    try {
      return await call();
    } catch (error) {
      throw new StoreError(action, id, error);
    }
  }

  /**
   * In the background: a throw or a rejection is reported as `storeError` and answered as a
   * {@link StoreError}, never as an unhandled rejection.
   */
  background<R>(
    action: StoreAction,
    id: string | undefined,
    call: () => Awaitable<R>,
  ): Awaitable<R | StoreError> {
    const failed = (error: unknown): StoreError => {
      const failure = new StoreError(action, id, error);
      this.#events.emit('storeError', () => ({ error: failure }));
      return failure;
    };
    let answer: Awaitable<R>;
    try {
      answer = call();
    } catch (error) {
      return failed(error);
    }
    if (!isThenable(answer)) return answer;
    const settled: Promise<R | StoreError> = Promise.resolve(answer).then(
      (value) => {
        this.#inFlight.delete(settled);
        return value;
      },
      (error: unknown) => {
        this.#inFlight.delete(settled);
        return failed(error);
      },
    );
    this.#inFlight.add(settled);
    return settled;
  }

  /** A background write of `op`'s record, after its insert while that is pending. */
  write<R>(op: LocalOperation, action: StoreAction, call: () => Awaitable<R>): Awaitable<R | StoreError> {
    const insertion = op.insertion;
    if (insertion === undefined) return this.background(action, op.id, call);
    return insertion.then(() => this.background(action, op.id, call));
  }

  /** Resolves once no background call is in flight. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }
}
