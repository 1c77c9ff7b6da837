// Figure 2: wake latency, from the moment the work settles to the moment a waiting continue()
// resolves. Each sample starts a background operation, parks a continue() on it, resolves the
// work, and measures from resolve() to continue()'s continuation.
import { Executor } from '../src/index.js';
import { nowNs, percentile, report, yieldToEventLoop } from './lib.js';

const SAMPLES = 50_000;
const WARMUP = 5_000;
const executor = new Executor({
  maxOperations: Number.POSITIVE_INFINITY,
  retentionMs: 1000,
  sweepIntervalMs: 100,
});
const samples: number[] = [];

for (let i = 0; i < SAMPLES + WARMUP; i++) {
  let settle!: (value: number) => void;
  const work = new Promise<number>((resolve) => {
    settle = resolve;
  });
  const running = await executor.execute(() => work, { waitMs: 0 });
  if (running.status !== 'running') throw new Error('expected a running operation');
  const waiting = executor.continue(running.id, { waitMs: 30_000 });
  await yieldToEventLoop(); // the waiter is parked; nothing else is pending
  const start = nowNs();
  settle(i);
  const result = await waiting;
  const end = nowNs();
  if (result.status !== 'completed') throw new Error('expected completion');
  if (i >= WARMUP) samples.push(end - start);
}
await executor.stop();

samples.sort((a, b) => a - b);
const p50 = percentile(samples, 50) / 1000;
const p99 = percentile(samples, 99) / 1000;
report({
  figure: '2. settle -> waiting continue() resolves',
  value: `p50 ${p50.toFixed(2)} us, p99 ${p99.toFixed(2)} us, max ${(samples.at(-1)! / 1000).toFixed(1)} us`,
  goal: 'p50 <= 5 us, p99 <= 50 us',
  go: 'p50 6.6-8 us, p99 40-60 us',
  met: p50 <= 5 && p99 <= 50,
  method: `${SAMPLES} samples after ${WARMUP} warm-up; from the work's resolve() to the awaiting code after continue()`,
});
