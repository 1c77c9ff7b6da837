// `npm run bench`: runs each figure in a fresh Node process (so that one figure's heap and JIT
// state cannot colour the next) and prints them with the environment.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { environment } from './lib.js';

const figures: [string, ...string[]][] = [
  ['fast-path.ts'],
  ['wake-latency.ts'],
  ['heap.ts', '100000'],
  ['heap.ts', '1000000'],
  ['retention-stall.ts', '1000000'],
  ['throughput.ts'],
  ['worker-responsiveness.ts'],
  ['redis.ts'],
  ['continuation-lost.ts'],
  ['redelivery.ts'],
  ['e2e.ts'],
];

process.stdout.write(`mcp-async benchmarks: ${environment()}\n\n`);
let failed = false;
for (const [file, ...args] of figures) {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', script, ...args],
    {
      stdio: 'inherit',
    },
  );
  if (run.status !== 0) {
    failed = true;
    process.stderr.write(`benchmark ${file} ${args.join(' ')} exited with ${run.status ?? run.signal}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
