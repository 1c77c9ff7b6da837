// callToolWithContinuation on an MCP SDK v2 Client, in either protocol era: over the tasks extension
// when the server offers it on 2026-07-28 (./follow-task.ts), else the tool is called and, while it
// answers "still running", followed through continue_operation (the loop in ../follow.ts, shared
// with the v1 client).

import type { CallToolRequest, CallToolResult, Client } from '@modelcontextprotocol/client';
import { checkOptionalBoolean } from '../../validate.js';
import { type FollowOptions, followContinuation, parseFollowOptions, type ToolCaller } from '../follow.js';
import { followTask, offersTasks } from './follow-task.js';

/** Options of {@link callToolWithContinuation} on SDK v2. */
export interface ContinuationOptions extends FollowOptions {
  /**
   * Whether to follow the tool over the tasks extension (`io.modelcontextprotocol/tasks`): the call
   * declares it, and a task answer is followed with `tasks/get` at the interval the task suggests.
   * By default, yes on a 2026-07-28 client whose server offers it; `false`: never (always
   * `continue_operation`); `true`: always, and a `TypeError` where it cannot be.
   * @defaultValue as the server offers
   */
  tasks?: boolean | undefined;
}

/**
 * Calls a tool and follows it to its final result: a program on the SDK client simply awaits a
 * ten-minute tool. When the tool answers "still running", `continue_operation` long-polls follow
 * it; the answer is the tool's own final result (an `isError` result when it failed or was
 * cancelled). Works the same on a client of either era (`versionNegotiation` legacy, auto, or a
 * pin to 2026-07-28).
 *
 * Rejects with the signal's reason when `signal` aborts (after asking the server to cancel: on
 * stateless HTTP a request's own cancellation does not reach the work), with a
 * {@link ContinuationTimeoutError} past `timeoutMs`, and with a {@link ContinuationLostError}
 * when the server goes away mid-way; never hangs on a dead connection.
 */
export async function callToolWithContinuation(
  client: Client,
  params: CallToolRequest['params'],
  options?: ContinuationOptions,
): Promise<CallToolResult> {
  const follow = parseFollowOptions(options, ['tasks']);
  const tasks = checkOptionalBoolean('tasks', follow.given.tasks);
  follow.signal?.throwIfAborted();
  const offered = offersTasks(client);
  if (tasks === true && !offered) {
    throw new TypeError(
      'callToolWithContinuation({ tasks: true }) needs a client on protocol 2026-07-28 and a server that offers the io.modelcontextprotocol/tasks extension',
    );
  }
  if (offered && tasks !== false) {
    const followed = await followTask(client, params, follow);
    if (followed !== undefined) return followed as CallToolResult;
  }
  const call: ToolCaller = async (callParams, { timeoutMs, signal, onProgress }) =>
    (await client.callTool(callParams, {
      timeout: timeoutMs,
      ...(onProgress === undefined ? {} : { onprogress: onProgress }),
      ...(signal === undefined ? {} : { signal }),
    })) as never;
  return (await followContinuation(call, params, follow)) as CallToolResult;
}
