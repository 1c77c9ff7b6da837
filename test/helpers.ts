// Small helpers for tests: work that settles exactly when the test says so, and store records.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OperationRecord } from '../src/stores/index.js';

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

/**
 * Work that runs until its signal fires, then rejects with the signal's reason, handing it to
 * `onAbort` first (so that a test can wait on the abort).
 */
export function untilAborted(onAbort?: (reason: unknown) => void) {
  return ({ signal }: { signal: AbortSignal }): Promise<never> =>
    new Promise<never>((_resolve, reject) =>
      signal.addEventListener('abort', () => {
        onAbort?.(signal.reason);
        reject(signal.reason);
      }),
    );
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
  startedAt = Date.now(),
  type = 'job',
): OperationRecord {
  return {
    id,
    type,
    owner,
    status: 'running',
    startedAt,
    finishedAt: undefined,
    expiresAt: undefined,
    result: undefined,
    resultError: undefined,
    error: undefined,
    progress: undefined,
  };
}

/**
 * Runs a fixture (a TypeScript file under test/fixtures) in a child Node process and waits until it
 * exits by itself: a child that never calls `process.exit` shows by exiting that nothing it made
 * kept its event loop alive. Answers its exit code and output.
 */
export async function runFixture(
  name: string,
  nodeOptions: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const fixture = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', fixture], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}
