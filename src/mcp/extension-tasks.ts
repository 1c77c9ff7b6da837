// The executor's operations seen as tasks of the MCP tasks extension (`io.modelcontextprotocol/tasks`,
// SEP-2663, on protocol 2026-07-28): the wire shapes and what each task method answers, free of any
// SDK (the SDK v2 seams are in ./v2/tasks-extension.ts). Task id = operation id, so the same work is
// reachable through tasks/* and continue_operation alike.
//
// Not the 2025-11-25 tasks of ./v1/tasks.ts: here a tool result with `isError` is a `completed`
// task (the extension keeps `failed` for protocol-level errors), a terminal task carries its result
// inline, and there is no tasks/result or tasks/list.

import {
  type Executor,
  OperationNotFoundError,
  type OperationResult,
  type OperationSnapshot,
  type RunningResult,
} from '../index.js';
import { formatDuration } from '../results.js';
import { isOperationId } from '../validate.js';
import { responseProblem } from './input-requests.js';
import { type CallToolResult, describeState, finishedToolResult } from './tool-results.js';

/** The `pollIntervalMs` tasks suggest to clients when none is configured. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** The extension's identifier, in capabilities and in each request's declared client capabilities. */
export const TASKS_EXTENSION_ID = 'io.modelcontextprotocol/tasks';

/** Whether a request's `_meta` envelope declares the extension among its client capabilities. */
export function declaresTasksIn(envelope: Record<string, unknown> | undefined): boolean {
  const capabilities = envelope?.['io.modelcontextprotocol/clientCapabilities'] as
    | { extensions?: Record<string, unknown> }
    | undefined;
  const declared = capabilities?.extensions?.[TASKS_EXTENSION_ID];
  return declared !== null && typeof declared === 'object';
}

/** A task's status in the extension: `input_required` while the work waits for the client's input. */
export type ExtensionTaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** A task as the extension shows it (`CreateTaskResult` and `tasks/get` carry these fields flat). */
export interface ExtensionTask {
  taskId: string;
  status: ExtensionTaskStatus;
  /** Where the work stands: progress and time to go while working, why it ended otherwise. */
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  /** How long from `createdAt` the task may be kept; `null` for no limit (work without a lifetime). */
  ttlMs: number | null;
  pollIntervalMs: number;
}

/**
 * A task with what its status carries: the requests outstanding while `input_required`, the tool
 * result once `completed`, the error once `failed`.
 */
export interface DetailedExtensionTask extends ExtensionTask {
  inputRequests?: Record<string, unknown>;
  result?: CallToolResult & { resultType: 'complete' };
  error?: { code: number; message: string; data?: { code: string } };
}

/** The JSON-RPC code of a `failed` task's error: the server could not carry the work through. */
const INTERNAL_ERROR = -32603;

/**
 * The errors that make a task `failed` rather than `completed` with an `isError` result: they are
 * about the server (it lost the work, stopped it on shutdown, or could not keep its result), not
 * what the tool said or a client's cancel. The executor records a shutdown as a cancellation by
 * ExecutorStoppedError: nobody asked for it, so the task is `failed`, not `cancelled`. Matched on
 * the error's `code`, which survives every store.
 */
const SERVER_FAILURES = new Set([
  'OPERATION_INTERRUPTED',
  'REPLICA_LOST',
  'EXECUTOR_STOPPED',
  'RESULT_NOT_STORABLE',
  'STORE_FAILED',
]);

/** The extension's task methods over one executor. Every method is scoped to an owner. */
export class ExtensionTasks {
  readonly executor: Executor;
  readonly #pollIntervalMs: number;

  /** @param pollIntervalMs - the `pollIntervalMs` every task suggests to clients */
  constructor(executor: Executor, pollIntervalMs: number) {
    this.executor = executor;
    this.#pollIntervalMs = pollIntervalMs;
  }

  /**
   * The task a `tools/call` answers once its work outlives the wait: read back from the store, so
   * that the answer leaves only once a `tasks/get` of it resolves (the extension's durable create).
   * `undefined` if the store no longer has it (retention shorter than the wait).
   */
  async created(running: RunningResult, owner: string | undefined): Promise<ExtensionTask | undefined> {
    const snapshot = await this.executor.get(running.id, { owner });
    return snapshot === undefined ? undefined : this.#taskOf(snapshot);
  }

  /**
   * `tasks/get`: the task, with its result or error inline once terminal; `undefined` for an id
   * that is unknown, expired or another owner's (the three answer alike).
   */
  async get(taskId: unknown, owner: string | undefined): Promise<DetailedExtensionTask | undefined> {
    if (!isOperationId(taskId)) return undefined;
    const snapshot = await this.executor.get(taskId, { owner });
    if (snapshot === undefined) return undefined;
    const task: DetailedExtensionTask = this.#taskOf(snapshot);
    if (snapshot.status === 'running') {
      if (snapshot.inputRequests !== undefined) task.inputRequests = { ...snapshot.inputRequests };
      return task;
    }
    let outcome: OperationResult;
    try {
      outcome = await this.executor.continue(taskId, { waitMs: 0, owner });
    } catch (error) {
      if (error instanceof OperationNotFoundError) return undefined; // expired between the reads
      throw error;
    }
    // The snapshot a moment ahead of the store: working, until the outcome can be read with it.
    if (outcome.status === 'running') return { ...task, status: 'working' };
    const failure = outcome.status === 'completed' ? undefined : serverFailureOf(outcome.error);
    if (failure !== undefined && outcome.status !== 'completed') {
      task.error = { code: INTERNAL_ERROR, message: outcome.error.message, data: { code: failure } };
    } else if (outcome.status !== 'cancelled') {
      task.result = { ...finishedToolResult(outcome), resultType: 'complete' };
    }
    return task;
  }

  /**
   * `tasks/cancel`: cancels the work (its AbortSignal fires) if it is still running; `false` for an
   * unknown id. A task already terminal is acknowledged too: the extension's cancel is a request.
   */
  async cancel(taskId: unknown, owner: string | undefined): Promise<boolean> {
    if (!isOperationId(taskId)) return false;
    try {
      await this.executor.cancel(taskId, { owner, reason: 'the client cancelled the task (tasks/cancel)' });
      return true;
    } catch (error) {
      if (error instanceof OperationNotFoundError) return false;
      throw error;
    }
  }

  /** Whether the owner can see the task (`tasks/update` acknowledges only those). */
  async exists(taskId: unknown, owner: string | undefined): Promise<boolean> {
    return isOperationId(taskId) && (await this.executor.get(taskId, { owner })) !== undefined;
  }

  /**
   * `tasks/update`: hands the work the client's responses to its outstanding input requests
   * (wherever it runs); responses to keys not outstanding are ignored, as the extension says.
   * Answers `true` once taken, a message when a response has not its request's result shape
   * (nothing is taken then, and the requests stay outstanding), `undefined` for an unknown id.
   * `notResults` names the keys whose entry was no result object at all (the SDK sets them apart).
   */
  async update(
    taskId: unknown,
    inputResponses: Record<string, unknown>,
    owner: string | undefined,
    notResults: readonly string[] = [],
  ): Promise<true | string | undefined> {
    if (!isOperationId(taskId)) return undefined;
    const snapshot = await this.executor.get(taskId, { owner });
    if (snapshot === undefined) return undefined;
    const outstanding = snapshot.inputRequests ?? {};
    const wrapped = notResults.find((key) => Object.hasOwn(outstanding, key));
    if (wrapped !== undefined) {
      return `Invalid params: inputResponses[${JSON.stringify(wrapped)}]: expected the bare result object (an elicitation, sampling or roots result), got something else (a non-object, or a result wrapped in {method, result})`;
    }
    const answering = Object.keys(inputResponses).filter((key) => Object.hasOwn(outstanding, key));
    for (const key of answering) {
      const problem = responseProblem(outstanding[key], inputResponses[key]);
      if (problem !== undefined) return `Invalid params: inputResponses[${JSON.stringify(key)}]: ${problem}`;
    }
    if (answering.length === 0) return true;
    try {
      await this.executor.provideInput(
        taskId,
        Object.fromEntries(answering.map((key) => [key, inputResponses[key]])),
        { owner },
      );
    } catch (error) {
      if (error instanceof OperationNotFoundError) return undefined;
      if (error instanceof TypeError || error instanceof RangeError)
        return `Invalid params: ${error.message}`;
      throw error;
    }
    return true;
  }

  /** The task's fields as `snapshot` shows them; `get` adds the outcome for a terminal one. */
  #taskOf(snapshot: OperationSnapshot): ExtensionTask {
    const { retentionMs, maxLifetimeMs } = this.executor.options;
    const finished = snapshot.finishedAt !== undefined;
    // The extension counts the ttl from creation, the executor its retention from the end: known
    // once finished, bounded by the lifetime before that, and unlimited for work without one.
    const ttlMs = finished
      ? snapshot.finishedAt! - snapshot.startedAt + retentionMs
      : Number.isFinite(maxLifetimeMs)
        ? maxLifetimeMs + retentionMs
        : null;
    const status: ExtensionTaskStatus =
      snapshot.status === 'running'
        ? snapshot.inputRequests === undefined
          ? 'working'
          : 'input_required'
        : serverFailureOf(snapshot.error) !== undefined
          ? 'failed'
          : snapshot.status === 'cancelled'
            ? 'cancelled'
            : 'completed'; // what the call would have answered: a tool result, `isError` if it threw
    return {
      taskId: snapshot.id,
      status,
      statusMessage: statusMessageOf(snapshot),
      createdAt: new Date(snapshot.startedAt).toISOString(),
      lastUpdatedAt: new Date(
        snapshot.finishedAt ?? snapshot.progress?.updatedAt ?? snapshot.startedAt,
      ).toISOString(),
      ttlMs: ttlMs === null ? null : Math.round(ttlMs),
      pollIntervalMs: this.#pollIntervalMs,
    };
  }
}

/** Where the work stands, in a line: "running for 12 s, 40% (frame 10 of 25), about 18 s to go". */
function statusMessageOf(snapshot: OperationSnapshot): string {
  if (snapshot.inputRequests !== undefined) return waitingMessage(snapshot.inputRequests);
  const state = snapshot.resultError ?? describeState(snapshot);
  return snapshot.etaMs === undefined ? state : `${state}, about ${formatDuration(snapshot.etaMs)} to go`;
}

/** "Waiting for input: Overwrite report.pdf?", from the first request's message when it has one. */
function waitingMessage(requests: Readonly<Record<string, unknown>>): string {
  const asked = Object.values(requests);
  const message = (asked[0] as { params?: { message?: unknown } } | undefined)?.params?.message;
  const more = asked.length > 1 ? ` (and ${asked.length - 1} more)` : '';
  return typeof message === 'string'
    ? `Waiting for input: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}${more}`
    : `Waiting for input: ${asked.length === 1 ? 'one request' : `${asked.length} requests`}`;
}

/** The error's code when it makes the task `failed` (see SERVER_FAILURES), else `undefined`. */
function serverFailureOf(error: Error | undefined): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && SERVER_FAILURES.has(code) ? code : undefined;
}
