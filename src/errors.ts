/**
 * Every error this library raises or reports extends {@link McpAsyncError} and carries a stable
 * `code`: match on `code` (or `instanceof`), never on the message text.
 *
 * @module
 */

/** The stable codes of {@link McpAsyncError} subclasses. */
export type McpAsyncErrorCode =
  | 'OPERATION_NOT_FOUND'
  | 'OPERATION_CANCELLED'
  | 'OPERATION_LIFETIME_EXCEEDED'
  | 'NON_ERROR_THROWN'
  | 'TOO_MANY_OPERATIONS'
  | 'TOO_MANY_WAITERS'
  | 'STORE_FAILED'
  | 'EXECUTOR_STOPPED'
  | 'OPERATION_INTERRUPTED'
  | 'REPLICA_LOST'
  | 'RESULT_NOT_STORABLE'
  | 'CONTINUATION_TIMEOUT'
  | 'CONTINUATION_LOST'
  | 'INPUT_UNAVAILABLE';

/** Base class of every error raised or reported by mcp-async. */
export class McpAsyncError extends Error {
  /** A stable, machine-readable identifier of the kind of error. */
  readonly code: McpAsyncErrorCode;

  /**
   * @param code - the stable code of the error kind
   * @param message - a human-readable message naming the value at fault
   * @param options - standard `ErrorOptions` (a `cause`)
   */
  constructor(code: McpAsyncErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The operation id is unknown, its retention has passed, or it belongs to another owner. The
 * three cases are deliberately indistinguishable so that an id never leaks across owners.
 */
export class OperationNotFoundError extends McpAsyncError {
  /** The id that was asked for. */
  readonly operationId: string;

  /** @param operationId - the id that was asked for */
  constructor(operationId: string) {
    // A "not found" is an expected answer, like an HTTP 404, and the stack of a lookup says
    // nothing useful; capturing it would cost more than the lookup itself (about 5 µs).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(
        'OPERATION_NOT_FOUND',
        `Operation "${operationId}" was not found (unknown, expired, or not yours)`,
      );
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.operationId = operationId;
  }
}

/** The reason an operation's AbortSignal fires when it is cancelled through `cancel()`. */
export class OperationCancelledError extends McpAsyncError {
  /** The reason given to `cancel()`, if any. */
  readonly reason: string | undefined;

  /** @param reason - why the operation was cancelled */
  constructor(reason?: string) {
    super(
      'OPERATION_CANCELLED',
      reason === undefined ? 'Operation cancelled' : `Operation cancelled: ${reason}`,
    );
    this.reason = reason;
  }
}

/** The operation ran longer than `maxLifetimeMs`; it is failed and its AbortSignal fires with this. */
export class OperationLifetimeError extends McpAsyncError {
  /** The lifetime that was exceeded, in milliseconds. */
  readonly maxLifetimeMs: number;

  /** @param maxLifetimeMs - the lifetime that was exceeded */
  constructor(maxLifetimeMs: number) {
    super('OPERATION_LIFETIME_EXCEEDED', `Operation exceeded its maximum lifetime of ${maxLifetimeMs} ms`);
    this.maxLifetimeMs = maxLifetimeMs;
  }
}

/**
 * The operation threw or rejected with something that is not an `Error` (a string, `undefined`,
 * a plain object...). The original value is kept as `cause`.
 */
export class NonErrorThrownError extends McpAsyncError {
  /** @param value - what the operation threw */
  constructor(value: unknown) {
    super('NON_ERROR_THROWN', `Operation threw a non-Error value: ${describeThrown(value)}`, {
      cause: value,
    });
  }
}

/** `execute()` was refused because `maxOperations` live and retained operations already exist. */
export class TooManyOperationsError extends McpAsyncError {
  /** The limit reached: `maxOperations`, or `maxRunningPerOwner` when `owner` is set. */
  readonly limit: number;
  /** The owner at its `maxRunningPerOwner`, when that is the limit reached. */
  readonly owner: string | undefined;

  /**
   * @param limit - the configured `maxOperations`, or `maxRunningPerOwner`
   * @param owner - the owner at its limit, for `maxRunningPerOwner`
   */
  constructor(limit: number, owner?: string) {
    super(
      'TOO_MANY_OPERATIONS',
      owner === undefined
        ? `Too many operations: ${limit} running or retained (maxOperations); retry after some finish or expire`
        : `Too many operations for owner "${owner}": ${limit} running (maxRunningPerOwner); retry after some finish`,
    );
    this.limit = limit;
    this.owner = owner;
  }
}

/**
 * `continue()` was refused: waiting on this operation (`maxWaitersPerOperation`), or waiting at all
 * (`maxWaiters`), is at its limit. Nothing about the operation changed.
 */
export class TooManyWaitersError extends McpAsyncError {
  /** The limit reached. */
  readonly limit: number;
  /** The operation, when its own limit was reached. */
  readonly operationId: string | undefined;

  /**
   * @param limit - the configured `maxWaitersPerOperation` or `maxWaiters`
   * @param operationId - the operation, for `maxWaitersPerOperation`
   */
  constructor(limit: number, operationId?: string) {
    super(
      'TOO_MANY_WAITERS',
      operationId === undefined
        ? `Too many waits: ${limit} continue() calls are waiting (maxWaiters); retry later`
        : `Too many waits on operation ${operationId}: ${limit} already (maxWaitersPerOperation); wait on it from fewer places`,
    );
    this.limit = limit;
    this.operationId = operationId;
  }
}

/** What the executor was asking of its store when the store failed. */
export type StoreAction =
  | 'insert'
  | 'read'
  | 'list'
  | 'setProgress'
  | 'finish'
  | 'cancel'
  | 'sweep'
  | 'evict'
  | 'requestInput'
  | 'answerInput'
  | 'takeInput'
  | 'handBack';

/**
 * The operation store failed (threw or rejected): the store's own error is the `cause`. A read
 * (`continue()`, `get()`, `list()`, `cancel()` of an operation held elsewhere) rejects with it; a
 * failure in the background is reported as a `storeError` event instead.
 */
export class StoreError extends McpAsyncError {
  /** What was asked of the store. */
  readonly action: StoreAction;
  /** The operation concerned, if one was. */
  readonly operationId: string | undefined;

  /**
   * @param action - what was asked of the store
   * @param operationId - the operation concerned, if any
   * @param cause - what the store threw or rejected with
   */
  constructor(action: StoreAction, operationId: string | undefined, cause: unknown) {
    super(
      'STORE_FAILED',
      `The operation store failed (${action}${operationId === undefined ? '' : ` of operation ${operationId}`}): ${describeCause(cause)}`,
      { cause },
    );
    this.action = action;
    this.operationId = operationId;
  }
}

/**
 * The executor was stopped: it accepts no more calls, and running work is cancelled with this. While
 * `stop({ drainMs })` drains, new work is refused with it too (the other calls still answer).
 */
export class ExecutorStoppedError extends McpAsyncError {
  /**
   * @param stage - `draining` while a graceful stop lets running work finish; `handed-back` for
   *   redeliverable work that the stop handed back, to run again on another process
   */
  constructor(stage: 'draining' | 'stopped' | 'handed-back' = 'stopped') {
    super(
      'EXECUTOR_STOPPED',
      stage === 'draining'
        ? 'The executor is stopping: it takes no new work (running work may still finish)'
        : stage === 'handed-back'
          ? 'The executor is stopping: this work was handed back, to run again on another process'
          : 'The executor has been stopped',
    );
  }
}

/**
 * The operation was running when the process that ran it stopped without finishing it (a crash, a
 * kill): a durable store reports it so on the next start, rather than "running" forever.
 */
export class OperationInterruptedError extends McpAsyncError {
  constructor() {
    super(
      'OPERATION_INTERRUPTED',
      'Operation interrupted by restart: the process running it stopped before it finished',
    );
  }
}

/**
 * The operation was running on another replica (a process sharing the store) that stopped renewing
 * its lease: it died or lost the store, so the operation will never finish.
 */
export class ReplicaLostError extends McpAsyncError {
  /** The replica that was running it. */
  readonly replica: string;

  /** @param replica - the id of the replica that was running it */
  constructor(replica: string) {
    super(
      'REPLICA_LOST',
      `Operation failed: owner replica lost (replica ${replica} stopped renewing its lease)`,
    );
    this.replica = replica;
  }
}

/**
 * The operation's result cannot be kept by the store (it is not JSON-serialisable, or it is larger
 * than the store allows), so the operation is failed with this instead of losing the result later.
 */
export class ResultNotStorableError extends McpAsyncError {
  /** What is wrong with the result. */
  readonly reason: string;

  /** @param reason - what is wrong with the result */
  constructor(reason: string) {
    super('RESULT_NOT_STORABLE', `The operation's result cannot be stored: ${reason}`);
    this.reason = reason;
  }
}

/**
 * The work asked for input (`context.input()`) that nobody can give: the store keeps no input, the
 * operation has ended, or (for an MCP tool) the client that called it cannot answer input during a
 * task. The work may go on without it (a default, a safe choice) or fail saying so.
 */
export class InputUnavailableError extends McpAsyncError {
  /** Why no input can be had. */
  readonly reason: string;

  /** @param reason - why no input can be had */
  constructor(reason: string) {
    super('INPUT_UNAVAILABLE', `No input can be asked for: ${reason}`);
    this.reason = reason;
  }
}

/**
 * What a store's error says, never an empty string: some clients reject with an error that has no
 * message (node-redis's command timeout does), which said nothing of what went wrong. Then its
 * class and `code` stand in, or the messages of the errors an `AggregateError` gathers (a connect
 * that tried several addresses).
 */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return describeThrown(cause);
  if (cause.message !== '') return cause.message;
  if (cause instanceof AggregateError && cause.errors.length > 0)
    return cause.errors.map((error: unknown) => describeCause(error)).join('; ');
  const code = (cause as { code?: unknown }).code;
  const name = cause.name === 'Error' ? cause.constructor.name : cause.name;
  return `${name}${typeof code === 'string' || typeof code === 'number' ? ` ${code}` : ''} (no message)`;
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  if (typeof value === 'function') return `[Function ${value.name || 'anonymous'}]`;
  if (value === null || typeof value !== 'object') return String(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length > 200 ? `${json.slice(0, 200)}…` : json;
  } catch {
    // cyclic or otherwise unserialisable: fall through to the tag
  }
  return Object.prototype.toString.call(value);
}
