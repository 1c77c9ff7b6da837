// The client side, written once for both SDK lines: call a tool and, while it answers "still
// running", follow it through continue_operation long-polls to its own final result. Each SDK line's
// callToolWithContinuation hands over its way of calling a tool (a ToolCaller).

import { McpAsyncError } from '../errors.js';
import {
  checkMilliseconds,
  checkOptionalSignal,
  checkOptionalString,
  checkOptions,
  describeValue,
} from '../validate.js';
import {
  type CallToolResult,
  OPERATION_META_KEY,
  type RunningState,
  type ToolNames,
} from './tool-results.js';

/** One progress notification as the client hands it to `onProgress`. */
export interface ProgressUpdate {
  /** The progress so far (increasing). */
  progress: number;
  /** The total, when the server knows it. */
  total?: number | undefined;
  /** What is happening now. */
  message?: string | undefined;
}

/**
 * How long past its wait a long-poll may go unanswered before the server is taken for lost. A live
 * server answers when the wait ends, after one read of its store (a RedisStore read slower than its
 * 5 s command timeout ends here as lost, not as the server's StoreError). A server killed mid-wait
 * (a replica's SIGKILL) answers nothing: on Streamable HTTP both SDK lines' transports only report
 * the cut response stream to `onerror`, so the request ends at this timeout. With a 30 s margin
 * that was 37 s after the kill for a 7 s wait, 60 s with the defaults; now the wait plus 5 s
 * (bench/continuation-lost.ts).
 */
const LONG_POLL_MARGIN_MS = 5_000;

/** Options of `callToolWithContinuation` on both SDK lines. */
export interface FollowOptions {
  /** Progress of the operation, from the first call and from every continuation. */
  onProgress?: ((progress: ProgressUpdate) => void) | undefined;
  /**
   * Aborting it cancels the operation on the server, then rejects with the signal's reason. An
   * abort during the first call takes effect when that call answers (within the tool's wait
   * budget): dropping that request would leave the work running under an id never learnt.
   */
  signal?: AbortSignal | undefined;
  /**
   * The longest to follow the operation in all; past it the promise rejects with a
   * {@link ContinuationTimeoutError} naming the operation, which goes on on the server.
   * @defaultValue no limit
   */
  timeoutMs?: number | undefined;
  /**
   * How long each long-poll asks the server to wait.
   * @defaultValue 30_000
   */
  waitMs?: number | undefined;
  /**
   * The server's names for the generic tools, if it renamed them.
   * @defaultValue `{ continue: 'continue_operation', cancel: 'cancel_operation' }`
   */
  toolNames?: Partial<Pick<ToolNames, 'continue' | 'cancel'>> | undefined;
}

/** Following the operation took longer than `timeoutMs`; it goes on on the server. */
export class ContinuationTimeoutError extends McpAsyncError {
  /** The operation, to follow later with `continue_operation`. */
  readonly operationId: string;

  /** @param operationId - the operation being followed @param timeoutMs - the limit */
  constructor(operationId: string, timeoutMs: number) {
    super(
      'CONTINUATION_TIMEOUT',
      `Operation ${operationId} was still running after ${timeoutMs} ms of following it; it goes on on the server`,
    );
    this.operationId = operationId;
  }
}

/**
 * The server can no longer answer for an operation being followed: the connection failed (the
 * server went away or restarted), or a long-poll went unanswered 5 s past its wait.
 */
export class ContinuationLostError extends McpAsyncError {
  /** The operation, which the server may still hold: follow it again once reconnected. */
  readonly operationId: string;

  /** @param operationId - the operation being followed @param cause - what the request failed with */
  constructor(operationId: string, cause: unknown) {
    super(
      'CONTINUATION_LOST',
      `Lost the server while following operation ${operationId}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.operationId = operationId;
  }
}

/** A tool call as `callToolWithContinuation` takes it. */
export interface ToolCallParams {
  name: string;
  arguments?: Record<string, unknown> | undefined;
  _meta?: Record<string, unknown> | undefined;
}

/** How the follow loop calls a tool through one SDK line's client. */
export type ToolCaller = (
  params: ToolCallParams,
  options: {
    /** The request's own timeout: its long-poll plus a margin. */
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    onProgress?: ((progress: ProgressUpdate) => void) | undefined;
  },
) => Promise<CallToolResult>;

/** {@link FollowOptions} checked, with defaults applied. */
export interface ParsedFollow {
  readonly onProgress: ((progress: ProgressUpdate) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly waitMs: number;
  readonly names: { readonly continue: string; readonly cancel: string };
  readonly limits: FollowLimits;
  /** The options object, for the keys a line adds. */
  readonly given: Readonly<Record<string, unknown>>;
}

const FOLLOW_KEYS = ['onProgress', 'signal', 'timeoutMs', 'waitMs', 'toolNames'];
const TOOL_NAME_KEYS = new Set(['continue', 'cancel']);

/** Checks the options (`moreKeys`: those an SDK line adds) and applies defaults. */
export function parseFollowOptions(options: unknown, moreKeys: readonly string[] = []): ParsedFollow {
  const o = checkOptions(
    'the options of callToolWithContinuation()',
    options,
    new Set([...FOLLOW_KEYS, ...moreKeys]),
  );
  const timeoutMs =
    o.timeoutMs === undefined
      ? undefined
      : checkMilliseconds('timeoutMs', o.timeoutMs, Number.MAX_SAFE_INTEGER);
  // The model-facing wait_seconds accepts at most an hour.
  const waitMs = checkMilliseconds('waitMs', o.waitMs ?? 30_000, 3_600_000);
  const givenNames = checkOptions('`toolNames` of callToolWithContinuation()', o.toolNames, TOOL_NAME_KEYS);
  const onProgress = o.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`Expected \`onProgress\` to be a function, got ${describeValue(onProgress)}`);
  }
  const signal = checkOptionalSignal('signal', o.signal);
  return {
    onProgress: onProgress as ParsedFollow['onProgress'],
    signal,
    waitMs,
    names: {
      continue: checkOptionalString('toolNames.continue', givenNames.continue) ?? 'continue_operation',
      cancel: checkOptionalString('toolNames.cancel', givenNames.cancel) ?? 'cancel_operation',
    },
    limits: new FollowLimits(signal, timeoutMs),
    given: o,
  };
}

/**
 * Calls the tool and, while it answers "still running", long-polls `continue_operation` until the
 * operation's own result comes back. Aborting cancels the operation (`cancel_operation`), then
 * rejects with the signal's reason; past `timeoutMs` a {@link ContinuationTimeoutError}; a failed
 * request a {@link ContinuationLostError}.
 */
export async function followContinuation(
  call: ToolCaller,
  params: ToolCallParams,
  follow: ParsedFollow,
): Promise<CallToolResult> {
  const { onProgress, signal, waitMs, names, limits } = follow;
  // The first call holds for the tool's own wait budget, at most a client's usual minute.
  let result = await call(params, { timeoutMs: 60_000 + 30_000, onProgress });
  for (let state = runningOf(result); state !== undefined; state = runningOf(result)) {
    const id = state.operation_id;
    const left = await limits.timeLeft(id, () => cancelQuietly(call, names.cancel, id));
    const wait = Math.min(waitMs, left);
    try {
      result = await call(
        { name: names.continue, arguments: { operation_id: id, wait_seconds: wait / 1000 } },
        // Progress resets nothing here: a live server answers when its wait ends.
        { timeoutMs: wait + LONG_POLL_MARGIN_MS, signal, onProgress },
      );
    } catch (error) {
      if (limits.aborted) continue; // the same answer again: cancelled at the top of the loop
      throw new ContinuationLostError(id, error);
    }
  }
  return result;
}

/** Where following an operation stops early: the caller's signal, or `timeoutMs`. */
export class FollowLimits {
  readonly #signal: AbortSignal | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #deadline: number | undefined;

  constructor(signal: AbortSignal | undefined, timeoutMs: number | undefined) {
    this.#signal = signal;
    this.#timeoutMs = timeoutMs;
    this.#deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  }

  /**
   * Milliseconds left to follow `id`. Rejects with the signal's reason once it aborted (after
   * `cancel` asked the server to stop the work), and with a {@link ContinuationTimeoutError} past
   * `timeoutMs`.
   */
  async timeLeft(id: string, cancel: () => Promise<void>): Promise<number> {
    if (this.aborted) {
      await cancel();
      throw this.#signal?.reason;
    }
    const left = this.#deadline === undefined ? Number.POSITIVE_INFINITY : this.#deadline - Date.now();
    if (left <= 0) throw new ContinuationTimeoutError(id, this.#timeoutMs!);
    return left;
  }

  /** Read afresh each time: the signal can abort during any await in between. */
  get aborted(): boolean {
    return this.#signal?.aborted === true;
  }

  /** The caller's signal, to pass on to a request. */
  get signal(): AbortSignal | undefined {
    return this.#signal;
  }
}

/** The running state an answer carries in `_meta`, if it is a "still running" answer. */
function runningOf(result: CallToolResult): RunningState | undefined {
  const state = result._meta?.[OPERATION_META_KEY] as RunningState | undefined;
  return state?.status === 'running' && typeof state.operation_id === 'string' ? state : undefined;
}

/** Asks the server to cancel; a failure to reach it changes nothing for the caller, who gave up. */
async function cancelQuietly(call: ToolCaller, tool: string, operationId: string): Promise<void> {
  try {
    await call({ name: tool, arguments: { operation_id: operationId } }, { timeoutMs: 10_000 });
  } catch {
    // the server is unreachable: the operation's lifetime will end it there
  }
}
