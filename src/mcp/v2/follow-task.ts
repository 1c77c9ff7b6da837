// callToolWithContinuation over the tasks extension (io.modelcontextprotocol/tasks), for a v2 Client
// on 2026-07-28 whose server offers it: the tool is called declaring the extension and, when it
// answers with a task, its end is awaited on a subscriptions/listen stream while tasks/get polls
// every pollIntervalMs (for a server that does not take the subscription). The requests go out raw
// beside the Client (./raw-requests.ts), which refuses task results itself.

import { type Client, ProtocolError } from '@modelcontextprotocol/client';
import { delay, isAbortError } from 'abort-controller-x';
import { TASKS_EXTENSION_ID } from '../extension-tasks.js';
import { ContinuationLostError, type ParsedFollow, type ToolCallParams } from '../follow.js';
import { type CallToolResult, errorToolResult } from '../tool-results.js';
import { type Envelope, type RawRequest, RawRequests, type RawResponse } from './raw-requests.js';

/** The first call holds for the tool's own wait budget, at most a client's usual minute, plus a margin. */
const FIRST_CALL_TIMEOUT_MS = 90_000;
/** A tasks/get answers at once: longer than this, and the server is taken for lost. */
const POLL_TIMEOUT_MS = 30_000;
/** The poll interval when a task suggests none (what the official client does too). */
const DEFAULT_POLL_MS = 1000;
/** The least interval taken from a server: a task suggesting less does not make us spin. */
const MIN_POLL_MS = 10;

/** The fields of a task this follower reads (SEP-2663's `DetailedTask`). */
interface WireTask {
  taskId: string;
  status: string;
  statusMessage?: string;
  pollIntervalMs?: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** Whether `client` can follow `params` as a task: 2026-07-28, and a server that offers the extension. */
export function offersTasks(client: Client): boolean {
  if (client.getProtocolEra() !== 'modern') return false;
  const offered = client.getServerCapabilities()?.extensions?.[TASKS_EXTENSION_ID];
  // An empty object is support; settings the extension does not define are not ours to accept.
  return offered !== null && typeof offered === 'object' && Object.keys(offered).length === 0;
}

/**
 * Calls the tool declaring the extension; the tool's result as it came, or, for a task, the
 * result it ends with (an `isError` result when it failed or was cancelled). `undefined` when the
 * server asks for input first (`input_required`, before any work): the Client's own callTool
 * knows those round trips, so the caller calls the tool that way instead.
 */
export async function followTask(
  client: Client,
  params: ToolCallParams,
  follow: ParsedFollow,
): Promise<CallToolResult | undefined> {
  const raw = RawRequests.of(client);
  const envelope = raw.envelope ?? (await envelopeOf(client, raw));
  const token = follow.onProgress === undefined ? undefined : raw.progressToken();
  const onProgress = follow.onProgress;
  const stopProgress =
    token === undefined || onProgress === undefined
      ? undefined
      : raw.onProgress(token, ({ progress, total, message }) =>
          onProgress({
            progress: progress as number,
            ...(typeof total === 'number' ? { total } : {}),
            ...(typeof message === 'string' ? { message } : {}),
          }),
        );
  let answer: Record<string, unknown>;
  try {
    answer = resultOf(
      await raw.send(
        request(
          'tools/call',
          { ...params, _meta: { ...params._meta, ...(token === undefined ? {} : { progressToken: token }) } },
          envelope,
        ),
        { signal: AbortSignal.timeout(FIRST_CALL_TIMEOUT_MS) },
      ),
    );
  } finally {
    stopProgress?.();
  }
  if (answer.resultType === 'input_required') return undefined;
  if (answer.resultType !== 'task') return toolResultOf(answer);

  let task = answer as unknown as WireTask;
  const { taskId } = task;
  const headers = { 'mcp-name': taskId };
  const cancel = async () => {
    await raw
      .send(request('tasks/cancel', { taskId }, envelope), { signal: AbortSignal.timeout(10_000), headers })
      .catch(() => undefined); // the server is unreachable: the task's lifetime will end it there
  };
  // Listening, the end is heard the moment it happens; polling stays, for a server that does not
  // take the subscription (its acknowledgement leaves the task out, or it refuses the listen).
  const heard = new TaskListener(
    raw,
    request('subscriptions/listen', { notifications: { taskIds: [taskId] } }, envelope),
    taskId,
  );
  try {
    let fetched = false;
    for (;;) {
      const left = await follow.limits.timeLeft(taskId, cancel);
      const ended = heard.task ?? (fetched && task.status !== 'working' ? task : undefined);
      if (ended !== undefined) {
        try {
          return outcomeOf(ended);
        } catch (error) {
          await cancel(); // a task this client cannot finish is not left running
          throw error;
        }
      }
      if (task.status === 'working') {
        await heard.wait(follow.signal, Math.min(pollIntervalOf(task), left));
        if (heard.task !== undefined || follow.limits.aborted) continue;
      }
      let response: RawResponse;
      try {
        response = await raw.send(request('tasks/get', { taskId }, envelope), {
          signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
          headers,
        });
      } catch (error) {
        throw new ContinuationLostError(taskId, error);
      }
      if (response.kind === 'error') {
        const { code, message, data } = response.error;
        throw new ContinuationLostError(taskId, new ProtocolError(code, message, data));
      }
      task = response.result as unknown as WireTask;
      fetched = true;
    }
  } finally {
    heard.close();
  }
}

/** A subscriptions/listen for one task: holds the task once a notification says it ended. */
class TaskListener {
  /** The ended task, as its notification carried it. */
  task: WireTask | undefined;
  readonly #stream = new AbortController();
  #wake: (() => void) | undefined;

  constructor(raw: RawRequests, listen: RawRequest, taskId: string) {
    raw
      .send(listen, {
        signal: this.#stream.signal,
        onNotification: (message) => {
          const params = message.params as WireTask | undefined;
          if (message.method !== 'notifications/tasks' || params?.taskId !== taskId) return;
          if (params.status === 'working') return;
          this.task = params;
          this.#wake?.();
        },
      })
      .catch(() => undefined); // refused, or closed by us: polling carries on
  }

  /** Waits `ms`, or less: until the task is heard to end, or `signal` aborts. */
  async wait(signal: AbortSignal | undefined, ms: number): Promise<void> {
    if (this.task !== undefined) return;
    // One controller per nap, woken by the notification or the caller's signal (a listener taken
    // off again, where AbortSignal.any would tie a new signal to a long-lived one at every poll).
    const nap = new AbortController();
    const wake = () => nap.abort();
    this.#wake = wake;
    signal?.addEventListener('abort', wake, { once: true });
    if (signal?.aborted === true) wake();
    try {
      await delay(nap.signal, ms);
    } catch (error) {
      if (!isAbortError(error)) throw error;
    } finally {
      this.#wake = undefined;
      signal?.removeEventListener('abort', wake);
    }
  }

  close(): void {
    this.#stream.abort();
  }
}

/** The envelope the Client sends: one request of its own makes it known (`server/discover`, small). */
async function envelopeOf(client: Client, raw: RawRequests): Promise<Envelope> {
  await client.discover();
  const envelope = raw.envelope;
  if (envelope === undefined) throw new Error('The client sent no 2026-07-28 request envelope to copy');
  return envelope;
}

/** A raw request with the Client's envelope, declaring the tasks extension besides its capabilities. */
function request(method: string, params: object, envelope: Envelope): RawRequest {
  const key = 'io.modelcontextprotocol/clientCapabilities';
  const capabilities = (envelope[key] ?? {}) as { extensions?: Record<string, unknown> };
  const { _meta, ...rest } = params as { _meta?: Record<string, unknown> };
  return {
    method,
    params: {
      ...rest,
      _meta: {
        ..._meta,
        ...envelope,
        [key]: { ...capabilities, extensions: { ...capabilities.extensions, [TASKS_EXTENSION_ID]: {} } },
      },
    },
  };
}

/** The result of a response, or its error thrown as the Client would have thrown it. */
function resultOf(response: RawResponse): Record<string, unknown> {
  if (response.kind === 'error') {
    const { code, message, data } = response.error;
    throw new ProtocolError(code, message, data);
  }
  return response.result;
}

/** A tool result as the Client's callTool hands it out: without the wire's `resultType`. */
function toolResultOf(result: Record<string, unknown>): CallToolResult {
  const { resultType: _, ...rest } = result;
  return rest as unknown as CallToolResult;
}

function pollIntervalOf(task: WireTask): number {
  const suggested = task.pollIntervalMs;
  return typeof suggested === 'number' && Number.isFinite(suggested)
    ? Math.max(MIN_POLL_MS, suggested)
    : DEFAULT_POLL_MS;
}

/** What a terminal task ends the call with: its tool result, or an `isError` result saying why not. */
function outcomeOf(task: WireTask): CallToolResult {
  const state = { status: task.status, operation_id: task.taskId };
  switch (task.status) {
    case 'completed':
      if (task.result !== undefined) return toolResultOf(task.result);
      return errorToolResult(`Task ${task.taskId} completed without a result`, state);
    case 'failed':
      return errorToolResult(
        `Task ${task.taskId} failed: ${task.error?.message ?? task.statusMessage ?? 'no reason given'}`,
        state,
      );
    case 'cancelled':
      return errorToolResult(
        `Task ${task.taskId} was cancelled${task.statusMessage === undefined ? '' : ` (${task.statusMessage})`}.`,
        state,
      );
    case 'input_required':
      throw new Error(
        `Task ${task.taskId} asks for input (input_required), which callToolWithContinuation cannot give: follow it with @modelcontextprotocol/ext-tasks and an onInputRequest handler`,
      );
    default:
      throw new Error(
        `Task ${task.taskId} has a status this client does not know: ${JSON.stringify(task.status)}`,
      );
  }
}
