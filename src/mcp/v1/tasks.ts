// The executor's operations seen as MCP tasks (spec revision 2025-11-25): the task id is the
// operation id, and the statuses map one to one (running is "working"), except that a tool
// result with `isError` makes its task "failed", as the spec asks for tool calls (the record keeps
// that error's text, so a task is one store read). Shared by the
// request handlers (owner from the request) and the TaskStore (owner from the session).

import { ErrorCode, McpError, RELATED_TASK_META_KEY, type Task } from '@modelcontextprotocol/sdk/types.js';
import {
  type CancelOutcome,
  type Executor,
  OperationNotFoundError,
  type OperationPage,
  type OperationResult,
  type OperationSnapshot,
} from '../../index.js';
import { describeValue, isOperationId, shownId } from '../../validate.js';
import { type CallToolResult, describeState, finishedToolResult } from '../tool-results.js';

/** How many tasks one `tasks/list` page holds. */
const TASK_PAGE_SIZE = 100;

/** A page of `tasks/list`. */
export interface TaskPage {
  /** The tasks, newest first. */
  tasks: Task[];
  /** Pass it back for the next page; absent on the last. */
  nextCursor?: string;
}

/** The operations of one executor, answered as tasks. Every method is scoped to `owner`. */
export class OperationTasks {
  readonly #executor: Executor;
  readonly #pollIntervalMs: number;

  /** @param pollIntervalMs - the `pollInterval` every task suggests to clients */
  constructor(executor: Executor, pollIntervalMs: number) {
    if (executor.options.maxWaitMs === 0) {
      // tasks/result must hold until the task ends, in waits of at most maxWaitMs.
      throw new RangeError('Native tasks need an executor whose `maxWaitMs` is more than 0');
    }
    this.#executor = executor;
    this.#pollIntervalMs = pollIntervalMs;
  }

  /** The task (one store read), or an `InvalidParams` error (the spec's answer for an unknown task id). */
  async get(taskId: string, owner: string | undefined): Promise<Task> {
    const snapshot = await this.#executor.get(checkTaskId(taskId), { owner });
    if (snapshot === undefined) throw taskNotFound(taskId);
    return this.taskOf(snapshot);
  }

  /**
   * The task's result once it is terminal: exactly what the tool call would have answered (an
   * `isError` result when it failed or was cancelled). Holds until then, in waits of `maxWaitMs`,
   * for as long as `signal` lets it.
   */
  async result(taskId: string, owner: string | undefined, signal?: AbortSignal): Promise<CallToolResult> {
    const waitMs = this.#executor.options.maxWaitMs;
    for (;;) {
      let outcome: OperationResult;
      try {
        outcome = await this.#executor.continue(checkTaskId(taskId), { waitMs, owner, signal });
      } catch (error) {
        throw error instanceof OperationNotFoundError ? taskNotFound(taskId) : error;
      }
      if (outcome.status !== 'running') {
        const result = finishedToolResult(outcome);
        return { ...result, _meta: { ...result._meta, [RELATED_TASK_META_KEY]: { taskId } } };
      }
      if (signal?.aborted === true) throw new McpError(ErrorCode.InvalidRequest, 'Request cancelled');
    }
  }

  /**
   * The owner's tasks, newest first, a page at a time. An unidentified caller (no owner) gets none:
   * the unowned tasks are every stranger's, reachable by their id alone.
   */
  async list(owner: string | undefined, cursor: string | undefined): Promise<TaskPage> {
    if (owner === undefined) return { tasks: [] };
    let page: OperationPage;
    try {
      page = await this.#executor.list({ owner, limit: TASK_PAGE_SIZE, cursor });
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      // Shown shortened: a cursor is the client's to send, megabytes included.
      throw new McpError(
        ErrorCode.InvalidParams,
        `Invalid tasks/list cursor ${describeValue(cursor)}: not the nextCursor of an earlier page`,
      );
    }
    const tasks = page.operations.map((snapshot) => this.taskOf(snapshot));
    return page.nextCursor === undefined ? { tasks } : { tasks, nextCursor: page.nextCursor };
  }

  /**
   * Cancels the task's work (its AbortSignal fires). A task already terminal is refused with
   * `InvalidParams`, as the spec requires.
   */
  async cancel(taskId: string, owner: string | undefined, reason: string): Promise<Task> {
    let outcome: CancelOutcome;
    try {
      outcome = await this.#executor.cancel(checkTaskId(taskId), { owner, reason });
    } catch (error) {
      throw error instanceof OperationNotFoundError ? taskNotFound(taskId) : error;
    }
    const task = this.taskOf(outcome.operation);
    if (!outcome.cancelled) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Cannot cancel task ${task.taskId}: it is already terminal (${task.status})`,
      );
    }
    return task;
  }

  /** The task as `snapshot` shows it: a tool result with `isError` makes it `failed`. */
  taskOf(snapshot: OperationSnapshot): Task {
    const toolError = snapshot.status === 'completed' ? snapshot.resultError : undefined;
    const status =
      snapshot.status === 'running' ? 'working' : toolError !== undefined ? 'failed' : snapshot.status;
    const message = toolError ?? (snapshot.status === 'completed' ? undefined : describeState(snapshot));
    return {
      taskId: snapshot.id,
      status,
      // The spec's ttl: how long the result is kept; running work is never dropped for it.
      ttl: this.#executor.options.retentionMs,
      createdAt: new Date(snapshot.startedAt).toISOString(),
      lastUpdatedAt: new Date(
        snapshot.finishedAt ?? snapshot.progress?.updatedAt ?? snapshot.startedAt,
      ).toISOString(),
      pollInterval: this.#pollIntervalMs,
      ...(message === undefined ? {} : { statusMessage: message }),
    };
  }
}

/** `taskId` if it could be one of ours, else the spec's unknown-task error. */
function checkTaskId(taskId: string): string {
  if (!isOperationId(taskId)) throw taskNotFound(taskId);
  return taskId;
}

/** `Task not found`, as the spec wants it: a JSON-RPC InvalidParams error naming the id (shortened). */
export function taskNotFound(taskId: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Task not found: ${shownId(String(taskId))}`);
}
