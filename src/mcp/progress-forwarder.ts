// Sends an operation's progress to one MCP request as notifications/progress: throttled, always
// ending with the latest value, and with a heartbeat while the request waits, so that clients
// which reset their timeout on progress keep the call alive. The same for both SDK lines: each
// adapter hands over the request's token and its way of sending a notification.

import type { Executor, Progress } from '../index.js';
import { checkMilliseconds, checkOptions, describeValue } from '../validate.js';

/** A `notifications/progress` message, as both SDK lines send it. */
export interface ProgressNotification {
  method: 'notifications/progress';
  params: {
    progressToken: string | number;
    progress: number;
    total?: number;
    message?: string;
  };
}

/** How progress reaches the client. */
export interface ProgressForwardingOptions {
  /**
   * The least time between two notifications of one request, in milliseconds; a value held back
   * is sent when the interval is over, and the latest one always goes out before the answer.
   * @defaultValue 250
   */
  intervalMs?: number | undefined;
  /**
   * ...unless progress moved by at least this share of its `total` since the last one sent
   * (0.01 is 1%), which goes out at once.
   * @defaultValue 0.01
   */
  minDelta?: number | undefined;
  /**
   * While a request waits and nothing was sent for this long, a heartbeat notification goes out
   * (the last progress, a hair higher, since the MCP spec wants every value to increase). `0`
   * turns it off. Never sent when the client gave no `progressToken`.
   * @defaultValue 10_000
   */
  heartbeatMs?: number | undefined;
}

/** {@link ProgressForwardingOptions} with defaults applied. */
export interface ResolvedForwarding {
  readonly intervalMs: number;
  readonly minDelta: number;
  readonly heartbeatMs: number;
}

const FORWARDING_KEYS = new Set(['intervalMs', 'minDelta', 'heartbeatMs']);

/**
 * The longest `progressToken` taken, in characters. Every notification repeats the token, so an
 * unbounded one would multiply into megabytes; real tokens are counters or UUIDs.
 */
const MAX_PROGRESS_TOKEN_LENGTH = 256;

export function resolveForwarding(options: unknown): ResolvedForwarding {
  const o = checkOptions('`progress` of registerAsyncTools()', options, FORWARDING_KEYS);
  const minDelta = o.minDelta ?? 0.01;
  if (typeof minDelta !== 'number' || !(minDelta >= 0 && minDelta <= 1)) {
    throw new RangeError(
      `Expected \`progress.minDelta\` to be a share from 0 to 1, got ${describeValue(minDelta)}`,
    );
  }
  return {
    intervalMs: checkMilliseconds('progress.intervalMs', o.intervalMs ?? 250),
    minDelta,
    heartbeatMs: checkMilliseconds('progress.heartbeatMs', o.heartbeatMs ?? 10_000),
  };
}

/**
 * Where a forwarder's notifications go: the request that carried the token, or, for a task that
 * outlives its request, the connection itself.
 */
export interface ProgressSink {
  /** The client's token; without one the forwarder sends nothing. */
  readonly progressToken: string | number | undefined;
  /** Sends one notification; a rejection means the client went away. */
  readonly sendNotification: (notification: ProgressNotification) => Promise<void>;
  /** Fires when the request is over; nothing is sent after it. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A request's `progressToken`, refused (with a message that does not repeat it) past
 * {@link MAX_PROGRESS_TOKEN_LENGTH} characters. Every handler that forwards progress checks it first.
 */
export function checkProgressToken(token: string | number | undefined): string | number | undefined {
  if (typeof token === 'string' && token.length > MAX_PROGRESS_TOKEN_LENGTH) {
    throw new RangeError(
      `The request's progressToken is ${token.length} characters long; at most ${MAX_PROGRESS_TOKEN_LENGTH} are accepted`,
    );
  }
  return token;
}

/** One request's (or task's) progress notifications; inert when the client gave no `progressToken`. */
export class ProgressForwarder {
  readonly #sink: ProgressSink;
  readonly #token: string | number | undefined;
  readonly #options: ResolvedForwarding;
  #open: boolean;
  #lastValue = Number.NEGATIVE_INFINITY;
  #lastAt = 0;
  #last: Progress | undefined = undefined;
  #pending: Progress | undefined = undefined;
  #trailing: NodeJS.Timeout | undefined = undefined;
  #heartbeat: NodeJS.Timeout | undefined = undefined;

  constructor(sink: ProgressSink, options: ResolvedForwarding) {
    this.#sink = sink;
    this.#options = options;
    this.#token = sink.progressToken;
    this.#open = this.#token !== undefined;
    if (this.#open && options.heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs);
      this.#heartbeat.unref();
    }
  }

  /** Whether it sends anything at all: the client gave a token, and is still there. */
  get active(): boolean {
    return this.#open;
  }

  /** Takes the operation's latest progress; sends it now, later, or not at all (not higher). */
  send(progress: Progress): void {
    if (!this.#open || !(progress.current > this.#lastValue)) return;
    const { intervalMs, minDelta } = this.#options;
    const now = Date.now();
    const moved =
      progress.total !== undefined &&
      progress.total > 0 &&
      (progress.current - this.#lastValue) / progress.total >= minDelta;
    if (now - this.#lastAt >= intervalMs || moved) {
      this.#notify(progress.current, progress);
      return;
    }
    this.#pending = progress;
    if (this.#trailing === undefined) {
      this.#trailing = setTimeout(
        () => {
          this.#trailing = undefined;
          this.#flush();
        },
        intervalMs - (now - this.#lastAt),
      );
      this.#trailing.unref();
    }
  }

  /** The request is answered: send what was held back, then nothing more. */
  close(): void {
    this.#flush();
    this.#open = false;
    if (this.#trailing !== undefined) clearTimeout(this.#trailing);
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#trailing = undefined;
    this.#heartbeat = undefined;
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined && this.#open && pending.current > this.#lastValue)
      this.#notify(pending.current, pending);
  }

  #beat(): void {
    if (!this.#open || Date.now() - this.#lastAt < this.#options.heartbeatMs) return;
    const last = this.#last;
    // The spec wants every value higher than the one before: a millionth of the scale more.
    const value =
      last === undefined ? 0 : this.#lastValue + (last.total ?? Math.max(1, this.#lastValue)) * 1e-6;
    this.#notify(value, last);
  }

  #notify(value: number, progress: Progress | undefined): void {
    if (this.#sink.signal?.aborted === true) {
      this.#open = false;
      return;
    }
    this.#lastValue = value;
    this.#lastAt = Date.now();
    if (progress !== undefined) this.#last = progress;
    this.#pending = undefined;
    this.#sink
      .sendNotification({
        method: 'notifications/progress',
        params: {
          progressToken: this.#token!,
          progress: value,
          ...(progress?.total === undefined ? {} : { total: progress.total }),
          ...(progress?.message === undefined ? {} : { message: progress.message }),
        },
      })
      .catch(() => {
        this.#open = false; // the client went away
      });
  }
}

/**
 * Routes the executor's `progress` events to the forwarders of the requests waiting on each
 * operation (continuations that carried a progressToken). Listens to the executor only while one
 * waits, so that progress costs nothing extra otherwise.
 */
export class ProgressRouter {
  readonly #executor: { on: Executor['on'] };
  readonly #byOperation = new Map<string, Set<ProgressForwarder>>();
  #unsubscribe: (() => void) | undefined = undefined;

  constructor(executor: { on: Executor['on'] }) {
    this.#executor = executor;
  }

  /** Sends `operationId`'s progress to `forwarder` until the answered function is called. */
  watch(operationId: string, forwarder: ProgressForwarder): () => void {
    let forwarders = this.#byOperation.get(operationId);
    if (forwarders === undefined) {
      forwarders = new Set();
      this.#byOperation.set(operationId, forwarders);
    }
    forwarders.add(forwarder);
    this.#unsubscribe ??= this.#executor.on('progress', ({ operation, progress }) => {
      const watching = this.#byOperation.get(operation.id);
      if (watching !== undefined) for (const watcher of watching) watcher.send(progress);
    });
    return () => {
      forwarders.delete(forwarder);
      if (forwarders.size === 0) this.#byOperation.delete(operationId);
      if (this.#byOperation.size === 0 && this.#unsubscribe !== undefined) {
        this.#unsubscribe();
        this.#unsubscribe = undefined;
      }
    };
  }
}
