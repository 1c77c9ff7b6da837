// The wiring: a server built per request (createMcpHandler) on one executor outside the factory;
// serverFactory checking what it is given at start-up; log messages only for requests that ask for
// them.
import { LOG_LEVEL_META_KEY } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/index.js';
import { serverFactory } from '../../src/mcp/index.js';
import { built } from '../fixtures/v2-test-server.js';
import { newGate } from '../mcp/connect.js';
import { call, startV2Server, stateOf, textOf, type V2TestServer } from './connect.js';

describe('SDK v2 wiring over HTTP', () => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server('http');
  });
  afterAll(async () => {
    await server.close();
  });

  it('builds a server per request, all on the one executor: an operation outlives the server that started it', async () => {
    const client = await server.connect('modern', 'wiring');
    const before = built.count;
    const gate = newGate();
    const id = stateOf(await call(client, 'gated', { gate }))!.operation_id;
    await call(client, 'open_gate', { gate });
    const done = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 });
    expect(textOf(done)).toBe(`gate ${gate} passed`);
    expect(built.count - before).toBeGreaterThanOrEqual(3); // three requests, three servers
    expect(await server.executor!.get(id, { owner: 'client:wiring' })).toMatchObject({ status: 'completed' });
  });

  it("sends the awaited operation's lifecycle as log messages only to a request whose _meta asks for them", async () => {
    const client = await server.connect('modern', 'logger');
    const logs: { level: string; data: { event: string } }[] = [];
    client.setNotificationHandler('notifications/message', (notification) => {
      logs.push(notification.params as (typeof logs)[number]);
    });
    const [gate1, gate2] = [newGate(), newGate()];
    const id = stateOf(await call(client, 'two_stage', { gate1, gate2 }))!.operation_id;
    // No log level in _meta: nothing, on 2026-07-28.
    await call(client, 'open_gate', { gate: gate1 });
    await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0.2 });
    expect(logs).toEqual([]);
    // The gate opens once the continuation is waiting: its first progress notification says so.
    let opened: Promise<unknown> | undefined;
    await client.callTool(
      {
        name: 'continue_operation',
        arguments: { operation_id: id, wait_seconds: 10 },
        _meta: { [LOG_LEVEL_META_KEY]: 'info' },
      },
      {
        onprogress: () => {
          opened ??= call(client, 'open_gate', { gate: gate2 });
        },
      },
    );
    await opened;
    expect(logs.map((entry) => entry.data.event)).toContain('completed');
    expect(logs.every((entry) => entry.level === 'info')).toBe(true); // debug progress left out at info
  });

  it('in the 2025 era sends them from the configured level up, with no log level in _meta', async () => {
    const client = await server.connect('legacy', 'legacy-logger');
    const logs: { level: string; data: { event: string; operation_id: string } }[] = [];
    client.setNotificationHandler('notifications/message', (notification) => {
      logs.push(notification.params as (typeof logs)[number]);
    });
    const gate = newGate();
    const id = stateOf(await call(client, 'gated', { gate }))!.operation_id;
    expect(logs).toEqual([]); // nothing while no continue_operation waits on it
    // The gate opens once the continuation is waiting: its first progress notification says so.
    let opened: Promise<unknown> | undefined;
    await call(
      client,
      'continue_operation',
      { operation_id: id, wait_seconds: 10 },
      {
        onprogress: () => {
          opened ??= call(client, 'open_gate', { gate });
        },
      },
    );
    await opened;
    expect(logs.map((entry) => [entry.data.event, entry.data.operation_id])).toContainEqual([
      'completed',
      id,
    ]);
    expect(logs.every((entry) => entry.level === 'info')).toBe(true); // the server's level: info
  });
});

describe('serverFactory', () => {
  it('checks its options and the tools setup registers once, at creation', async () => {
    const executor = new Executor();
    expect(() =>
      serverFactory(executor, { name: 'x', version: '0' }, () => undefined, { tools: { ownr: 1 } as never }),
    ).toThrow(/Unknown option `ownr`.*did you mean `owner`/);
    expect(() =>
      serverFactory(executor, { name: 'x', version: '0' }, (tools) => {
        tools.registerTool('t', { waitMs: -1 }, async () => ({ content: [] }));
      }),
    ).toThrow(/`waitMs`/);
    expect(() =>
      serverFactory(executor, { name: 'x', version: '0' }, (tools) => {
        tools.registerTool('t', { cancelOnAbort: 'yes' as never }, async () => ({ content: [] }));
      }),
    ).toThrow(/`cancelOnAbort` to be a boolean, got `"yes"`/);
    expect(() => serverFactory(executor, { name: 'x', version: '0' }, 'nope' as never)).toThrow(
      /`setup` to be a function/,
    );
    await executor.stop();
  });
});
