// Tasks of the extension on a durable store: a task is in the store before the tools/call answer
// leaves, so a server restarted (or killed) between its creation and tasks/get still answers it.
// The server is the v2 test server over stdio on a SQLite file, driven by the ext-tasks client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, describe, expect, it } from 'vitest';
import { newGate } from '../mcp/connect.js';
import { call } from './connect.js';
import { taskSession } from './task-session.js';

const script = fileURLToPath(new URL('../fixtures/v2-stdio-sqlite-server.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-async-tasks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startServer(path: string): Promise<{ client: Client; transport: StdioClientTransport }> {
  const client = new Client(
    { name: 'test', version: '0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', script, path],
    stderr: 'inherit',
  });
  await client.connect(transport);
  return { client, transport };
}

describe('tasks on a SQLite store, the server restarted', () => {
  it('a task created before a restart answers tasks/get after it, with the same result', async () => {
    const path = join(dir, 'restart.db');
    const before = await startServer(path);
    const session = taskSession(before.client, 'sqlite');
    const gate = newGate();
    const execution = await session.callTool('gated', { gate });
    if (execution.kind !== 'task') throw new Error('expected a task');
    const taskId = execution.handle.taskId;
    await call(before.client, 'open_gate', { gate });
    const outcome = await execution.result();
    expect(outcome.status).toBe('completed');
    await session.close();
    await before.client.close(); // the server exits with its stdin

    const after = await startServer(path);
    const later = taskSession(after.client, 'sqlite');
    const again = await later.task(taskId).result();
    expect(again.status).toBe('completed');
    if (again.status !== 'completed' || outcome.status !== 'completed') return;
    expect(again.result).toEqual(outcome.result);
    await later.close();
    await after.client.close();
  });

  it('a task whose server was killed mid-work reads failed (a protocol-level error: the outcome is unknown), not working forever', async () => {
    const outcome = await outcomeAfterRestart('killed.db', async ({ client, transport }) => {
      process.kill(transport.pid!, 'SIGKILL');
      await client.close();
    });
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toMatchObject({
      code: -32603,
      data: { code: 'OPERATION_INTERRUPTED' },
      message: expect.stringContaining('interrupted by restart'),
    });
  });

  it('a task cut short by a graceful shutdown reads failed (EXECUTOR_STOPPED), not cancelled: nobody asked', async () => {
    // Closing the client closes the server's stdin: it stops its executor, cancelling the work, and exits.
    const outcome = await outcomeAfterRestart('stopped.db', ({ client }) => client.close());
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.error).toMatchObject({ code: -32603, data: { code: 'EXECUTOR_STOPPED' } });
  });
});

/**
 * Starts a task that never ends by itself on a server over `file`, ends that server with `end`
 * while the task runs, and answers the task's outcome as a restarted server tells it.
 */
async function outcomeAfterRestart(
  file: string,
  end: (server: { client: Client; transport: StdioClientTransport }) => Promise<void>,
) {
  const path = join(dir, file);
  const before = await startServer(path);
  const session = taskSession(before.client, 'sqlite');
  const execution = await session.callTool('gated', { gate: newGate() });
  if (execution.kind !== 'task') throw new Error('expected a task');
  const taskId = execution.handle.taskId;
  await execution.detach();
  await end(before);

  const after = await startServer(path);
  const later = taskSession(after.client, 'sqlite');
  const outcome = await later.task(taskId).result();
  await later.close();
  await after.client.close();
  return outcome;
}
