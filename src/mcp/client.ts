import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  type CallToolResult,
  CallToolResultSchema,
  CreateTaskResultSchema,
  ErrorCode,
  McpError,
  RELATED_TASK_META_KEY,
} from '@modelcontextprotocol/sdk/types.js';
import { McpAsyncError } from '../errors.js';
import {
  checkMilliseconds,
  checkOptionalBoolean,
  checkOptionalSignal,
  checkOptionalString,
  checkOptions,
  describeValue,
} from '../validate.js';
import { OPERATION_META_KEY, type RunningState, type ToolNames } from './tool-results.js';

/** Options of {@link callToolWithContinuation}. */
export interface ContinuationOptions {
  /** Progress of the operation, from the first call and from every continuation. */
  onProgress?: RequestOptions['onprogress'] | undefined;
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
   * How long each long-poll (`continue_operation`, or `tasks/result`) asks the server to wait.
   * @defaultValue 30_000
   */
  waitMs?: number | undefined;
  /**
   * The server's names for the generic tools, if it renamed them.
   * @defaultValue `{ continue: 'continue_operation', cancel: 'cancel_operation' }`
   */
  toolNames?: Partial<Pick<ToolNames, 'continue' | 'cancel'>> | undefined;
  /**
   * Whether to call the tool as a native MCP task (`params.task`, then `tasks/result`) instead of
   * following `continue_operation`. By default, yes when the server offers tasks for tool calls and
   * lists this tool with `execution.taskSupport` `optional` or `required` (the tool list is read
   * once per client, and again for a tool it did not hold). `false`: never; `true`: always.
   * @defaultValue as the server offers
   */
  tasks?: boolean | undefined;
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

/** The connection to the server failed while following an operation (the server went away or restarted). */
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

/**
 * Calls a tool and follows it to its final result: a program on the SDK client simply awaits a
 * ten-minute tool. On a server that offers native tasks for the tool, as a task (`tasks/result`
 * long-polls); elsewhere, when the tool answers "still running", through `continue_operation`
 * long-polls. Answers the tool's own final result (an `isError` result when it failed or was
 * cancelled), the same either way.
 *
 * Rejects with the signal's reason when `signal` aborts (after asking the server to cancel), with a
 * {@link ContinuationTimeoutError} past `timeoutMs`, and with a {@link ContinuationLostError} when
 * the server goes away mid-way; never hangs on a dead connection.
 */
export async function callToolWithContinuation(
  client: Client,
  params: CallToolRequest['params'],
  options?: ContinuationOptions,
): Promise<CallToolResult> {
  const o = checkOptions('the options of callToolWithContinuation()', options, OPTION_KEYS);
  const timeoutMs =
    o.timeoutMs === undefined
      ? undefined
      : checkMilliseconds('timeoutMs', o.timeoutMs, Number.MAX_SAFE_INTEGER);
  // The model-facing wait_seconds accepts at most an hour.
  const waitMs = checkMilliseconds('waitMs', o.waitMs ?? 30_000, 3_600_000);
  const givenNames = checkOptions('`toolNames` of callToolWithContinuation()', o.toolNames, TOOL_NAME_KEYS);
  const names = {
    continue: checkOptionalString('toolNames.continue', givenNames.continue) ?? 'continue_operation',
    cancel: checkOptionalString('toolNames.cancel', givenNames.cancel) ?? 'cancel_operation',
  };
  const signal = checkOptionalSignal('signal', o.signal);
  const onProgress = o.onProgress as RequestOptions['onprogress'] | undefined;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`Expected \`onProgress\` to be a function, got ${describeValue(onProgress)}`);
  }
  const limits = new FollowLimits(signal, timeoutMs);
  // Each request may take its long-poll plus a margin; progress resets nothing here.
  const requestOptions = (requestWaitMs: number, withSignal: boolean): RequestOptions => ({
    timeout: requestWaitMs + 30_000,
    ...(onProgress === undefined ? {} : { onprogress: onProgress }),
    ...(withSignal && signal !== undefined ? { signal } : {}),
  });

  const useTasks = checkOptionalBoolean('tasks', o.tasks);
  signal?.throwIfAborted();
  if (useTasks ?? (await offersTask(client, params.name))) {
    return followTask(client, params, onProgress, limits, waitMs);
  }
  let result = CallToolResultSchema.parse(
    await client.callTool(params, undefined, requestOptions(60_000, false)),
  );
  for (let state = runningOf(result); state !== undefined; state = runningOf(result)) {
    const id = state.operation_id;
    const left = await limits.timeLeft(id, () => cancelQuietly(client, names.cancel, id));
    const wait = Math.min(waitMs, left);
    try {
      result = CallToolResultSchema.parse(
        await client.callTool(
          { name: names.continue, arguments: { operation_id: id, wait_seconds: wait / 1000 } },
          undefined,
          requestOptions(wait, true),
        ),
      );
    } catch (error) {
      if (limits.aborted) continue; // the same answer again: cancelled at the top of the loop
      throw new ContinuationLostError(id, error);
    }
  }
  return result;
}

/** Where following an operation stops early: the caller's signal, or `timeoutMs`. */
class FollowLimits {
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

/**
 * The task flow: the call answers a task at once (its progress keeps coming to `onProgress`), then
 * `tasks/result` long-polls of `waitMs` each, since a request that long might meet a proxy's or
 * a transport's limit; the server holds each until the task ends or the client's timeout cancels
 * it.
 */
async function followTask(
  client: Client,
  params: CallToolRequest['params'],
  onProgress: RequestOptions['onprogress'] | undefined,
  limits: FollowLimits,
  waitMs: number,
): Promise<CallToolResult> {
  const { task } = await client.request({ method: 'tools/call', params }, CreateTaskResultSchema, {
    task: {},
    ...(onProgress === undefined ? {} : { onprogress: onProgress }),
  });
  const taskId = task.taskId;
  for (;;) {
    const left = await limits.timeLeft(taskId, () => cancelTaskQuietly(client, taskId));
    try {
      const result = await client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema, {
        timeout: Math.max(1, Math.min(waitMs, left)),
        ...(limits.signal === undefined ? {} : { signal: limits.signal }),
      });
      return withoutRelatedTask(result);
    } catch (error) {
      if (limits.aborted) continue; // cancelled at the top of the loop
      if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) continue; // next long-poll
      throw new ContinuationLostError(taskId, error);
    }
  }
}

/** The task's result as the tool gave it: without the related-task note tasks/result adds. */
function withoutRelatedTask(result: CallToolResult): CallToolResult {
  if (result._meta?.[RELATED_TASK_META_KEY] === undefined) return result;
  const { [RELATED_TASK_META_KEY]: _related, ...meta } = result._meta;
  const { _meta, ...rest } = result;
  return Object.keys(meta).length === 0 ? rest : { ...rest, _meta: meta };
}

const OPTION_KEYS = new Set(['onProgress', 'signal', 'timeoutMs', 'waitMs', 'toolNames', 'tasks']);
const TOOL_NAME_KEYS = new Set(['continue', 'cancel']);

/** Tool task support as the server lists it, per client: refreshed for a tool not yet seen. */
const taskSupportCache = new WeakMap<Client, Map<string, string | undefined>>();

/** Whether the server offers `tool` as a task: the capability, and the tool's taskSupport. */
async function offersTask(client: Client, tool: string): Promise<boolean> {
  if (client.getServerCapabilities()?.tasks?.requests?.tools?.call === undefined) return false;
  let known = taskSupportCache.get(client);
  if (known === undefined || !known.has(tool)) {
    known = new Map();
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? undefined : { cursor });
      for (const listed of page.tools) known.set(listed.name, listed.execution?.taskSupport);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    taskSupportCache.set(client, known);
  }
  const support = known.get(tool);
  return support === 'optional' || support === 'required';
}

/** Asks the server to cancel the task; a failure to reach it changes nothing for the caller. */
async function cancelTaskQuietly(client: Client, taskId: string): Promise<void> {
  try {
    await client.experimental.tasks.cancelTask(taskId, { timeout: 10_000 });
  } catch {
    // unreachable, or the task ended meanwhile: nothing left to stop
  }
}

/** The running state an answer carries in `_meta`, if it is a "still running" answer. */
function runningOf(result: CallToolResult): RunningState | undefined {
  const state = result._meta?.[OPERATION_META_KEY] as RunningState | undefined;
  return state?.status === 'running' && typeof state.operation_id === 'string' ? state : undefined;
}

/** Asks the server to cancel; a failure to reach it changes nothing for the caller, who gave up. */
async function cancelQuietly(client: Client, tool: string, operationId: string): Promise<void> {
  try {
    await client.callTool({ name: tool, arguments: { operation_id: operationId } }, undefined, {
      timeout: 10_000,
    });
  } catch {
    // the server is unreachable: the operation's lifetime will end it there
  }
}
