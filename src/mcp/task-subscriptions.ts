// notifications/tasks on a subscriptions/listen stream (the tasks extension over the core listen of
// 2026-07-28), free of any SDK: one listen request names task ids; the server acknowledges those
// its caller may see, sends each task's DetailedTask the moment it ends, and answers the request
// once none is left. Each wait is the executor's own long-poll (continue), which wakes on the end
// of the work whether it ran here or on another replica sharing the store. The SDK v2 glue is in
// ./v2/tasks-extension.ts.

import { delay } from 'abort-controller-x';
import { ExecutorStoppedError, OperationNotFoundError } from '../errors.js';
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
 * Whether a listen's filter asks for task notifications and nothing else: only then is it served
 * here. A filter that also asks for what the SDK serves (list changes, resource updates) is the
 * SDK's, which acknowledges those and leaves `taskIds` out, so that its client knows to poll.
 */
export function asksForTasksOnly(params: unknown): boolean {
  const notifications = (params as { notifications?: unknown } | undefined)?.notifications;
  if (notifications === null || typeof notifications !== 'object') return false;
  const keys = Object.keys(notifications);
  return keys.length === 1 && keys[0] === 'taskIds';
}

/**
 * The listen streams of one factory's servers. They wait with the executor's long-poll, one wait
 * per task followed, and the executor caps its waits (`maxWaiters`) for everyone: so the tasks
 * followed on open streams may hold at most half of them, and a listen past that is refused, as the
 * SDK refuses one past its own subscription limit. `continue_operation` keeps the other half.
 */
export class TaskListens {
  readonly tasks: ExtensionTasks;
  readonly #limit: number;
  #followed = 0;

  constructor(tasks: ExtensionTasks) {
    this.tasks = tasks;
    this.#limit = Math.floor(tasks.executor.options.maxWaiters / 2);
  }

  /**
   * Serves a listen request that names task ids for `owner`, writing every message of its stream
   * through `send`, until the last task has ended (then the request's result) or `signal` aborts
   * (the client closed the stream: nothing more is sent). Nothing is sent after the request's
   * result or error.
   */
  async serve(
    request: ListenRequest,
    owner: string | undefined,
    send: (message: ListenMessage) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    const { id, params } = request;
    const meta = { [SUBSCRIPTION_ID_KEY]: id };
    const refusal = listenRefusal(params);
    if (refusal !== undefined) {
      await send({ jsonrpc: '2.0', id, error: refusal });
      return;
    }
    const wanted = [...new Set(listenedTaskIds(params) as string[])];
    // Only the tasks this caller may see are acknowledged: another principal's is left out,
    // exactly as an unknown one is (the ack says which ids were taken).
    const seen = await Promise.all(
      wanted.map(async (taskId) => ((await this.tasks.exists(taskId, owner)) ? taskId : undefined)),
    );
    const accepted = seen.filter((taskId): taskId is string => taskId !== undefined);
    if (this.#followed + accepted.length > this.#limit) {
      await send({
        jsonrpc: '2.0',
        id,
        error: {
          code: -32603,
          message: `Subscription limit reached: listen streams already follow ${this.#followed} tasks, and may follow ${this.#limit} (half the executor's maxWaiters)`,
        },
      });
      return;
    }
    this.#followed += accepted.length;
    // One branch failing ends the others too: nothing may follow the request's answer.
    const stream = new AbortController();
    const ended = AbortSignal.any([signal, stream.signal]);
    try {
      await send({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: { taskIds: accepted }, _meta: meta },
      });
      const notify = async (task: DetailedExtensionTask) => {
        if (!ended.aborted)
          await send({ jsonrpc: '2.0', method: 'notifications/tasks', params: { ...task, _meta: meta } });
      };
      await Promise.all(
        accepted.map(async (taskId) => {
          const task = await endOf(this.tasks, taskId, owner, ended, notify);
          if (task !== undefined) await notify(task);
        }),
      );
    } catch (error) {
      stream.abort();
      throw error;
    } finally {
      this.#followed -= accepted.length;
    }
    if (!signal.aborted) await send({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: meta } });
  }
}

/** How long a wait that could not be had (the executor's waits are all taken) sleeps before trying again. */
const RETRY_MS = 1000;

/**
 * The task once it has ended; `undefined` if it expired meanwhile, the executor stopped, or the
 * stream was closed. On the way, each time the work asks for input the task is handed to
 * `onInputRequired` (`input_required` with its requests: the executor's wait answers as soon as
 * the work asks). A wait that fails otherwise (too many waiters, a store error) is tried again.
 */
async function endOf(
  tasks: ExtensionTasks,
  taskId: string,
  owner: string | undefined,
  signal: AbortSignal,
  onInputRequired: (task: DetailedExtensionTask) => Promise<void>,
): Promise<DetailedExtensionTask | undefined> {
  const { executor } = tasks;
  const waitMs = executor.options.maxWaitMs;
  // The input requests already sent: a wait answers at once while the work waits for others,
  // whether it asked before the wait began or during it.
  let told: string[] = [];
  while (!signal.aborted) {
    let outcome: Awaited<ReturnType<typeof executor.continue>>;
    try {
      outcome = await executor.continue(taskId, { waitMs, owner, signal, knownInput: told });
    } catch (error) {
      if (error instanceof OperationNotFoundError || error instanceof ExecutorStoppedError) return undefined;
      if (signal.aborted) return undefined;
      await delay(signal, RETRY_MS).catch(() => undefined);
      continue;
    }
    if (outcome.status !== 'running') return tasks.get(taskId, owner);
    const asked = Object.keys(outcome.inputRequests ?? {});
    const unseen = asked.some((key) => !told.includes(key));
    told = asked; // answered requests drop out
    if (unseen) {
      const task = await tasks.get(taskId, owner);
      if (task?.status === 'input_required') await onInputRequired(task);
      continue;
    }
    // An executor that allows no waits (maxWaitMs 0) answers at once: poll it instead of spinning.
    if (waitMs < RETRY_MS) await delay(signal, RETRY_MS - waitMs).catch(() => undefined);
  }
  return undefined;
}

/** A JSON-RPC error a listen is answered with. */
export interface ListenError {
  code: number;
  message: string;
  data?: unknown;
}

/** Why a listen naming task ids is refused before its stream opens (a JSON-RPC error), or `undefined`. */
export function listenRefusal(params: Record<string, unknown> | undefined): ListenError | undefined {
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
