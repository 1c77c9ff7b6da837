/**
 * The public shapes of operations: statuses, snapshots, results, and what the work receives.
 *
 * @module
 */

import type { ProgressReporter } from './progress.js';

/**
 * Where an operation stands. `running` is the only non-terminal status; the first terminal status
 * an operation reaches is final. They map one to one onto MCP task statuses (`running` is MCP's
 * `working`).
 */
export type OperationStatus = 'running' | 'completed' | 'failed' | 'cancelled';

/** The terminal statuses. */
export type TerminalStatus = Exclude<OperationStatus, 'running'>;

/** The latest progress an operation reported. */
export interface Progress {
  /** Work done so far, in the unit of `total`. Never decreases. */
  readonly current: number;
  /** Total work, when known. */
  readonly total: number | undefined;
  /** A human-readable note on what is happening now. */
  readonly message: string | undefined;
  /** When this progress was reported (epoch milliseconds). */
  readonly updatedAt: number;
}

/** What an operation function receives. */
export interface OperationContext {
  /**
   * Fires when the operation is cancelled (here, or through a store shared with other processes),
   * exceeds `maxLifetimeMs`, or the executor stops, and when the store refuses its record (no one
   * could reach it); its `reason` is an {@link OperationCancelledError},
   * {@link OperationLifetimeError}, {@link ExecutorStoppedError} or {@link StoreError}. Pass it to
   * whatever supports cancellation (fetch, streams...).
   */
  readonly signal: AbortSignal;
  /** This operation's id. Reading it makes the operation visible to `continue()` at once. */
  readonly operationId: string;
  /** Reports progress, in phases if you like; see {@link ProgressReporter}. */
  readonly progress: ProgressReporter;
  /**
   * Asks for input while the work runs, and resolves with the answer. `request` is a JSON object
   * (for an MCP tool, a server-to-client request such as `elicitation/create`). The operation is
   * published at once, and shows the request in its `inputRequests` (its result and snapshot)
   * until {@link Executor.provideInput} answers it, in this process or, through a shared store,
   * any other; `execute()` and `continue()` waits answer as soon as it is asked.
   *
   * Rejects with the signal's reason if the operation ends first (or `options.signal` aborts:
   * the request is then withdrawn), with an {@link InputUnavailableError} if no input can be had
   * (the store keeps none, the operation has ended), and with a {@link StoreError}.
   */
  input(request: Readonly<Record<string, unknown>>, options?: InputOptions): Promise<unknown>;
}

/** Options of {@link OperationContext.input}. */
export interface InputOptions {
  /** Stops waiting (and withdraws the request) when it aborts; its reason is the rejection. */
  signal?: AbortSignal | undefined;
}

/** The work itself: sync or async, returning the result or throwing/rejecting with anything. */
export type OperationFunction<T> = (context: OperationContext) => T | PromiseLike<T>;

/**
 * A job: redeliverable work defined by name on every process (`Executor.defineJob`), run again
 * from its arguments when the process running it dies, or hands it back. `run` says whose it is
 * and its `attempt`: the runs a loss started, the first run included (2 and up after a death; a
 * hand-back is not counted, so a run handed back goes on with the number it had). Any run of a
 * job may follow an earlier one that did part of the work.
 */
export type JobFunction<T> = (
  args: unknown,
  context: OperationContext,
  run: { readonly owner: string | undefined; readonly attempt: number },
) => T | PromiseLike<T>;

/** Fields every {@link OperationResult} variant carries. */
interface ResultBase {
  /** The operation type given to `execute()` (`"operation"` when none was). */
  readonly type: string;
}

/** The work finished and returned `result`. */
export interface CompletedResult<T> extends ResultBase {
  /** Discriminant. */
  readonly status: 'completed';
  /** The id, or `undefined` when the work finished within `execute()`'s wait and none was handed out. */
  readonly id: string | undefined;
  /** What the work returned. */
  readonly result: T;
  /**
   * The error `result` reports of its own, as `execute()`'s `resultError` read it (the text of an
   * MCP tool result with `isError`, say); `undefined` when it reports none, or nothing read it.
   */
  readonly resultError: string | undefined;
}

/** The work threw, rejected, or exceeded `maxLifetimeMs`. */
export interface FailedResult extends ResultBase {
  /** Discriminant. */
  readonly status: 'failed';
  /** The id, or `undefined` when the work failed within `execute()`'s wait and none was handed out. */
  readonly id: string | undefined;
  /**
   * What the work threw: the Error itself, a {@link NonErrorThrownError} wrapping a non-Error
   * value, or an {@link OperationLifetimeError}.
   */
  readonly error: Error;
}

/** The operation was cancelled (by `cancel()`, by the caller's signal with `cancelOnAbort`, or by `stop()`). */
export interface CancelledResult extends ResultBase {
  /** Discriminant. */
  readonly status: 'cancelled';
  /** The id, or `undefined` when it was cancelled within `execute()`'s wait and none was handed out. */
  readonly id: string | undefined;
  /** Why, as an error: the same value the work's AbortSignal fired with. */
  readonly error: Error;
}

/** The work is still going; ask again with `continue(id)`. */
export interface RunningResult extends ResultBase {
  /** Discriminant. */
  readonly status: 'running';
  /** The id to pass to `continue()`, `cancel()` and `get()`. */
  readonly id: string;
  /** A one-line human-readable account of where the operation stands. */
  readonly message: string;
  /** Milliseconds since the operation started. */
  readonly elapsedMs: number;
  /** The latest progress, if any was reported. */
  readonly progress: Progress | undefined;
  /**
   * Milliseconds still to go, extrapolated from the pace of the progress reported so far (once
   * the work reported a `current` above 0 out of a `total`), else from how long the type's recent
   * runs took.
   */
  readonly etaMs: number | undefined;
  /**
   * Set on `execute()`'s answer when `background: 'auto'` sent the work to the background at
   * once: why (how long it is expected to take, by whose estimate, against the wait).
   */
  readonly backgroundReason: string | undefined;
  /**
   * The input the work has asked for (`context.input()`) and not had yet, by key; `undefined`
   * when it waits for none. `execute()` and `continue()` answer as soon as the work asks.
   */
  readonly inputRequests: Readonly<Record<string, unknown>> | undefined;
}

/** What `execute()` and `continue()` answer, discriminated on `status`. */
export type OperationResult<T = unknown> =
  | CompletedResult<T>
  | FailedResult
  | CancelledResult
  | RunningResult;

/** A point-in-time description of an operation, as `get()`, `list()` and events give it. */
export interface OperationSnapshot {
  /** The operation id. */
  readonly id: string;
  /** The type given to `execute()`. */
  readonly type: string;
  /** The owner given to `execute()`, or `undefined` for unowned operations. */
  readonly owner: string | undefined;
  /** Where it stands. */
  readonly status: OperationStatus;
  /** When `execute()` invoked the work (epoch milliseconds). */
  readonly startedAt: number;
  /** When it reached its terminal status (epoch milliseconds), if it has. */
  readonly finishedAt: number | undefined;
  /** Milliseconds from start to finish, or to now while running. */
  readonly elapsedMs: number;
  /** The latest progress reported, if any. */
  readonly progress: Progress | undefined;
  /** While running: milliseconds still to go, when the progress allows an estimate. */
  readonly etaMs: number | undefined;
  /** While running: the input the work waits for (see {@link RunningResult.inputRequests}). */
  readonly inputRequests: Readonly<Record<string, unknown>> | undefined;
  /** For `failed` and `cancelled`: why. */
  readonly error: Error | undefined;
  /** For `completed`: the error the result reports of its own (see {@link CompletedResult.resultError}). */
  readonly resultError: string | undefined;
  /**
   * For redeliverable work (`ExecuteOptions.redeliver`): which run this is, from 1 up (2 once
   * another process ran it again after the first one's process died; always 1 on a store that
   * does not redeliver).
   */
  readonly attempt?: number | undefined;
}

/** What `cancel()` answers. */
export interface CancelOutcome {
  /**
   * Whether this call cancelled the operation: `false` when it had already ended (completed,
   * failed, or cancelled by someone else first), in which case nothing changed.
   */
  readonly cancelled: boolean;
  /** The operation as it stands after the call. */
  readonly operation: OperationSnapshot;
}

/** A page of `list()`, newest first. */
export interface OperationPage {
  /** The operations on this page, the most recently started first. */
  readonly operations: OperationSnapshot[];
  /** Pass it to `list({ cursor })` for the next page; `undefined` on the last. */
  readonly nextCursor: string | undefined;
}
