// The executor's operations seen as MCP tasks (spec revision 2025-11-25): the task id is the
// operation id, and the statuses map one to one (running is "working"), except that a tool
// result with `isError` makes its task "failed", as the spec asks for tool calls. Shared by the
// request handlers (owner from the request) and the TaskStore (owner from the session).

import {
  type CallToolResult,
  ErrorCode,
  McpError,
  RELATED_TASK_META_KEY,
  type Task,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type Executor,
  OperationNotFoundError,
  type OperationResult,
  type OperationSnapshot,
} from '../index.js';
import { describeState, finishedToolResult } from './tool-results.js';

/** How many tasks one `tasks/list` page holds. */
const TASK_PAGE_SIZE = 100;

/** A page of `tasks/list`. */
export interface TaskPage {
  /** The tasks, oldest first. */
  tasks: Task[];
  /** Pass it back for the next page; absent on the last. */
  nextCursor?: string;
}

/** The operations of one executor, answered as tasks. Every method is scoped to `owner`. */
export class OperationTasks {
  readonly #executor: Executor;
  readonly #pollInterval: number;

  /** @param pollInterval - the `pollInterval` every task suggests to clients, in milliseconds */
  constructor(executor: Executor, pollInterval: number) {
    if (executor.options.maxWait === 0) {
      // tasks/result must hold until the task ends, in waits of at most maxWait.
      throw new RangeError('Native tasks need an executor whose `maxWait` is more than 0');
    }
    this.#executor = executor;
    this.#pollInterval = pollInterval;
  }

  /** The task, or an `InvalidParams` error (the spec's answer for an unknown task id). */
  async get(taskId: string, owner: string | undefined): Promise<Task> {
    const snapshot = await this.#executor.get(taskId, { owner });
    if (snapshot === undefined) throw taskNotFound(taskId);
    return this.taskOf(snapshot, await this.#outcomeOf(snapshot, owner));
  }

  /**
   * The task's result once it is terminal: exactly what the tool call would have answered (an
   * `isError` result when it failed or was cancelled). Holds until then, in waits of `maxWait`,
   * for as long as `signal` lets it.
   */
  async result(taskId: string, owner: string | undefined, signal?: AbortSignal): Promise<CallToolResult> {
    for (;;) {
      let outcome: OperationResult;
      try {
        outcome = await this.#executor.continue(taskId, this.#executor.options.maxWait, { owner, signal });
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

  /** The owner's tasks, oldest first, a page at a time. */
  async list(owner: string | undefined, cursor: string | undefined): Promise<TaskPage> {
    const after = cursor === undefined ? undefined : parseCursor(cursor);
    const snapshots = await this.#executor.list({ owner, limit: Number.MAX_SAFE_INTEGER });
    const start =
      after === undefined
        ? 0
        : snapshots.findIndex(
            (s) => s.createdAt > after.createdAt || (s.createdAt === after.createdAt && s.id > after.id),
          );
    const page = start === -1 ? [] : snapshots.slice(start, start + TASK_PAGE_SIZE);
    const tasks = await Promise.all(
      page.map(async (snapshot) => this.taskOf(snapshot, await this.#outcomeOf(snapshot, owner))),
    );
    const last = page.at(-1);
    const more = start !== -1 && start + TASK_PAGE_SIZE < snapshots.length && last !== undefined;
    return more ? { tasks, nextCursor: cursorOf(last) } : { tasks };
  }

  /**
   * Cancels the task's work (its AbortSignal fires). A task already terminal is refused with
   * `InvalidParams`, as the spec requires.
   */
  async cancel(taskId: string, owner: string | undefined, reason: string): Promise<Task> {
    const before = await this.#executor.get(taskId, { owner });
    if (before === undefined) throw taskNotFound(taskId);
    // A task that finished first (before, or while the cancel was on its way) stays as it ended.
    const snapshot =
      before.status === 'running' ? await this.#executor.cancel(taskId, { owner, reason }) : before;
    if (snapshot.status !== 'cancelled' || before.status !== 'running') {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Cannot cancel task ${taskId}: it is already terminal (${(await this.get(taskId, owner)).status})`,
      );
    }
    return this.taskOf(snapshot, undefined);
  }

  /** What a completed operation returned (to tell a tool's `isError` result), else undefined. */
  async #outcomeOf(snapshot: OperationSnapshot, owner: string | undefined): Promise<unknown> {
    if (snapshot.status !== 'completed') return undefined;
    try {
      const outcome = await this.#executor.continue(snapshot.id, 0, { owner });
      return outcome.status === 'completed' ? outcome.result : undefined;
    } catch {
      return undefined; // retention dropped it in between: the snapshot is all there is
    }
  }

  /** The task as `snapshot` shows it, `result` being what the work returned if it completed. */
  taskOf(snapshot: OperationSnapshot, result: unknown): Task {
    const toolError = snapshot.status === 'completed' ? errorTextOf(result) : undefined;
    const status =
      snapshot.status === 'running' ? 'working' : toolError !== undefined ? 'failed' : snapshot.status;
    const message = toolError ?? (snapshot.status === 'completed' ? undefined : describeState(snapshot));
    return {
      taskId: snapshot.id,
      status,
      // The spec's ttl: how long the result is kept; running work is never dropped for it.
      ttl: this.#executor.options.retentionPeriod,
      createdAt: new Date(snapshot.createdAt).toISOString(),
      lastUpdatedAt: new Date(
        snapshot.finishedAt ?? snapshot.progress?.updatedAt ?? snapshot.startedAt,
      ).toISOString(),
      pollInterval: this.#pollInterval,
      ...(message === undefined ? {} : { statusMessage: message }),
    };
  }
}

/** `Task not found`, as the spec wants it: a JSON-RPC InvalidParams error naming the id. */
export function taskNotFound(taskId: string): McpError {
  return new McpError(ErrorCode.InvalidParams, `Task not found: ${taskId}`);
}

/** The text of a tool result with `isError` (a failed tool call), else undefined. */
function errorTextOf(result: unknown): string | undefined {
  const tool = result as Partial<CallToolResult> | null | undefined;
  if (tool === null || typeof tool !== 'object' || tool.isError !== true) return undefined;
  const text = tool.content?.find((block) => block.type === 'text');
  return text?.type === 'text' ? text.text : 'The tool reported an error.';
}

function cursorOf(snapshot: OperationSnapshot): string {
  return Buffer.from(JSON.stringify([snapshot.createdAt, snapshot.id])).toString('base64url');
}

function parseCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {
    // falls through to the error below
  }
  throw new McpError(ErrorCode.InvalidParams, `Invalid tasks/list cursor: ${JSON.stringify(cursor)}`);
}
