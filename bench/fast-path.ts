// Figure 1: execute() fast-path overhead against a direct call. The work finishes inside the wait
// (an async function returning at once, and a sync one); each round times N awaited calls of the
// work alone and N awaited execute() calls of it, interleaved; the figure is the median difference.
import { Executor } from '../src/index.js';
import { median, nowNs, report } from './lib.js';

const N = 500_000;
const ROUNDS = 7;
const executor = new Executor();
const asyncWork = async () => 42;
const syncWork = () => 42;

async function time(call: () => unknown): Promise<number> {
  const start = nowNs();
  for (let i = 0; i < N; i++) await call();
  return (nowNs() - start) / N;
}

const direct: number[] = [];
const viaAsync: number[] = [];
const viaSync: number[] = [];
await time(() => executor.execute(asyncWork)); // warm-up: JIT
for (let round = 0; round < ROUNDS; round++) {
  direct.push(await time(asyncWork));
  viaAsync.push(await time(() => executor.execute(asyncWork)));
  viaSync.push(await time(() => executor.execute(syncWork)));
}
await executor.stop();

const base = median(direct);
const asyncOverhead = median(viaAsync) - base;
const syncOverhead = median(viaSync) - base;
report({
  figure: '1. execute() fast-path overhead over a direct call',
  value: `${(asyncOverhead / 1000).toFixed(2)} us/op async work, ${(syncOverhead / 1000).toFixed(2)} us/op sync work (direct await ${base.toFixed(0)} ns)`,
  goal: '<= 1.5 us/op',
  go: '7.6 us/op',
  met: Math.max(asyncOverhead, syncOverhead) <= 1500,
  method: `median of ${ROUNDS} rounds of ${N} awaited calls, execute(work) minus await work()`,
});
