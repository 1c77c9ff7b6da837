// Input during the work: the work asks (context.input()), the request waits in the operation's
// record, anyone who can reach the operation answers (executor.provideInput(), maybe on another
// replica), and the work takes the answer. The store carries both ways, so that the answer reaches
// the process running the work wherever it was given; that process hears of it at once (in-process,
// or through the store's change feed), and a shared store is also read again every
// INPUT_RECHECK_MS, since a feed may drop a message while it reconnects.

import { abortable, delay, race } from 'abort-controller-x';
import { InputUnavailableError, OperationNotFoundError, StoreError } from './errors.js';
import { newOperationId } from './ids.js';
import type { LocalOperation } from './operation.js';
import type { StoreAccess } from './store-access.js';
import type { OperationStore } from './stores/store.js';
import { checkInputRequest, checkInputResponses } from './validate.js';

/** How often a wait for input on a shared store reads the store again, in case the feed lost a message. */
export const INPUT_RECHECK_MS = 1000;

/** Why no input can be had on a store without the input methods. */
const NO_STORE_INPUT =
  'the operation store keeps no input (it has no requestInput, answerInput and takeInput)';

/** What the exchange asks of the executor. */
export interface InputHost {
  /** Makes the operation findable by id, with its record in the store. */
  publish(op: LocalOperation): void;
  /** The published operation of `id` that this process runs, if any. */
  find(id: string): LocalOperation | undefined;
}

/** The input exchanges of one executor's operations. */
export class InputExchange {
  readonly #store: OperationStore;
  readonly #io: StoreAccess;
  readonly #host: InputHost;
  /** Whether answers can come from another process (the store is shared): then the store is read again now and then. */
  readonly #shared: boolean;

  constructor(store: OperationStore, io: StoreAccess, host: InputHost) {
    this.#store = store;
    this.#io = io;
    this.#host = host;
    this.#shared = store.watch !== undefined;
  }

  /** Whether the store keeps input (it has all three input methods). */
  get supported(): boolean {
    const store = this.#store;
    return (
      store.requestInput !== undefined && store.answerInput !== undefined && store.takeInput !== undefined
    );
  }

  /** The work of `op` asks for input: see `OperationContext.input`. */
  async ask(op: LocalOperation, request: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const checked = checkInputRequest(request);
    if (!this.supported) {
      throw new InputUnavailableError(NO_STORE_INPUT);
    }
    const stop = signal === undefined ? op.signal : AbortSignal.any([op.signal, signal]);
    stop.throwIfAborted();
    if (op.status !== 'running') throw new InputUnavailableError('the operation has ended');
    this.#host.publish(op);
    const id = op.id!;
    const key = newOperationId(); // unique over the operation's lifetime, as the tasks extension requires
    // The wake is in place before the request is written: an answer cannot come before it.
    let woken = false;
    let wake: (() => void) | undefined;
    op.inputWaits ??= new Map();
    const waits = op.inputWaits;
    waits.set(key, () => {
      woken = true;
      wake?.();
    });
    let asked = false;
    try {
      const written = await this.#io.write(op, 'requestInput', () =>
        this.#store.requestInput!(id, op.owner, key, checked),
      );
      if (written instanceof StoreError) throw written;
      if (!written) {
        stop.throwIfAborted();
        throw new InputUnavailableError('the operation has ended');
      }
      asked = true;
      // Shown only now that the store has it: an answer to a key shown earlier could be refused.
      op.inputRequests = Object.freeze({ ...op.inputRequests, [key]: checked });
      op.wakeWaiters(); // execute() and continue() answer now: the caller learns that input is wanted
      // Read the store again now and then: always on a shared store (its feed may drop a message),
      // and on any store after a failed read (the answer may be there, and no change will come).
      let recheck = this.#shared;
      for (;;) {
        if (!woken) {
          const woke = new Promise<void>((resolve) => {
            wake = resolve;
          });
          await race(stop, (inner) =>
            recheck ? [abortable(inner, woke), delay(inner, INPUT_RECHECK_MS)] : [abortable(inner, woke)],
          ).catch((error: unknown) => {
            throw stop.aborted ? stop.reason : error;
          });
        }
        woken = false;
        // A failed read does not end a wait that may last hours: it is reported (storeError), and
        // the store read again at the next recheck.
        const answer = await this.#io.background('takeInput', id, () =>
          this.#store.takeInput!(id, op.owner, key),
        );
        if (answer instanceof StoreError) recheck = true;
        else if (answer !== undefined) {
          asked = false;
          return answer.response;
        }
        if (op.status !== 'running')
          throw stop.reason ?? new InputUnavailableError('the operation has ended');
      }
    } finally {
      waits.delete(key);
      if (op.inputRequests !== undefined) {
        const { [key]: _done, ...left } = op.inputRequests;
        op.inputRequests = Object.keys(left).length === 0 ? undefined : Object.freeze(left);
      }
      // Withdrawn: nobody waits for it any more (an operation that ended has no input left anyway).
      if (asked && op.status === 'running') {
        this.#io.background('takeInput', id, () => this.#store.takeInput!(id, op.owner, key, true));
      }
    }
  }

  /**
   * Answers input requests of the operation `id`: see `Executor.provideInput`. Answers the keys
   * taken; rejects with {@link OperationNotFoundError} when the owner cannot see the operation.
   */
  async provide(id: string, owner: string | undefined, responses: unknown): Promise<readonly string[]> {
    const checked = checkInputResponses(responses);
    if (!this.supported) {
      throw new InputUnavailableError(NO_STORE_INPUT);
    }
    const taken = await this.#io.call('answerInput', id, () => this.#store.answerInput!(id, owner, checked));
    if (taken === undefined) throw new OperationNotFoundError(id);
    if (taken.length > 0) this.answered(id);
    return taken;
  }

  /** Answers may have come for `id` (here, or through the store's feed): its waits read them. */
  answered(id: string): void {
    const op = this.#host.find(id);
    if (op?.inputWaits === undefined) return;
    for (const wake of [...op.inputWaits.values()]) wake();
  }
}
