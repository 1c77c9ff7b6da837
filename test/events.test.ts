import { afterEach, describe, expect, it } from 'vitest';
import { Executor, type ExecutorEvents, type OperationEvent } from '../src/index.js';
import { deferred, expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  await executor?.stop();
});

function record(target: Executor) {
  const seen: string[] = [];
  const names: (keyof ExecutorEvents)[] = ['started', 'progress', 'completed', 'failed', 'cancelled'];
  for (const name of names) {
    target.on(name, (event) => seen.push(`${name}:${(event as OperationEvent).operation.status}`));
  }
  return seen;
}

describe('lifecycle events', () => {
  it('a completed operation emits started, progress and completed, in order', async () => {
    executor = new Executor();
    const seen = record(executor);
    let result: unknown;
    executor.on('completed', (event) => {
      result = event.result;
    });
    await executor.execute(({ progress }) => {
      progress(1, 2);
      return 'value';
    });
    expect(seen).toEqual(['started:running', 'progress:running', 'completed:completed']);
    expect(result).toBe('value');
  });

  it('failed and cancelled carry the error, and name the same operation id throughout', async () => {
    executor = new Executor();
    const ids = new Set<string>();
    const errors: string[] = [];
    executor.on('started', (e) => ids.add(e.operation.id));
    executor.on('failed', (e) => {
      ids.add(e.operation.id);
      errors.push(e.error.message);
    });
    executor.on('cancelled', (e) => errors.push(e.error.name));
    await executor.execute(() => Promise.reject(new Error('nope')));
    expect(ids.size).toBe(1);
    const running = expectStatus(await executor.execute(() => never(), { waitMs: 0 }), 'running');
    await executor.cancel(running.id);
    expect(errors).toEqual(['nope', 'OperationCancelledError']);
  });

  it('payloads are typed by event name', async () => {
    executor = new Executor();
    const progress = deferred<number>();
    executor.on('progress', (event) => progress.resolve(event.progress.current));
    await executor.execute(({ progress: report }) => report(42));
    expect(await progress.promise).toBe(42);
  });

  it('on() answers an unsubscribe function, and off() removes a handler', async () => {
    executor = new Executor();
    let a = 0;
    let b = 0;
    const handlerB = () => {
      b++;
    };
    const unsubscribe = executor.on('completed', () => {
      a++;
    });
    executor.on('completed', handlerB);
    await executor.execute(() => 1);
    unsubscribe();
    executor.off('completed', handlerB);
    await executor.execute(() => 2);
    expect([a, b]).toEqual([1, 1]);
  });

  it('progress never goes backwards, and is ignored once the operation has finished', async () => {
    executor = new Executor();
    const values: number[] = [];
    executor.on('progress', (e) => values.push(e.progress.current));
    let report: ((n: number) => void) | undefined;
    await executor.execute(({ progress }) => {
      report = progress;
      progress(5);
      progress(3);
      progress(7);
    });
    report?.(9);
    expect(values).toEqual([5, 5, 7]);
  });
});
