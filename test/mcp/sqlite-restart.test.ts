import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';
import { call, newGate, stateOf, textOf } from './connect.js';

const script = fileURLToPath(new URL('../fixtures/stdio-sqlite-server.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-async-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startServer(path: string): Promise<Client> {
  return (await startServerProcess(path)).client;
}

/** The client, and the server process's pid (to kill it as a crash would). */
async function startServerProcess(path: string): Promise<{ client: Client; pid: number }> {
  const client = new Client({ name: 'test', version: '0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', script, path],
    stderr: 'inherit',
  });
  await client.connect(transport);
  return { client, pid: transport.pid! };
}

describe('a stdio server on a SQLite store, restarted', () => {
  it('serves a finished result through continue_operation after the restart, exactly as before it', async () => {
    const path = join(dir, 'ops.db');
    const before = await startServer(path);
    const gate = newGate();
    const id = stateOf(await call(before, 'gated', { gate }))!.operation_id;
    await call(before, 'open_gate', { gate });
    const result = await call(before, 'continue_operation', { operation_id: id, wait_seconds: 10 });
    expect(textOf(result)).toBe(`gate ${gate} passed`);
    await before.close(); // the server process exits with its stdin

    const after = await startServer(path);
    expect(await call(after, 'continue_operation', { operation_id: id, wait_seconds: 0 })).toEqual(result);
    const listed = await call(after, 'list_operations');
    expect(JSON.stringify(listed.structuredContent)).toContain(id);
    await after.close();
  });

  it('work cut off by the process’s end is answered as such: its outcome unknown, not run again, check before retrying', async () => {
    const path = join(dir, 'cut.db');
    const before = await startServerProcess(path);
    const id = stateOf(await call(before.client, 'gated', { gate: newGate() }))!.operation_id;
    const closed = new Promise<void>((resolve) => {
      before.client.onclose = () => resolve();
    });
    process.kill(before.pid, 'SIGKILL'); // mid-work, as a crash
    await closed;

    const after = await startServer(path);
    const cut = await call(after, 'continue_operation', { operation_id: id, wait_seconds: 0 });
    expect(cut.isError).toBe(true);
    expect(textOf(cut)).toMatch(
      /interrupted by restart.*The work may or may not have happened.*not run again/s,
    );
    expect(stateOf(cut)).toMatchObject({ status: 'failed', operation_id: id, outcome: 'unknown' });
    await after.close();
  });
});
