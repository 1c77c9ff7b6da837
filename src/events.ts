/**
 * The executor's lifecycle events, typed by name (a mitt event map).
 *
 * @module
 */
import type { StoreError } from './errors.js';
import type { OperationSnapshot, Progress } from './types.js';

/** Payload of every lifecycle event: the operation as it stands when the event fires. */
export interface OperationEvent {
  /** The operation's snapshot at the moment of the event. */
  readonly operation: OperationSnapshot;
}

/** Payload of `progress`. */
export interface ProgressEvent extends OperationEvent {
  /** The progress just reported. */
  readonly progress: Progress;
}

/** Payload of `completed`. */
export interface CompletedEvent extends OperationEvent {
  /** What the work returned. */
  readonly result: unknown;
}

/** Payload of `failed` and `cancelled`. */
export interface ErrorEvent extends OperationEvent {
  /** Why it failed or was cancelled. */
  readonly error: Error;
}

/** Payload of `storeError`: the store failed at something the executor did in the background. */
export interface StoreErrorEvent {
  /** The failure, its `cause` being what the store threw. */
  readonly error: StoreError;
}

/** Payload of `listenerError`: an event handler threw. */
export interface ListenerErrorEvent {
  /** The event whose handler threw. */
  readonly event: keyof ExecutorEvents;
  /** What the handler threw. */
  readonly error: unknown;
}

/**
 * Events emitted by the executor, by name. Handlers run synchronously when the event happens; a
 * handler that throws does not disturb the executor: the error is emitted as `listenerError`, or
 * reported with `process.emitWarning` when nothing listens to that.
 */
export type ExecutorEvents = {
  /** `execute()` accepted the work. */
  created: OperationEvent;
  /** The work function was invoked. */
  started: OperationEvent;
  /** The work reported progress. */
  progress: ProgressEvent;
  /** The work returned. */
  completed: CompletedEvent;
  /** The work threw or rejected, or exceeded `maxLifetime`. */
  failed: ErrorEvent;
  /** The operation was cancelled. */
  cancelled: ErrorEvent;
  /** A finished operation's retention ended and its record was dropped. */
  expired: OperationEvent;
  /** A finished operation was dropped before its retention ended, to make room (`whenFull: 'evict-oldest'`). */
  evicted: OperationEvent;
  /**
   * The store failed at something the executor did in the background: a write (a record's
   * progress or terminal state), a sweep of expired records, or the read that follows a shared
   * store's change. Waiters still get the outcome; the store may lag behind until the operation is
   * written again or expires.
   */
  storeError: StoreErrorEvent;
  /** A handler of another event threw. */
  listenerError: ListenerErrorEvent;
};
