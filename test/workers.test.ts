import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor, type Progress } from '../src/index.js';
import { WorkerPool } from '../src/workers/index.js';
import { expectStatus } from './helpers.js';

const module = new URL('./fixtures/cpu-work.mjs', import.meta.url);
let pool: WorkerPool;
let executor: Executor;
beforeAll(() => {
  pool = new WorkerPool({ maxThreads: 2 });
  executor = new Executor({ maxWaitMs: 5000 });
});
afterAll(async () => {
  await executor.stop();
  await pool.close();
});

describe('CPU-bound work in a worker pool', () => {
  it('runs an export in a worker and brings its progress back to the main thread', async () => {
    const heard: Progress[] = [];
    const result = await executor.execute(pool.task({ module, exportName: 'spin' }, { ms: 200, steps: 4 }), {
      type: 'spin',
      onProgress: (p) => heard.push(p),
    });
    expect(expectStatus(result, 'completed').result).toMatchObject({ steps: 4 });
    expect(heard.map((p) => [p.current, p.total])).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  it('keeps the event loop free: continue() and list() answer while a 2 s computation runs', async () => {
    const running = expectStatus(
      await executor.execute(pool.task({ module, exportName: 'spin' }, { ms: 2000, steps: 20 }), {
        type: 'spin',
        waitMs: 0,
      }),
      'running',
    );
    // Main-thread CPU work would leave no room to answer until it was over: every answer would say
    // "completed". Answers that say "running" with progress part-way prove the loop was free.
    const midway: number[] = [];
    let answer = await executor.continue(running.id, { waitMs: 0 });
    while (answer.status === 'running') {
      if (answer.progress !== undefined && answer.progress.current < 20) midway.push(answer.progress.current);
      // No status filter: the work may finish between the two calls; listed it is, either way.
      const listed = await executor.list();
      expect(listed.operations.map((s) => s.id)).toContain(running.id);
      answer = await executor.continue(running.id, { waitMs: 50 });
    }
    expect(expectStatus(answer, 'completed').result).toMatchObject({ steps: 20 });
    expect(midway.length).toBeGreaterThan(3);
    expect(new Set(midway).size).toBeGreaterThan(1); // it was seen moving
  });

  it('cancelling the operation terminates the worker running it, and the pool goes on', async () => {
    // One thread: the follow-up task can only run if the cancelled one's thread was terminated,
    // not left spinning out its minute.
    const single = new WorkerPool({ maxThreads: 1 });
    const started: Progress[] = [];
    const running = expectStatus(
      await executor.execute(single.task({ module, exportName: 'spin' }, { ms: 60_000, steps: 600 }), {
        type: 'spin',
        waitMs: 0,
        onProgress: (p) => started.push(p),
      }),
      'running',
    );
    // wait for the worker to have started computing: its first progress report
    while (started.length === 0) await executor.continue(running.id, { waitMs: 100 });
    await executor.cancel(running.id);
    expectStatus(await executor.continue(running.id, { waitMs: 0 }), 'cancelled');
    // a minute of spinning was cut short: the next task gets a thread and completes
    const next = await executor.execute(single.task({ module, exportName: 'spin' }, { ms: 50, steps: 1 }));
    expect(expectStatus(next, 'completed').result).toMatchObject({ steps: 1 });
    await single.close();
  });

  it('an export that throws fails the operation with its message; a missing export says so', async () => {
    const thrown = await executor.execute(
      pool.task({ module, exportName: 'explode' }, { message: 'out of memory' }),
    );
    expect(expectStatus(thrown, 'failed').error.message).toBe('out of memory');
    const missing = await executor.execute(pool.task({ module, exportName: 'notAFunction' }, {}));
    expect(expectStatus(missing, 'failed').error.message).toMatch(
      /export a function named "notAFunction", got number/,
    );
  });

  it('refuses bad tasks and options, naming them', () => {
    expect(() => pool.task({ module: 'relative/path.mjs', exportName: 'spin' }, {})).toThrow(
      /`task.module` to be a file: URL or an absolute path, got `"relative\/path.mjs"`/,
    );
    expect(() => pool.task({ module, exportName: '' }, {})).toThrow(
      /`task.exportName` to be a non-empty string/,
    );
    expect(() => new WorkerPool({ maxThreads: 0 })).toThrow(/`maxThreads` to be a whole number from 1 up/);
  });
});
