// Figure 3: heap bytes per retained finished operation. Starts N operations in background mode
// whose work returns a small integer, lets them all finish, collects garbage, and divides the
// growth of the V8 heap by N. Run with the count as argument: `heap.ts 100000`.
import { Executor, MemoryStore } from '../src/index.js';
import { gc, report, yieldToEventLoop } from './lib.js';

const count = Number(process.argv[2] ?? 100_000);
const store = new MemoryStore();
const executor = new Executor({
  store,
  maxOperations: Number.POSITIVE_INFINITY,
  retentionMs: 3_600_000,
  maxLifetimeMs: Number.POSITIVE_INFINITY,
});

gc();
const before = process.memoryUsage().heapUsed;
const BATCH = 1000;
for (let i = 0; i < count; i += BATCH) {
  const batch: Promise<unknown>[] = [];
  for (let j = i; j < Math.min(count, i + BATCH); j++)
    batch.push(executor.execute(async () => j, { waitMs: 0 }));
  await Promise.all(batch);
  await yieldToEventLoop();
}
await yieldToEventLoop();
gc();
const after = process.memoryUsage().heapUsed;
if (store.size !== count) throw new Error(`expected ${count} retained records, found ${store.size}`);
const completed = await executor.list({ status: 'completed', limit: 1 });
if (completed.operations.length !== 1 || completed.nextCursor === undefined)
  throw new Error('expected the retained operations to be listed as completed');
const perOperation = (after - before) / count;
report({
  figure: `3. heap per retained finished operation (${count.toLocaleString('en')})`,
  value: `${perOperation.toFixed(0)} B/op`,
  goal: '<= 300 B',
  go: '410 B',
  met: perOperation <= 300,
  method: `V8 heapUsed growth after gc, ${count} background operations finished with a small-integer result, divided by ${count}`,
});
await executor.stop();
