// Native MCP tasks on an McpServer, where the SDK 1.x falls short of what this library promises:
// - tasks/get, tasks/result, tasks/list and tasks/cancel answered from the executor, scoped to the
//   caller's owner (the SDK's own handlers know only the session, not the authenticated client);
//   tasks/result wakes when the work ends (the SDK's polls every pollInterval); tasks/cancel
//   aborts the work (the SDK's only rewrites the stored status);
// - a task's progress keeps flowing to the progressToken of the call that created it, and its end
//   is announced with notifications/tasks/status;
// - a call without params.task to a tool that declares taskSupport 'optional' answers within the
//   tool's wait budget, like any long-running tool (the SDK instead polls the task on the server
//   until it ends, holding the request past the client's timeout): see sdk-internals.ts.

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CancelTaskRequestSchema,
  GetTaskPayloadRequestSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  type Task,
} from '@modelcontextprotocol/sdk/types.js';
import type { Executor, ExecutorEvents } from '../../index.js';
import type { ProgressForwarder } from '../progress-forwarder.js';
import type { OwnerResolver } from './register.js';
import type { OperationTasks } from './tasks.js';

/** Answers tasks/get, tasks/result, tasks/list and tasks/cancel on `server` from `tasks`. */
export function installTaskHandlers(server: McpServer, tasks: OperationTasks, ownerOf: OwnerResolver): void {
  const protocol = server.server;
  protocol.setRequestHandler(GetTaskRequestSchema, async (request, extra) =>
    tasks.get(request.params.taskId, ownerOf(extra)),
  );
  protocol.setRequestHandler(GetTaskPayloadRequestSchema, async (request, extra) =>
    tasks.result(request.params.taskId, ownerOf(extra), extra.signal),
  );
  // The SDK's result type for request handlers leaves out ListTasksResult (its own handler says so).
  protocol.setRequestHandler(
    ListTasksRequestSchema,
    async (request, extra) =>
      ({
        ...(await tasks.list(ownerOf(extra), request.params?.cursor)),
      }) as never,
  );
  protocol.setRequestHandler(CancelTaskRequestSchema, async (request, extra) => ({
    ...(await tasks.cancel(request.params.taskId, ownerOf(extra), 'tasks/cancel was called')),
  }));
}

/**
 * Follows the tasks created on one server connection until they end: sends their progress to the
 * token of the call that created them, then `notifications/tasks/status` with the final state.
 * Listens to the executor only while it follows a task.
 */
export class TaskFollower {
  readonly #server: McpServer;
  readonly #executor: Executor;
  readonly #tasks: OperationTasks;
  readonly #following = new Map<string, ProgressForwarder>();
  #unsubscribe: (() => void) | undefined = undefined;

  constructor(server: McpServer, executor: Executor, tasks: OperationTasks) {
    this.#server = server;
    this.#executor = executor;
    this.#tasks = tasks;
  }

  /** Starts following `taskId`; then pass the task to {@link settled}, in case it already ended. */
  follow(taskId: string, forwarder: ProgressForwarder): void {
    this.#following.set(taskId, forwarder);
    if (this.#unsubscribe !== undefined) return;
    const onEnd = (event: ExecutorEvents['completed'] | ExecutorEvents['failed']): void => {
      this.#ended(event.operation.id, () => this.#tasks.taskOf(event.operation));
    };
    const off = ['completed', 'failed', 'cancelled'].map((type) =>
      this.#executor.on(type as 'completed', onEnd),
    );
    this.#unsubscribe = () => {
      for (const unsubscribe of off) unsubscribe();
    };
  }

  /**
   * `task`, just read, may have ended before it was followed (its event is then gone): if it did,
   * announce it now (once: an event that came meanwhile already did).
   */
  settled(task: Task): void {
    if (task.status !== 'working') this.#ended(task.taskId, () => task);
  }

  #ended(taskId: string, taskOf: () => Task): void {
    const forwarder = this.#following.get(taskId);
    if (forwarder === undefined) return;
    this.#following.delete(taskId);
    forwarder.close();
    if (this.#following.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
    }
    this.#server.server
      .notification({ method: 'notifications/tasks/status', params: taskOf() })
      .catch(() => undefined); // the client went away; tasks/get still answers
  }
}
