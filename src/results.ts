// Builds what callers see (results and snapshots) from an operation's state, whether that state
// is a live operation of this process or a record read from the store.

import type { OperationState } from './operation.js';
import type { OperationResult, OperationSnapshot, Progress } from './types.js';

/** What the executor knows besides an operation's own state. */
export interface ResultContext {
  /** How long operations of this type usually take (the learned median), for the ETA. */
  readonly expectedMs?: number | undefined;
  /** Why `execute()` sent it to the background at once. */
  readonly backgroundReason?: string | undefined;
}

/**
 * The result of an operation as it stands. `id` is `undefined` for an operation that was never
 * handed an id (it finished inside execute()'s wait and is not retained). `now` is only read for a
 * running operation.
 */
export function resultOf<T>(
  state: OperationState,
  id: string | undefined,
  now: number,
  context: ResultContext = {},
): OperationResult<T> {
  const type = state.type;
  switch (state.status) {
    case 'completed':
      return { status: 'completed', id, type, result: state.result as T, resultError: state.resultError };
    case 'failed':
      return { status: 'failed', id, type, error: state.error! };
    case 'cancelled':
      return { status: 'cancelled', id, type, error: state.error! };
    case 'running': {
      const elapsedMs = now - state.startedAt;
      const etaMs = etaOf(state, now, context.expectedMs);
      let message = runningMessage(id!, type, elapsedMs, state.progress, etaMs);
      const asked = inputCount(state.inputRequests);
      if (asked > 0)
        message += ` It waits for input: ${asked === 1 ? 'a request' : `${asked} requests`} not answered yet.`;
      if (context.backgroundReason !== undefined)
        message += ` Sent to the background at once: ${context.backgroundReason}.`;
      return {
        status: 'running',
        id: id!,
        type,
        message,
        elapsedMs,
        progress: state.progress,
        etaMs,
        backgroundReason: context.backgroundReason,
        inputRequests: inputCount(state.inputRequests) > 0 ? state.inputRequests : undefined,
      };
    }
  }
}

/** A snapshot of an operation that has an id. */
export function snapshotOf(
  state: OperationState,
  id: string,
  now: number,
  expectedMs?: number | undefined,
): OperationSnapshot {
  return {
    id,
    type: state.type,
    owner: state.owner,
    status: state.status,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt,
    elapsedMs: (state.finishedAt ?? now) - state.startedAt,
    progress: state.progress,
    etaMs: state.status === 'running' ? etaOf(state, now, expectedMs) : undefined,
    inputRequests:
      state.status === 'running' && inputCount(state.inputRequests) > 0 ? state.inputRequests : undefined,
    error: state.error,
    resultError: state.resultError,
    ...(state.attempt === undefined ? {} : { attempt: state.attempt }),
  };
}

/**
 * Milliseconds still to go: at the pace of the progress so far (the rate from the start to the
 * last report, less the time since that report), else from how long such operations usually take
 * (`expectedMs`), else `undefined`.
 */
export function etaOf(state: OperationState, now: number, expectedMs?: number): number | undefined {
  const fallback =
    expectedMs === undefined ? undefined : Math.max(0, Math.round(expectedMs - (now - state.startedAt)));
  const progress = state.progress;
  if (progress === undefined || progress.total === undefined || !(progress.current > 0)) return fallback;
  if (progress.current >= progress.total) return 0;
  const spent = progress.updatedAt - state.startedAt;
  if (!(spent > 0)) return fallback;
  const remaining =
    (spent * (progress.total - progress.current)) / progress.current - (now - progress.updatedAt);
  return Math.max(0, Math.round(remaining));
}

function runningMessage(
  id: string,
  type: string,
  elapsedMs: number,
  progress: Progress | undefined,
  etaMs: number | undefined,
): string {
  let text = `Operation ${id} (${type}) is still running after ${formatDuration(elapsedMs)}`;
  if (progress !== undefined) {
    text += `; progress ${percentOf(progress) ?? progress.current}`;
    if (progress.message !== undefined) text += `: ${progress.message}`;
  }
  if (etaMs !== undefined) text += `; about ${formatDuration(etaMs)} to go`;
  return `${text}.`;
}

/** Whether the work waits for input not among `known` (`false` when `known` is not given). */
export function asksBeyond(
  requests: Readonly<Record<string, unknown>> | undefined,
  known: readonly string[] | undefined,
): boolean {
  if (known === undefined || requests === undefined) return false;
  for (const key in requests) if (!known.includes(key)) return true;
  return false;
}

/** How many input requests are outstanding. */
function inputCount(requests: Readonly<Record<string, unknown>> | undefined): number {
  return requests === undefined ? 0 : Object.keys(requests).length;
}

/** `40% (4/10)` when the total is known, else `undefined`. */
export function percentOf(progress: Progress): string | undefined {
  if (progress.total === undefined || !(progress.total > 0)) return undefined;
  return `${Math.floor((100 * progress.current) / progress.total)}% (${progress.current}/${progress.total})`;
}

/** `850 ms`, `12.3 s`, `4 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}
