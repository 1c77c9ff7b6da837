/**
 * How stores that write records somewhere (a file, a server) turn results and errors into text and
 * back: JSON, with the library's own errors rebuilt as their classes so that `instanceof` and
 * `code` still hold after a restart.
 *
 * @module
 */
import {
  ExecutorStoppedError,
  type McpAsyncErrorCode,
  OperationCancelledError,
  OperationInterruptedError,
  OperationLifetimeError,
  ReplicaLostError,
  ResultNotStorableError,
} from '../errors.js';
import type { OperationStatus } from '../types.js';
import type { OperationRecord, TerminalUpdate } from './store.js';

/** A result as text, or why it cannot be. */
export type SerializedResult =
  | {
      /** The JSON text, or `null` for `undefined`. */
      readonly json: string | null;
    }
  | {
      /** Why the result cannot be stored. */
      readonly error: ResultNotStorableError;
    };

/**
 * `value` as JSON, refused (with a {@link ResultNotStorableError} saying why) when JSON would not
 * bring it back: a BigInt, a cycle, a function or symbol, or more than `maxBytes` of text.
 * `undefined` is stored as `null` text and read back as `undefined`.
 */
export function serializeResult(value: unknown, maxBytes: number): SerializedResult {
  if (value === undefined) return { json: null };
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_key, inner: unknown) => {
      if (typeof inner === 'function' || typeof inner === 'symbol') {
        throw new TypeError(`it holds a ${typeof inner}, which JSON cannot keep`);
      }
      return inner;
    });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { error: new ResultNotStorableError(`it is not JSON-serialisable (${why})`) };
  }
  if (json === undefined)
    return { error: new ResultNotStorableError(`it is not JSON-serialisable (${typeof value})`) };
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    return {
      error: new ResultNotStorableError(
        `it is ${bytes} bytes of JSON, over the store's limit of ${maxBytes}`,
      ),
    };
  }
  return { json };
}

/** The result stored by {@link serializeResult}. */
export function deserializeResult(json: string | null): unknown {
  return json === null ? undefined : JSON.parse(json);
}

/** A terminal update as a serialising store writes it. */
export interface SerializedUpdate {
  /** The status to store: `failed` instead of `completed` when the result could not be stored. */
  readonly status: OperationStatus;
  /** The result's JSON, `null` for none. */
  readonly result: string | null;
  /** The error's JSON, `null` for none. */
  readonly error: string | null;
  /** The error a completed result reports of its own, or `null`. */
  readonly resultError: string | null;
  /** Set when the result was refused: the error the operation fails with instead. */
  readonly refusal: ResultNotStorableError | undefined;
}

/**
 * A terminal update ready to write: a completed result that cannot be stored turns it into a
 * failure with a {@link ResultNotStorableError}, as the store contract asks.
 */
export function serializeUpdate(update: TerminalUpdate, maxResultBytes: number): SerializedUpdate {
  if (update.status !== 'completed') {
    const error = update.error === undefined ? null : serializeError(update.error);
    return { status: update.status, result: null, error, resultError: null, refusal: undefined };
  }
  const stored = serializeResult(update.result, maxResultBytes);
  if ('error' in stored) {
    const error = serializeError(stored.error);
    return { status: 'failed', result: null, error, resultError: null, refusal: stored.error };
  }
  const resultError = update.resultError ?? null;
  return { status: 'completed', result: stored.json, error: null, resultError, refusal: undefined };
}

/**
 * What `finish()` answers when its own update was stored: the stored record (read back without its
 * result and error, which need no parsing), carrying the caller's own result or error objects.
 */
export function answerOwnUpdate(
  record: OperationRecord,
  update: TerminalUpdate,
  written: SerializedUpdate,
): OperationRecord {
  if (written.refusal !== undefined) return { ...record, error: written.refusal };
  return written.status === 'completed'
    ? { ...record, result: update.result }
    : { ...record, error: update.error };
}

interface ErrorJson {
  name: string;
  message: string;
  code?: string;
  reason?: string;
  maxLifetimeMs?: number;
  /** Written by 0.x before the rename to `maxLifetimeMs`. */
  maxLifetime?: number;
}

/** An error as JSON: its name, message, `code`, and what the library's own errors carry. */
export function serializeError(error: Error): string {
  const out: ErrorJson = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (error instanceof OperationCancelledError && error.reason !== undefined) out.reason = error.reason;
  if (error instanceof ResultNotStorableError) out.reason = error.reason;
  if (error instanceof ReplicaLostError) out.reason = error.replica;
  if (error instanceof OperationLifetimeError) out.maxLifetimeMs = error.maxLifetimeMs;
  return JSON.stringify(out);
}

/** The error stored by {@link serializeError}: the library's own as their classes, others as an `Error` with that name, message and code. */
export function deserializeError(json: string): Error {
  const data = JSON.parse(json) as ErrorJson;
  switch (data.code as McpAsyncErrorCode | undefined) {
    case 'OPERATION_CANCELLED':
      return new OperationCancelledError(data.reason);
    case 'OPERATION_LIFETIME_EXCEEDED':
      return new OperationLifetimeError(data.maxLifetimeMs ?? data.maxLifetime ?? 0);
    case 'EXECUTOR_STOPPED':
      return new ExecutorStoppedError();
    case 'OPERATION_INTERRUPTED':
      return new OperationInterruptedError();
    case 'RESULT_NOT_STORABLE':
      return new ResultNotStorableError(data.reason ?? data.message);
    case 'REPLICA_LOST':
      return new ReplicaLostError(data.reason ?? 'unknown');
    default: {
      const error = new Error(data.message);
      error.name = data.name;
      if (data.code !== undefined) Object.assign(error, { code: data.code });
      return error;
    }
  }
}
