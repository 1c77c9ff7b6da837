/**
 * How stores that write records somewhere (a file, a server) turn results and errors into text and
 * back: JSON, with the library's own errors rebuilt as their classes so that `instanceof` and
 * `code` still hold after a restart.
 *
 * @module
 */
import {
  ExecutorStoppedError,
  InputUnavailableError,
  type McpAsyncErrorCode,
  NonErrorThrownError,
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
  /** The error's `cause`: an Error as one of these, any other value as its JSON (see {@link causeJson}). */
  cause?: CauseJson;
}

/** A `cause` as stored: an error, a JSON value, or the description of a value JSON cannot hold. */
type CauseJson = { error: ErrorJson } | { value: unknown } | { described: string };

/** How many causes deep a chain is kept; deeper ones are cut (a cycle included). */
const MAX_CAUSE_DEPTH = 4;
/** The most JSON a non-Error cause may take; a larger one is kept as a description. */
const MAX_CAUSE_VALUE_CHARS = 4096;

/** An error as JSON text: name, message, code, the library's own fields, and its `cause` chain. */
export function serializeError(error: Error): string {
  return JSON.stringify(errorJson(error, 0));
}

function errorJson(error: Error, depth: number): ErrorJson {
  const out: ErrorJson = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (error instanceof OperationCancelledError && error.reason !== undefined) out.reason = error.reason;
  if (error instanceof ResultNotStorableError) out.reason = error.reason;
  if (error instanceof ReplicaLostError) out.reason = error.replica;
  if (error instanceof InputUnavailableError) out.reason = error.reason;
  if (error instanceof OperationLifetimeError) out.maxLifetimeMs = error.maxLifetimeMs;
  if ('cause' in error && error.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    out.cause = causeJson(error.cause, depth + 1);
  }
  return out;
}

function causeJson(cause: unknown, depth: number): CauseJson {
  if (cause instanceof Error) return { error: errorJson(cause, depth) };
  let json: string | undefined;
  try {
    json = JSON.stringify(cause);
  } catch {
    json = undefined; // a cycle, a BigInt: described instead
  }
  if (json !== undefined && json.length <= MAX_CAUSE_VALUE_CHARS) return { value: JSON.parse(json) };
  const described = typeof cause === 'string' ? cause : Object.prototype.toString.call(cause);
  return { described: described.length > 200 ? `${described.slice(0, 200)}…` : described };
}

/**
 * The error stored by {@link serializeError}: the library's own as their classes, others as an
 * `Error` with that name, message and code; its `cause` chain as it was (an Error cause as an
 * Error the same way, another value as its JSON).
 */
export function deserializeError(json: string): Error {
  return errorOf(JSON.parse(json) as ErrorJson);
}

function errorOf(data: ErrorJson): Error {
  const error = revived(data);
  if (data.cause !== undefined) {
    const cause =
      'error' in data.cause
        ? errorOf(data.cause.error)
        : 'value' in data.cause
          ? data.cause.value
          : data.cause.described;
    Object.defineProperty(error, 'cause', {
      value: cause,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}

/** The error of `data` without its cause: the library's own as their classes, with their own message. */
function revived(data: ErrorJson): Error {
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
    case 'INPUT_UNAVAILABLE':
      return new InputUnavailableError(data.reason ?? data.message);
    case 'NON_ERROR_THROWN':
      // The message as it was written (it describes the value; the cause carries the value).
      return Object.assign(new NonErrorThrownError(undefined), { message: data.message });
    default: {
      const error = new Error(data.message);
      error.name = data.name;
      if (data.code !== undefined) Object.assign(error, { code: data.code });
      return error;
    }
  }
}
