// `npm run demo:executor`: the Executor alone, as a tool server would drive it. A render that takes longer
// than the wait budget answers "running" with an id; continue() long-polls it to the end while it
// reports progress; a second job is cancelled; list() shows what is retained.
import { setTimeout as sleep } from 'node:timers/promises';
import { Executor, type OperationContext, type OperationResult } from '../src/index.js';

const started = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(4)} s] ${line}`);

/** A "render" of `frames` frames, 300 ms each, that reports progress and heeds its signal. */
async function render(frames: number, { signal, progress }: OperationContext): Promise<string> {
  for (let frame = 1; frame <= frames; frame++) {
    await sleep(300, undefined, { signal });
    progress(frame, frames, `frame ${frame}/${frames}`);
  }
  return `video.mp4 (${frames} frames)`;
}

function describe(result: OperationResult<unknown>): string {
  switch (result.status) {
    case 'completed':
      return `completed: ${String(result.result)}`;
    case 'failed':
    case 'cancelled':
      return `${result.status}: ${result.error.message}`;
    case 'running':
      return `running: ${result.message}`;
  }
}

const executor = new Executor({ defaultWaitMs: 1000, maxWaitMs: 1500 });
executor.on('progress', ({ operation, progress }) => {
  if (progress.current % 4 === 0) log(`  progress event: ${operation.type} ${progress.message}`);
});

log('execute(render 12 frames) with a 1 s wait budget; the work needs about 3.6 s');
const first = await executor.execute((context) => render(12, context), { type: 'render', owner: 'demo' });
log(`-> ${describe(first)}`);

if (first.status === 'running') {
  let result: OperationResult<unknown> = first;
  while (result.status === 'running') {
    log(`continue("${first.id}", { waitMs: 1500 })`);
    result = await executor.continue(first.id, { waitMs: 1500, owner: 'demo' });
    log(`-> ${describe(result)}`);
  }
}

log('execute(render 100 frames) in background mode (waitMs: 0), then cancel it');
const second = await executor.execute((context) => render(100, context), {
  type: 'render',
  owner: 'demo',
  waitMs: 0,
});
if (second.status === 'running') {
  await sleep(700);
  const { cancelled, operation } = await executor.cancel(second.id, {
    owner: 'demo',
    reason: 'the user changed their mind',
  });
  log(
    `-> cancel: cancelled ${cancelled}, status ${operation.status}, progress ${operation.progress?.current ?? 0}/100`,
  );
  log(
    `-> continue after cancel: ${describe(await executor.continue(second.id, { waitMs: 0, owner: 'demo' }))}`,
  );
}

log('list({ owner: "demo" })');
for (const operation of (await executor.list({ owner: 'demo' })).operations) {
  log(
    `   ${operation.id}  ${operation.type}  ${operation.status.padEnd(9)}  ${(operation.elapsedMs / 1000).toFixed(1)} s`,
  );
}
log(
  `an unknown id: ${await executor.continue('no-such-id', { waitMs: 0 }).catch((error: Error) => error.message)}`,
);

await executor.stop();
log('stopped; the process exits on its own');
