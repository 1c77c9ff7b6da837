// A terminal write that failed is tried again until it lands. Until it does, the store holds the
// record as running, and every process sharing the store answers "running" for work that has
// ended, for as long as the process that ran it keeps its lease. The tries back off (from 100 ms,
// doubling, to 5 s, jittered: a replica coming back from an outage is not met by every other
// replica's writes at once) and end when the record's retention passes, when it would be gone
// anyway, or when the executor stops.

import { delay, retry } from 'abort-controller-x';
import pTimeout from 'p-timeout';
import type { Awaitable } from './awaitable.js';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

/** How the tries of one write ended. */
export type RetryOutcome<R> =
  | { readonly landed: true; readonly answer: R }
  /** Retention passed (`error` is the last failure) or the executor stopped (`stopped`). */
  | { readonly landed: false; readonly stopped: boolean; readonly error: unknown };

/**
 * The writes being tried again, so that stop() can end them all. Their backoff timers are not
 * unref()ed: an end the store does not hold yet is work not done yet; stop() clears them.
 */
export class TerminalRetries {
  readonly #stop = new AbortController();
  readonly #pending = new Set<Promise<unknown>>();

  /**
   * Tries `write` until it answers, or `deadline` (epoch milliseconds) passes, or {@link stop}.
   * Each try is bounded by the time left: a store call that never settles does not hold the
   * next try, nor stop(), hostage.
   */
  retry<R>(write: () => Awaitable<R>, deadline: number): Promise<RetryOutcome<R>> {
    const signal = this.#stop.signal;
    const attempt = () =>
      pTimeout(Promise.resolve().then(write), { milliseconds: Math.max(0, deadline - Date.now()), signal });
    const giveUpPastDeadline = (error: unknown, _attempt: number, delayMs: number) => {
      if (Date.now() + delayMs >= deadline) throw error;
    };
    // The write failed just now: the first try again waits too.
    const options = { baseMs: FIRST_DELAY_MS, maxDelayMs: MAX_DELAY_MS, onError: giveUpPastDeadline };
    const tries = delay(signal, FIRST_DELAY_MS)
      .then(() => retry(signal, attempt, options))
      .then(
        (answer): RetryOutcome<R> => ({ landed: true, answer }),
        (error: unknown): RetryOutcome<R> => ({ landed: false, stopped: signal.aborted, error }),
      );
    this.#pending.add(tries);
    void tries.then(() => this.#pending.delete(tries));
    return tries;
  }

  /** Ends every try (a backoff wait, or a store call in flight, is cut short); resolves once they ended. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#pending);
  }
}
