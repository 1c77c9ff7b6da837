// One bounded wait for an operation to finish, by execute() or continue(). It ends exactly once,
// for the first of: the operation settled, the time ran out, the caller's signal aborted (or the
// executor stopped, which settles every operation). Ending clears its timer and its abort
// listener, so a finished wait holds nothing.

/** Why a wait ended. */
export type WaitEnd = 'settled' | 'timeout' | 'aborted';

/** A wait registered with a live operation (or with the executor, for operations elsewhere). */
export class Waiter {
  #onEnd: ((why: WaitEnd) => void) | undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;
  #detach: (() => void) | undefined;

  /**
   * @param onEnd - called once, with the reason the wait ended
   * @param detach - removes this waiter from whatever registered it (not called when it is the
   *   waking party that ends the wait, since that one already let go)
   */
  constructor(onEnd: (why: WaitEnd) => void, detach: () => void) {
    this.#onEnd = onEnd;
    this.#detach = detach;
  }

  get ended(): boolean {
    return this.#onEnd === undefined;
  }

  /** Ends the wait with `timeout` after `ms` milliseconds. */
  startTimer(ms: number): void {
    if (this.#onEnd === undefined) return;
    this.#timer = setTimeout(() => this.end('timeout'), ms);
  }

  /** Ends the wait with `aborted` when `signal` aborts (at once if it already has). */
  listen(signal: AbortSignal): void {
    if (signal.aborted) {
      this.end('aborted');
      return;
    }
    this.#signal = signal;
    signal.addEventListener('abort', this);
  }

  /** @internal the abort listener (an object listener saves a closure per wait). */
  handleEvent(): void {
    this.end('aborted');
  }

  /** Ends the wait now, for `why`; later calls do nothing. */
  end(why: WaitEnd): void {
    const onEnd = this.#onEnd;
    if (onEnd === undefined) return;
    this.#onEnd = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this);
    if (why !== 'settled') this.#detach?.();
    this.#detach = undefined;
    onEnd(why);
  }
}
