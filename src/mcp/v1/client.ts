// callToolWithContinuation on a @modelcontextprotocol/sdk 1.x Client: as a native task (spec
// revision 2025-11-25) when the server offers one for the tool, else by following
// continue_operation (the loop in ../follow.ts, shared with the v2 client).

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type CallToolRequest,
  type CallToolResult,
  CallToolResultSchema,
  CreateTaskResultSchema,
  ErrorCode,
  McpError,
  RELATED_TASK_META_KEY,
} from '@modelcontextprotocol/sdk/types.js';
import { checkOptionalBoolean } from '../../validate.js';
import {
  ContinuationLostError,
  type FollowOptions,
  followContinuation,
  type ParsedFollow,
  parseFollowOptions,
  type ToolCaller,
} from '../follow.js';

/** Options of {@link callToolWithContinuation} on SDK 1.x. */
export interface ContinuationOptions extends FollowOptions {
  /**
   * Whether to call the tool as a native MCP task (`params.task`, then `tasks/result`) instead of
   * following `continue_operation`. By default, yes when the server offers tasks for tool calls and
   * lists this tool with `execution.taskSupport` `optional` or `required` (the tool list is read
   * once per client, and again for a tool it did not hold). `false`: never; `true`: always.
   * @defaultValue as the server offers
   */
  tasks?: boolean | undefined;
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
  const follow = parseFollowOptions(options, ['tasks']);
  const useTasks = checkOptionalBoolean('tasks', follow.given.tasks);
  follow.signal?.throwIfAborted();
  if (useTasks ?? (await offersTask(client, params.name))) return followTask(client, params, follow);
  const call: ToolCaller = async (callParams, { timeoutMs, signal, onProgress }) =>
    CallToolResultSchema.parse(
      await client.callTool(callParams, undefined, {
        timeout: timeoutMs,
        ...(onProgress === undefined ? {} : { onprogress: onProgress }),
        ...(signal === undefined ? {} : { signal }),
      }),
    );
  return (await followContinuation(call, params, follow)) as CallToolResult;
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
  { onProgress, limits, waitMs }: ParsedFollow,
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
