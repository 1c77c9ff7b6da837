import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Executor } from '../../src/index.js';
import { registerAsyncTools } from '../../src/mcp/v1/index.js';
import { call, newGate, startTestServer, stateOf, type TestServer } from './connect.js';

type LogData = { event: string; operation_id: string; status: string; message: string };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Records a client's log messages; `until` resolves when one matches. */
function listen(client: Client) {
  const seen: { level: string; data: LogData }[] = [];
  const waiters: { match: (d: LogData) => boolean; resolve: () => void }[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    const entry = { level: notification.params.level, data: notification.params.data as LogData };
    seen.push(entry);
    for (const waiter of waiters) if (waiter.match(entry.data)) waiter.resolve();
  });
  const until = (match: (d: LogData) => boolean) =>
    seen.some((entry) => match(entry.data))
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ match, resolve }));
  return { seen, until };
}

async function finishOne(client: Client, fail?: string): Promise<string> {
  const gate = newGate();
  const id = stateOf(
    await call(client, 'gated', { gate, ...(fail === undefined ? {} : { fail }) }),
  )!.operation_id;
  await call(client, 'open_gate', { gate });
  await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 });
  return id;
}

describe('lifecycle as MCP log messages (opt-in)', () => {
  it("sends a session the lifecycle of its own operations, and none of another session's", async () => {
    server = await startTestServer('http-stateful', 5000, { logging: true });
    const alice = await server.connect();
    const bob = await server.connect();
    const aliceLog = listen(alice);
    const bobLog = listen(bob);
    await call(bob, 'list_operations'); // Bob is a known owner of his server too

    const aliceId = await finishOne(alice);
    await aliceLog.until((d) => d.operation_id === aliceId && d.event === 'completed');
    expect(aliceLog.seen.find((e) => e.data.event === 'completed')).toMatchObject({
      level: 'info',
      data: { event: 'completed', operation_id: aliceId, status: 'completed' },
    });
    // Bob's own completion comes after Alice's on the executor; had Alice's been sent to him, it
    // would be in his stream before his own.
    const bobId = await finishOne(bob);
    await bobLog.until((d) => d.operation_id === bobId && d.event === 'completed');
    expect(bobLog.seen.map((e) => e.data.operation_id)).not.toContain(aliceId);
  });

  it("honours the client's logging/setLevel", async () => {
    server = await startTestServer('http-stateful', 5000, { logging: true });
    const client = await server.connect();
    const log = listen(client);
    await client.setLoggingLevel('warning');
    const completedId = await finishOne(client);
    const failedId = await finishOne(client, 'it broke');
    await log.until((d) => d.operation_id === failedId && d.event === 'failed');
    expect(log.seen.map((e) => e.data.operation_id)).not.toContain(completedId);
    expect(log.seen.find((e) => e.data.operation_id === failedId)).toMatchObject({ level: 'warning' });
  });

  it('refuses a server that cannot honour logging/setLevel, saying what to do', async () => {
    const executor = new Executor();
    expect(() =>
      registerAsyncTools(new McpServer({ name: 'x', version: '0' }), executor, { logging: true }),
    ).toThrow(/needs an McpServer created with \{ capabilities: \{ logging: \{\} \} \}/);
    await executor.stop();
  });

  it('is off by default', async () => {
    server = await startTestServer('http-stateful');
    const client = await server.connect();
    expect(client.getServerCapabilities()?.logging).toBeUndefined();
  });
});
