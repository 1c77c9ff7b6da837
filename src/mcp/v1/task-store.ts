// The SDK's TaskStore seam, backed by the executor, and the server options that turn native tasks
// on. With registerAsyncTools the tasks/* requests are answered by its own handlers (they know the
// authenticated owner, and tasks/result wakes when the work ends instead of polling); the store
// gives the same answers to SDK code that asks it directly, scoped by session.

import type {
  CreateTaskOptions,
  TaskStore,
} from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { ServerOptions } from '@modelcontextprotocol/sdk/server/index.js';
import type {
  Request,
  RequestId,
  Result,
  ServerCapabilities,
  Task,
} from '@modelcontextprotocol/sdk/types.js';
import type { Executor } from '../../index.js';
import { checkMilliseconds, checkOptions } from '../../validate.js';
import { DEFAULT_POLL_INTERVAL_MS } from '../extension-tasks.js';
import { ownerOfCaller } from '../owner.js';
import { OperationTasks, type TaskPage } from './tasks.js';

/** The `pollInterval` tasks suggest to clients when none is configured (the same on both SDK lines). */
export const DEFAULT_TASK_POLL_INTERVAL_MS = DEFAULT_POLL_INTERVAL_MS;
const STORE_KEYS = new Set(['pollIntervalMs']);

/** The server capability that advertises tasks for tool calls, with tasks/list and tasks/cancel. */
export const TASK_CAPABILITIES: NonNullable<ServerCapabilities['tasks']> = Object.freeze({
  list: {},
  cancel: {},
  requests: { tools: { call: {} } },
});

/**
 * An MCP `TaskStore` whose tasks are the executor's operations: task id = operation id, status
 * `working` while running. Tasks are created by long-running tools (see `registerAsyncTools`), and
 * finished by the executor: `createTask` and `storeTaskResult` refuse. `updateTaskStatus` accepts
 * `cancelled` only, and cancels the work itself (its AbortSignal fires).
 *
 * Owner: the session (`session:<id>`, else `"anonymous"`), as `defaultOwner` decides without an
 * authenticated client.
 */
export class ExecutorTaskStore implements TaskStore {
  readonly #tasks: OperationTasks;

  /** @param options.pollIntervalMs - the `pollInterval` tasks suggest (default 1000) */
  constructor(executor: Executor, options?: { pollIntervalMs?: number | undefined }) {
    const o = checkOptions('the options of new ExecutorTaskStore()', options, STORE_KEYS);
    const pollIntervalMs = checkMilliseconds(
      'pollIntervalMs',
      o.pollIntervalMs ?? DEFAULT_TASK_POLL_INTERVAL_MS,
    );
    this.#tasks = new OperationTasks(executor, pollIntervalMs);
  }

  /** Refuses: tasks are the operations that long-running tools start. */
  async createTask(
    _taskParams: CreateTaskOptions,
    _requestId: RequestId,
    request: Request,
    _sessionId?: string,
  ): Promise<Task> {
    throw new Error(
      `ExecutorTaskStore creates no tasks by itself (asked for ${request.method}): register the tool through registerAsyncTools(...).registerTool()`,
    );
  }

  async getTask(taskId: string, sessionId?: string): Promise<Task | null> {
    try {
      return await this.#tasks.get(taskId, ownerOfCaller({ sessionId }));
    } catch {
      return null;
    }
  }

  /** Refuses: the executor records every result. */
  async storeTaskResult(taskId: string): Promise<void> {
    throw new Error(
      `ExecutorTaskStore takes no results from outside: task ${taskId} ends when its work does`,
    );
  }

  /** The result of a terminal task (held until the task ends, should it still be working). */
  async getTaskResult(taskId: string, sessionId?: string): Promise<Result> {
    return this.#tasks.result(taskId, ownerOfCaller({ sessionId }));
  }

  async updateTaskStatus(
    taskId: string,
    status: Task['status'],
    statusMessage?: string,
    sessionId?: string,
  ): Promise<void> {
    if (status !== 'cancelled') {
      throw new Error(
        `ExecutorTaskStore only moves a task to "cancelled" (asked for "${status}"): the executor settles it otherwise`,
      );
    }
    await this.#tasks.cancel(taskId, ownerOfCaller({ sessionId }), statusMessage ?? 'the task was cancelled');
  }

  async listTasks(cursor?: string, sessionId?: string): Promise<TaskPage> {
    return this.#tasks.list(ownerOfCaller({ sessionId }), cursor);
  }
}

/**
 * `McpServer` options with native tasks on: an {@link ExecutorTaskStore} for `executor` and the
 * tasks capability for tool calls, merged into `options`.
 *
 * ```ts
 * const server = new McpServer({ name: 'render', version: '1.0.0' }, withTasks(executor));
 * const tools = registerAsyncTools(server, executor); // long-running tools now accept params.task
 * ```
 */
export function withTasks(executor: Executor, options?: ServerOptions): ServerOptions {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(
      `Expected the server options given to withTasks() to be an object, got ${typeof options}`,
    );
  }
  const given = (options ?? {}) as ServerOptions;
  return {
    ...given,
    taskStore: new ExecutorTaskStore(executor),
    capabilities: { ...given.capabilities, tasks: { ...given.capabilities?.tasks, ...TASK_CAPABILITIES } },
  };
}
