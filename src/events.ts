/**
 * The executor's lifecycle events, typed by name (a mitt event map).
 *
 * @module
 */
import mittImport from 'mitt';
import type { StoreError } from './errors.js';
import type { OperationSnapshot, Progress } from './types.js';
import { nearestName } from './validate.js';

// mitt's typings describe its ESM build as CommonJS under NodeNext resolution; at run time the
// default import is the factory itself.
const mitt = mittImport as unknown as typeof mittImport.default;

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
  /** `execute()` accepted the work and invoked it. */
  started: OperationEvent;
  /** The work reported progress. */
  progress: ProgressEvent;
  /** The work returned. */
  completed: CompletedEvent;
  /** The work threw or rejected, or exceeded `maxLifetimeMs`. */
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

/** A handler of the executor event `K`. */
export type EventHandler<K extends keyof ExecutorEvents> = (event: ExecutorEvents[K]) => void;

const EVENT_NAMES: readonly (keyof ExecutorEvents)[] = [
  'started',
  'progress',
  'completed',
  'failed',
  'cancelled',
  'expired',
  'evicted',
  'storeError',
  'listenerError',
];

/**
 * The executor's events on a mitt emitter, which keeps the handlers. What is added: a payload is
 * built only when someone listens, and each handler runs on its own, so that one that throws
 * neither disturbs the executor nor keeps the next handler from running.
 */
export class EventBus {
  readonly #emitter = mitt<ExecutorEvents>();

  /** Adds `handler`; an unknown event name or a handler that is not a function is a TypeError. */
  on<K extends keyof ExecutorEvents>(type: K, handler: EventHandler<K>): void {
    checkEventName(type);
    if (typeof handler !== 'function') {
      throw new TypeError(`Expected the handler of "${type}" to be a function, got ${typeof handler}`);
    }
    this.#emitter.on(type, handler);
  }

  off<K extends keyof ExecutorEvents>(type: K, handler: EventHandler<K>): void {
    this.#emitter.off(type, handler);
  }

  /** Whether anything listens to `type`. */
  listening(type: keyof ExecutorEvents): boolean {
    const handlers = this.#emitter.all.get(type);
    return handlers !== undefined && handlers.length > 0;
  }

  /** Emits `type`, building its payload only when someone listens. */
  emit<K extends keyof ExecutorEvents>(type: K, payload: () => ExecutorEvents[K]): void {
    const handlers = this.#emitter.all.get(type);
    if (handlers === undefined || handlers.length === 0) return;
    const event = payload();
    // A copy, as mitt's own emit() makes: a handler may unsubscribe itself.
    for (const handler of [...handlers] as EventHandler<K>[]) {
      try {
        handler(event);
      } catch (error) {
        this.listenerFailed(type, error);
      }
    }
  }

  /** A handler of `type` threw: `listenerError`, or a process warning when nothing listens to that. */
  listenerFailed(type: keyof ExecutorEvents, error: unknown): void {
    if (type !== 'listenerError' && this.listening('listenerError')) {
      this.emit('listenerError', () => ({ event: type, error }));
    } else {
      process.emitWarning(
        `mcp-async: a "${type}" event handler threw: ${String(error)}`,
        'McpAsyncListenerWarning',
      );
    }
  }
}

function checkEventName(type: unknown): void {
  if (EVENT_NAMES.includes(type as keyof ExecutorEvents)) return;
  const hint = typeof type === 'string' ? nearestName(type, EVENT_NAMES) : undefined;
  throw new TypeError(
    `Unknown executor event ${JSON.stringify(String(type)).slice(0, 82)}` +
      `${hint === undefined ? '' : `; did you mean "${hint}"?`} Events: ${EVENT_NAMES.join(', ')}`,
  );
}
