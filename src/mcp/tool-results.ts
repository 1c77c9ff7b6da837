// Turns the executor's answers into MCP tool results, written for a model to read: what happened,
// and what to call next. Written once for both SDK lines: a tool result is the same JSON in both,
// so it is typed here by its shape (each SDK's adapter hands it over as its own CallToolResult).

import {
  OperationCancelledError,
  type OperationResult,
  type OperationSnapshot,
  type Progress,
  type RunningResult,
} from '../index.js';
import { formatDuration, percentOf } from '../results.js';

/** One block of a tool result's `content` (text, image, audio, a resource...), by its shape. */
export interface ContentBlock {
  /** `"text"`, `"image"`, `"audio"`, `"resource"`, `"resource_link"`. */
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A tool result (`CallToolResult` in both SDK lines), by its shape. */
export interface CallToolResult {
  /** What the model reads. */
  content: ContentBlock[];
  /** The result as data, matching the tool's output schema when it has one. */
  structuredContent?: Record<string, unknown> | undefined;
  /** Set when the tool reports an error (the model reads why in `content`). */
  isError?: boolean | undefined;
  /** Metadata; answers about an operation carry its state under {@link OPERATION_META_KEY}. */
  _meta?: Record<string, unknown> | undefined;
  [field: string]: unknown;
}

/** The key under `_meta` where every answer about an operation carries its machine-readable state. */
export const OPERATION_META_KEY = 'io.github.mcp-async/operation';

/** The tool names a "running" answer tells the model to call. */
export interface ToolNames {
  /** @defaultValue "continue_operation" */
  readonly continue: string;
  /** @defaultValue "cancel_operation" */
  readonly cancel: string;
  /** @defaultValue "list_operations" */
  readonly list: string;
}

/** The machine-readable state of a running operation (`structuredContent` of a running answer). */
export interface RunningState {
  /** Always `running`: finished operations answer with their own result. */
  readonly status: 'running';
  /** The id to pass to `continue_operation` and `cancel_operation`. */
  readonly operation_id: string;
  /** The tool (or operation type) that started it. */
  readonly operation_type: string;
  /** Milliseconds since it started. */
  readonly elapsed_ms: number;
  /** Milliseconds still to go, when progress or past runs allow an estimate. */
  readonly eta_ms?: number;
  /** The latest progress the work reported. */
  readonly progress?: {
    /** Work done, in the unit of `total`. */
    current: number;
    /** Total work, when known. */
    total?: number;
    /** What is happening now. */
    message?: string;
  };
  /** A one-line account of where it stands. */
  readonly message: string;
}

function progressJson(progress: Progress): NonNullable<RunningState['progress']> {
  return {
    current: progress.current,
    ...(progress.total === undefined ? {} : { total: progress.total }),
    ...(progress.message === undefined ? {} : { message: progress.message }),
  };
}

function progressText(progress: Progress | undefined): string {
  if (progress === undefined) return '';
  const share = percentOf(progress) ?? `${progress.current} done`;
  return `, ${share}${progress.message === undefined ? '' : `: ${progress.message}`}`;
}

/**
 * The answer while an operation runs. `structured` is false for a tool with an `outputSchema`: the
 * SDK (server and client) would reject `structuredContent` that does not match it, so there the
 * answer is an `isError` result that says plainly it is not a failure, and the state rides in
 * `_meta` only.
 */
export function runningToolResult(
  result: RunningResult,
  names: ToolNames,
  structured: boolean,
): CallToolResult {
  const state: RunningState = {
    status: 'running',
    operation_id: result.id,
    operation_type: result.type,
    elapsed_ms: Math.round(result.elapsedMs),
    ...(result.progress === undefined ? {} : { progress: progressJson(result.progress) }),
    ...(result.etaMs === undefined ? {} : { eta_ms: result.etaMs }),
    message: result.message,
  };
  const text =
    `The operation is still running (${result.type}, ${formatDuration(result.elapsedMs)} elapsed${progressText(result.progress)}` +
    `${result.etaMs === undefined ? '' : `, about ${formatDuration(result.etaMs)} to go`}). ` +
    (result.backgroundReason === undefined
      ? ''
      : `It went to the background at once: ${result.backgroundReason}. `) +
    (result.inputRequests === undefined
      ? ''
      : 'It waits for input: a request not answered yet, which its client answers through the tasks extension (tasks/update). ') +
    `This is not a failure: the work goes on in the background. Call \`${names.continue}\` with ` +
    `operation_id "${result.id}" to wait for its result; call \`${names.cancel}\` with the same id to stop it.`;
  const answer: CallToolResult = {
    content: [{ type: 'text', text }],
    _meta: { [OPERATION_META_KEY]: state },
  };
  if (structured) answer.structuredContent = { ...state };
  else answer.isError = true;
  return answer;
}

/** A tool error: an `isError` result with one text. */
export function errorToolResult(text: string, state?: Record<string, unknown>): CallToolResult {
  return {
    content: [{ type: 'text', text }],
    isError: true,
    ...(state === undefined ? {} : { _meta: { [OPERATION_META_KEY]: state } }),
  };
}

/**
 * The failures that leave the work's outcome unknown: the process running it died (a crash on a
 * durable store, a lost replica) part-way through. Their answer says so, so that a model checks
 * before it runs work with side effects a second time.
 */
const OUTCOME_UNKNOWN = new Set<unknown>(['OPERATION_INTERRUPTED', 'REPLICA_LOST']);

/**
 * A finished operation's answer: its own tool result when it completed (exactly what a
 * synchronous call returns), an error result when it failed or was cancelled.
 */
export function finishedToolResult(result: Exclude<OperationResult<unknown>, RunningResult>): CallToolResult {
  switch (result.status) {
    case 'completed':
      return asToolResult(result.result);
    case 'failed': {
      const state = { status: 'failed', operation_id: result.id, operation_type: result.type };
      if (!OUTCOME_UNKNOWN.has((result.error as { code?: unknown }).code)) {
        return errorToolResult(result.error.message, state);
      }
      return errorToolResult(
        `${result.error.message}. The work may or may not have happened: it was cut off part-way, and it is not run again by itself. Check what it was to do (its effects) before you call the tool again.`,
        { ...state, outcome: 'unknown' },
      );
    }
    case 'cancelled':
      return errorToolResult(
        `The operation${result.id === undefined ? '' : ` ${result.id}`} (${result.type}) was cancelled${whyCancelled(result.error)}.`,
        { status: 'cancelled', operation_id: result.id, operation_type: result.type },
      );
  }
}

/**
 * A completed operation's result as a tool result: itself when it is one (the operation was a
 * long-running tool's), else its JSON as text (an operation started through the Executor directly).
 */
function asToolResult(value: unknown): CallToolResult {
  if (toolResultProblem(value) === undefined) return value as CallToolResult;
  const text = value === undefined ? 'The operation completed.' : JSON.stringify(value);
  const structured = value !== null && typeof value === 'object' && !Array.isArray(value);
  return {
    content: [{ type: 'text', text }],
    ...(structured ? { structuredContent: value as Record<string, unknown> } : {}),
  };
}

/**
 * Checks what a long-running tool's handler returned: a valid CallToolResult is kept as it is;
 * anything else becomes an error result naming the problem (a plain tool returning it would have
 * broken the client instead).
 */
export function checkHandlerResult(toolName: string, value: unknown): CallToolResult {
  const problem = toolResultProblem(value);
  if (problem === undefined) return value as CallToolResult;
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return errorToolResult(
    `Tool ${toolName} returned an invalid result (${got}); a tool must return { content: [...] }: ${problem}`,
  );
}

/**
 * What keeps `value` from being a tool result, or `undefined` when it is one: an object whose
 * `content` is an array of blocks with a string `type`, and whose `isError`, `structuredContent`
 * and `_meta`, when present, are a boolean and objects. (Each SDK checks the blocks further when
 * it sends the result.)
 */
function toolResultProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'it is not an object';
  const { content, isError, structuredContent, _meta } = value;
  if (!Array.isArray(content)) return '`content` is not an array';
  const bad = content.findIndex((block) => !isObject(block) || typeof block.type !== 'string');
  if (bad !== -1) return `\`content[${bad}]\` is not a block with a \`type\``;
  if (isError !== undefined && typeof isError !== 'boolean') return '`isError` is not a boolean';
  if (structuredContent !== undefined && !isObject(structuredContent))
    return '`structuredContent` is not an object';
  if (_meta !== undefined && !isObject(_meta)) return '`_meta` is not an object';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** ` (reason)` for a cancellation through `cancel()`, `: message` for any other cause (a stop). */
function whyCancelled(error: Error | undefined): string {
  if (error instanceof OperationCancelledError) return error.reason === undefined ? '' : ` (${error.reason})`;
  return error === undefined ? '' : `: ${error.message}`;
}

/** Where an operation stands, in words: `running for 3 s, 40% (4/10): parsing`. */
export function describeState(snapshot: OperationSnapshot): string {
  const when = formatDuration(snapshot.elapsedMs);
  return snapshot.status === 'running'
    ? `running for ${when}${progressText(snapshot.progress)}`
    : snapshot.status === 'cancelled'
      ? `cancelled after ${when}${whyCancelled(snapshot.error)}`
      : `${snapshot.status} after ${when}${snapshot.error === undefined ? '' : `: ${snapshot.error.message}`}`;
}

/** One line per operation for `list_operations`. */
export function describeSnapshot(snapshot: OperationSnapshot): string {
  return `- ${snapshot.id} (${snapshot.type}): ${describeState(snapshot)}`;
}

/** The JSON form of a snapshot in `structuredContent`. */
export function snapshotJson(snapshot: OperationSnapshot): Record<string, unknown> {
  return {
    operation_id: snapshot.id,
    operation_type: snapshot.type,
    status: snapshot.status,
    started_at: new Date(snapshot.startedAt).toISOString(),
    elapsed_ms: Math.round(snapshot.elapsedMs),
    ...(snapshot.finishedAt === undefined
      ? {}
      : { finished_at: new Date(snapshot.finishedAt).toISOString() }),
    ...(snapshot.progress === undefined ? {} : { progress: progressJson(snapshot.progress) }),
    ...(snapshot.error === undefined ? {} : { error: snapshot.error.message }),
  };
}
