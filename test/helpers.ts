// Small helpers for tests: work that settles exactly when the test says so, and store records.
import type { OperationRecord } from '../src/index.js';

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** A promise the test settles by hand. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A promise that never settles. */
export function never<T = never>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** Resolves once every promise reaction already queued has run (settles our own promise chains). */
export async function flushMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Narrows an OperationResult-like union to one status, failing the test with the actual value otherwise. */
export function expectStatus<R extends { status: string }, S extends R['status']>(
  result: R,
  status: S,
): Extract<R, { status: S }> {
  if (result.status !== status) {
    throw new Error(`expected status "${status}", got ${JSON.stringify(result, errorReplacer)}`);
  }
  return result as Extract<R, { status: S }>;
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}

/** A running record, as the executor inserts one into a store. */
export function runningRecord(
  id: string,
  owner?: string,
  createdAt = Date.now(),
  type = 'job',
): OperationRecord {
  return {
    id,
    type,
    owner,
    status: 'running',
    createdAt,
    startedAt: createdAt,
    finishedAt: undefined,
    expiresAt: undefined,
    result: undefined,
    error: undefined,
    progress: undefined,
  };
}
