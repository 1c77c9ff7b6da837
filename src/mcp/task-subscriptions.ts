// notifications/tasks on a subscriptions/listen stream (the tasks extension over the core listen of
// 2026-07-28), free of any SDK: one listen request names task ids; the server acknowledges those
// its caller may see, sends each task's DetailedTask the moment it ends, and answers the request
// once none is left. Each wait is the executor's own long-poll (continue), which wakes on the end
// of the work whether it ran here or on another replica sharing the store. The SDK v2 glue is in
// ./v2/tasks-extension.ts.

import { delay } from 'abort-controller-x';
import {
  type DetailedExtensionTask,
  declaresTasksIn,
  type ExtensionTasks,
  TASKS_EXTENSION_ID,
} from './extension-tasks.js';

/** The `_meta` key every message of a listen stream carries: the listen request's id. */
export const SUBSCRIPTION_ID_KEY = 'io.modelcontextprotocol/subscriptionId';

/** The most task ids one listen request may name. */
export const MAX_LISTENED_TASKS = 100;

/** A JSON-RPC message of a listen stream. */
export type ListenMessage = Record<string, unknown> & { jsonrpc: '2.0' };

/** One subscriptions/listen request, as its transport received it. */
export interface ListenRequest {
  id: string | number;
  params: Record<string, unknown> | undefined;
}

/** The task ids a listen request names, or `undefined` when it names none (not ours to serve). */
export function listenedTaskIds(params: unknown): unknown {
  const notifications = (params as { notifications?: { taskIds?: unknown } } | undefined)?.notifications;
  return notifications?.taskIds;
}

/**
 * Serves a listen request that names task ids for `owner`, writing every message of its stream
 * through `send`, until the last task has ended (then the request's result) or `signal` aborts
 * (the client closed the stream: nothing more is sent).
 */
export async function serveTaskListen(
  tasks: ExtensionTasks,
  request: ListenRequest,
  owner: string | undefined,
  send: (message: ListenMessage) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const { id, params } = request;
  const meta = { [SUBSCRIPTION_ID_KEY]: id };
  const refusal = refusalOf(params);
  if (refusal !== undefined) {
    await send({ jsonrpc: '2.0', id, error: refusal });
    return;
  }
  const wanted = [...new Set(listenedTaskIds(params) as string[])];
  // Only the tasks this caller may see are acknowledged: another principal's is left out, exactly
  // as an unknown one is (the ack says which ids were taken).
  const seen = await Promise.all(
    wanted.map(async (taskId) => ((await tasks.exists(taskId, owner)) ? taskId : undefined)),
  );
  const accepted = seen.filter((taskId): taskId is string => taskId !== undefined);
  await send({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: { notifications: { taskIds: accepted }, _meta: meta },
  });
  await Promise.all(
    accepted.map(async (taskId) => {
      const task = await endOf(tasks, taskId, owner, signal);
      if (task === undefined || signal.aborted) return;
      await send({ jsonrpc: '2.0', method: 'notifications/tasks', params: { ...task, _meta: meta } });
    }),
  );
  if (!signal.aborted) await send({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: meta } });
}

/** The task once it has ended; `undefined` if it expired meanwhile or the stream was closed. */
async function endOf(
  tasks: ExtensionTasks,
  taskId: string,
  owner: string | undefined,
  signal: AbortSignal,
): Promise<DetailedExtensionTask | undefined> {
  const { executor } = tasks;
  const waitMs = executor.options.maxWaitMs;
  while (!signal.aborted) {
    let outcome: Awaited<ReturnType<typeof executor.continue>>;
    try {
      outcome = await executor.continue(taskId, { waitMs, owner, signal });
    } catch {
      return undefined; // expired, or the executor stopped: no notification to send
    }
    if (outcome.status !== 'running') return tasks.get(taskId, owner);
    // An executor that allows no waits (maxWaitMs 0) answers at once: poll it instead of spinning.
    if (waitMs < 1000) await delay(signal, 1000 - waitMs).catch(() => undefined);
  }
  return undefined;
}

/** Why the request is refused (a JSON-RPC error), or `undefined`. */
function refusalOf(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!declaresTasksIn(params?._meta as Record<string, unknown> | undefined)) {
    return {
      code: -32021,
      message: `Task notifications need the client to declare the ${TASKS_EXTENSION_ID} extension in the request's client capabilities`,
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
    };
  }
  const taskIds = listenedTaskIds(params);
  if (!Array.isArray(taskIds) || taskIds.some((taskId) => typeof taskId !== 'string')) {
    return {
      code: -32602,
      message: 'Invalid params: notifications.taskIds must be an array of task id strings',
    };
  }
  if (taskIds.length > MAX_LISTENED_TASKS) {
    return {
      code: -32602,
      message: `Invalid params: notifications.taskIds names ${taskIds.length} tasks, more than the ${MAX_LISTENED_TASKS} one listen may follow`,
    };
  }
  return undefined;
}
