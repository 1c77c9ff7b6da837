import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OperationInterruptedError } from '../src/index.js';
import { SqliteStore } from '../src/sqlite/index.js';

// A child process runs operations on a SQLite file and is killed with SIGKILL at a random moment,
// 30 times over the same file. After each kill the file is opened again (as a restarted server
// would) and every operation the child announced is checked: none finished is lost, none is left
// running, none is missing.

const CYCLES = 30;
const child = fileURLToPath(new URL('./fixtures/sqlite-crash-child.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-async-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child until a random moment after its first operation, then SIGKILLs it. */
function runAndKill(path: string): Promise<{ started: Set<string>; done: Set<string> }> {
  return new Promise((resolve, reject) => {
    const started = new Set<string>();
    const done = new Set<string>();
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    let armed = false;
    proc.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [what, id] = line.split(' ');
        if (what === 'started') started.add(id!);
        if (what === 'done') done.add(id!);
      }
      if (!armed && started.size > 0) {
        armed = true;
        setTimeout(() => proc.kill('SIGKILL'), Math.random() * 300);
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}, signal ${signal})`));
      else resolve({ started, done });
    });
  });
}

describe('SqliteStore under SIGKILL', () => {
  it(`loses no finished result and leaves nothing running or missing across ${CYCLES} kills`, async () => {
    const path = join(dir, 'crash.db');
    const totals = { started: 0, done: 0, lost: 0, leftRunning: 0, notFound: 0, interrupted: 0 };
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const { started, done } = await runAndKill(path);
      const store = new SqliteStore({ path, retentionMs: 3_600_000 }); // the restart
      for (const id of started) {
        const record = store.get(id, undefined);
        if (record === undefined) totals.notFound++;
        else if (record.status === 'running') totals.leftRunning++;
        else if (record.status === 'failed' && record.error instanceof OperationInterruptedError)
          totals.interrupted++;
        if (done.has(id) && !(record?.status === 'completed' && record.result === `value:${id}`))
          totals.lost++;
      }
      store.close();
      totals.started += started.size;
      totals.done += done.size;
    }
    console.log(
      `sqlite crash test: ${CYCLES} SIGKILL cycles, ${totals.started} operations announced, ${totals.done} announced done; ` +
        `${totals.lost} finished results lost, ${totals.leftRunning} left running, ${totals.notFound} not found; ` +
        `${totals.interrupted} reported interrupted by restart`,
    );
    expect(totals.started).toBeGreaterThan(CYCLES);
    expect(totals.done).toBeGreaterThan(0);
    expect(totals).toMatchObject({ lost: 0, leftRunning: 0, notFound: 0 });
  }, 120_000);
});
