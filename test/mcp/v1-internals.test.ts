// mcp-async/mcp/v1 relies on three things @modelcontextprotocol/sdk 1.x does not make public (all
// in src/mcp/v1/sdk-internals.ts). This fails loudly, naming the one that changed, when an SDK
// version moves one of them: upgrade the SDK only with this green.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { Executor } from '../../src/index.js';
import { registerAsyncTools, withTasks } from '../../src/mcp/v1/index.js';
import { honoursSetLevel, serverCapabilities } from '../../src/mcp/v1/sdk-internals.js';

describe('the SDK 1.x internals mcp-async/mcp/v1 relies on', () => {
  it('Server.getCapabilities() answers the capabilities the server was created with', () => {
    const server = new McpServer({ name: 'x', version: '0' }, { capabilities: { logging: {} } });
    expect(typeof (server.server as unknown as { getCapabilities?: unknown }).getCapabilities).toBe(
      'function',
    );
    expect(serverCapabilities(server)).toMatchObject({ logging: {} });
  });

  it('McpServer.handleAutomaticTaskPolling and validateToolInput exist, and registering a task tool replaces the first on that instance only', async () => {
    type Internals = { handleAutomaticTaskPolling?: unknown; validateToolInput?: unknown };
    const executor = new Executor();
    const server = new McpServer({ name: 'x', version: '0' }, withTasks(executor));
    const other = new McpServer({ name: 'y', version: '0' }, withTasks(executor));
    const sdkPolling = (server as unknown as Internals).handleAutomaticTaskPolling;
    expect(typeof sdkPolling).toBe('function');
    expect(typeof (server as unknown as Internals).validateToolInput).toBe('function');
    registerAsyncTools(server, executor).registerTool('t', {}, async () => ({ content: [] }));
    expect((server as unknown as Internals).handleAutomaticTaskPolling).not.toBe(sdkPolling);
    expect((other as unknown as Internals).handleAutomaticTaskPolling).toBe(sdkPolling);
    await executor.stop();
  });

  it('assertCanSetRequestHandler tells whether the SDK itself answers logging/setLevel', () => {
    expect(
      honoursSetLevel(new McpServer({ name: 'x', version: '0' }, { capabilities: { logging: {} } })),
    ).toBe(true);
    expect(honoursSetLevel(new McpServer({ name: 'x', version: '0' }))).toBe(false);
  });
});
