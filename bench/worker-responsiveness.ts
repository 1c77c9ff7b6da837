// CPU-bound work and responsiveness: while a 2 s computation runs, how long do continue() and
// list() calls wait for an answer? Once with the work in a worker thread (WorkerPool), once with
// the same function run on the main thread. A probe schedules a continue() + list() every 10 ms and
// times each from the moment it was due to the moment both answered.
import { Executor } from '../src/index.js';
import { WorkerPool } from '../src/workers/index.js';
// The same busy loop the tests use.
import { spin } from '../test/fixtures/cpu-work.mjs';
import { nowNs, percentile, report } from './lib.js';

const WORK_MS = 2000;
const module = new URL('../test/fixtures/cpu-work.mjs', import.meta.url);

async function probeWhile(executor: Executor, operationId: string, done: () => boolean): Promise<number[]> {
  const waits: number[] = [];
  while (!done()) {
    const due = nowNs() + 10e6;
    await new Promise((resolve) => setTimeout(resolve, 10));
    await executor.continue(operationId, { waitMs: 0 });
    await executor.list({ status: 'running' });
    waits.push(Math.max(0, nowNs() - due) / 1e6);
  }
  return waits.sort((a, b) => a - b);
}

const executor = new Executor({ maxOperations: Number.POSITIVE_INFINITY });
const pool = new WorkerPool({ maxThreads: 1, minThreads: 1 });

// warm the worker thread up
await executor.execute(pool.task({ module, exportName: 'spin' }, { ms: 10, steps: 1 }));

let finished = false;
const inWorker = await executor.execute(
  pool.task({ module, exportName: 'spin' }, { ms: WORK_MS, steps: 20 }),
  {
    waitMs: 0,
  },
);
if (inWorker.status !== 'running') throw new Error('expected a running operation');
void executor.continue(inWorker.id, { waitMs: 10_000 }).then(() => {
  finished = true;
});
const worker = await probeWhile(executor, inWorker.id, () => finished);

// the same work on the main thread: a sync function, so execute() itself blocks for its duration
const mainWaits: number[] = [];
const due = nowNs() + 10e6;
const probe = new Promise<void>((resolve) =>
  setTimeout(() => {
    mainWaits.push((nowNs() - due) / 1e6);
    resolve();
  }, 10),
);
await executor.execute(() => spin({ ms: WORK_MS, steps: 20 }, { progress: () => undefined }));
await probe;

await executor.stop();
await pool.close();

report({
  figure: 'CPU-bound work: continue() + list() wait while a 2 s computation runs',
  value: `in a worker: p50 ${percentile(worker, 50).toFixed(2)} ms, p99 ${percentile(worker, 99).toFixed(2)} ms, max ${worker.at(-1)!.toFixed(2)} ms over ${worker.length} probes; on the main thread: ${mainWaits[0]!.toFixed(0)} ms`,
  goal: 'a few ms',
  go: 'n/a',
  met: worker.at(-1)! < 10,
  method: 'a probe every 10 ms times continue(id, 0) + list() from when it was due to when both answered',
});
