/**
 * Lifecycle logging: one line per event, to any `{ debug, info, warn, error }` logger. The library
 * never writes anywhere by itself; on a stdio MCP server stdout is the protocol, so give it a
 * logger that writes to stderr.
 *
 * @module
 */
import type { ExecutorEvents } from './events.js';
import type { Executor } from './executor.js';
import { formatDuration } from './results.js';
import type { OperationSnapshot } from './types.js';
import { checkOptions, describeValue } from './validate.js';

const LOGGER_KEYS = new Set(['level']);

/** The lifecycle events that are logged. */
export type LifecycleEvent = Exclude<keyof ExecutorEvents, 'listenerError' | 'storeError'>;

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Anything with the four methods of `console`; `pino`, `winston` and `console` itself fit. */
export interface Logger {
  /** Writes a `debug` line; `data` holds the event and the operation's snapshot. */
  debug(message: string, data?: unknown): void;
  /** Writes an `info` line. */
  info(message: string, data?: unknown): void;
  /** Writes a `warn` line. */
  warn(message: string, data?: unknown): void;
  /** Writes an `error` line. */
  error(message: string, data?: unknown): void;
}

/** One event as a log entry. */
export interface LogEntry {
  /** How severe: `failed` is `warn`, `completed` and `cancelled` are `info`, the rest `debug`. */
  readonly level: LogLevel;
  /** The event. */
  readonly event: LifecycleEvent;
  /** One human-readable line. */
  readonly message: string;
  /** The operation as it stood. */
  readonly operation: OperationSnapshot;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const EVENT_LEVEL: Record<LifecycleEvent, LogLevel> = {
  started: 'debug',
  progress: 'debug',
  completed: 'info',
  failed: 'warn',
  cancelled: 'info',
  expired: 'debug',
  evicted: 'info',
};
/** The lifecycle events, in the order an operation meets them. */
export const LIFECYCLE_EVENTS = Object.keys(EVENT_LEVEL) as readonly LifecycleEvent[];

/** `value` as a log level, or a TypeError naming `name` and the levels there are. */
export function checkLogLevel(name: string, value: unknown): LogLevel {
  if (!LEVELS.includes(value as LogLevel)) {
    throw new TypeError(
      `Expected \`${name}\` to be one of ${LEVELS.join(', ')}, got ${describeValue(value)}`,
    );
  }
  return value as LogLevel;
}

/** `true` when `level` is at least `threshold`. */
export function atLeast(level: LogLevel, threshold: LogLevel): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(threshold);
}

/** The log entry for one event. */
export function logEntryOf<K extends LifecycleEvent>(event: K, payload: ExecutorEvents[K]): LogEntry {
  const operation = payload.operation;
  const name = `operation ${operation.id} (${operation.type})`;
  let message: string;
  switch (event) {
    case 'progress': {
      const { current, total, message: note } = (payload as ExecutorEvents['progress']).progress;
      message = `${name} progress ${current}${total === undefined ? '' : `/${total}`}${note === undefined ? '' : `: ${note}`}`;
      break;
    }
    case 'completed':
      message = `${name} completed in ${formatDuration(operation.elapsedMs)}`;
      break;
    case 'failed':
    case 'cancelled':
      message = `${name} ${event} after ${formatDuration(operation.elapsedMs)}: ${(payload as ExecutorEvents['failed']).error.message}`;
      break;
    case 'expired':
      message = `${name} expired: its ${operation.status} result is no longer kept`;
      break;
    case 'evicted':
      message = `${name} evicted to make room: its ${operation.status} result is no longer kept`;
      break;
    default:
      message = `${name} ${event}`;
  }
  return { level: EVENT_LEVEL[event], event, message, operation };
}

/** Options of {@link attachLogger}. */
export interface AttachLoggerOptions {
  /**
   * The least severe level written.
   * @defaultValue "info"
   */
  level?: LogLevel | undefined;
}

/**
 * Writes the executor's lifecycle events to `logger`, from `level` up. Answers a function that
 * detaches it.
 *
 * ```ts
 * attachLogger(executor, { ...console, info: console.error, debug: console.error }); // stdio: keep stdout clean
 * ```
 */
export function attachLogger(executor: Executor, logger: Logger, options?: AttachLoggerOptions): () => void {
  const threshold = checkLogLevel(
    'level',
    checkOptions('the options of attachLogger()', options, LOGGER_KEYS).level ?? 'info',
  );
  for (const method of LEVELS) {
    if (typeof (logger as unknown as Record<string, unknown>)?.[method] !== 'function') {
      throw new TypeError(`Expected \`logger\` to have a ${method}() method`);
    }
  }
  const detach = LIFECYCLE_EVENTS.filter((event) => atLeast(EVENT_LEVEL[event], threshold)).map((event) =>
    executor.on(event, (payload) => {
      const entry = logEntryOf(event, payload);
      logger[entry.level](`mcp-async: ${entry.message}`, { event, operation: entry.operation });
    }),
  );
  return () => {
    for (const off of detach) off();
  };
}
