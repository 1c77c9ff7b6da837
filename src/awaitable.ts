// Values that may come synchronously or as a promise: the memory store answers at once, remote
// stores later, and the executor keeps the synchronous path free of promise overhead.

/** A value or a promise of it: stores may answer synchronously (memory) or asynchronously (remote). */
export type Awaitable<T> = T | PromiseLike<T>;

/** Whether `value` is a promise (or any thenable) rather than the value itself. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
