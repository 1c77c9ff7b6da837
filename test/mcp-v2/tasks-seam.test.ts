// The tasks extension on SDK v2 relies on one thing @modelcontextprotocol/server 2.x does not make
// public (src/mcp/v2/tasks-extension.ts): Protocol._getRequestHandler, to move McpServer's own
// tools/call handler behind fallbackRequestHandler. This fails loudly, naming it, when an SDK
// version changes it: upgrade the SDK only with this green. (The extension's behaviour is tested
// end to end in tasks-extension.test.ts.)
import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { Executor } from '../../src/index.js';
import { registerAsyncTools } from '../../src/mcp/index.js';
import { toolsCallHandlerOf } from '../../src/mcp/v2/tasks-extension.js';

describe('the SDK v2 internals the tasks extension relies on', () => {
  it('Protocol._getRequestHandler answers McpServer’s tools/call handler once a tool is registered', () => {
    const server = new McpServer({ name: 'x', version: '0' });
    expect(typeof (server.server as unknown as { _getRequestHandler?: unknown })._getRequestHandler).toBe(
      'function',
    );
    expect(() => toolsCallHandlerOf(server)).toThrow(/with a tool registered/);
    server.registerTool('t', {}, async () => ({ content: [] }));
    expect(typeof toolsCallHandlerOf(server)).toBe('function');
  });

  it('registerAsyncTools moves it behind fallbackRequestHandler, and advertises the extension', async () => {
    const executor = new Executor();
    const server = new McpServer({ name: 'x', version: '0' });
    registerAsyncTools(server, executor);
    expect(typeof server.server.fallbackRequestHandler).toBe('function');
    expect(server.server.getCapabilities?.().extensions).toEqual({ 'io.modelcontextprotocol/tasks': {} });
    const off = new McpServer({ name: 'y', version: '0' });
    registerAsyncTools(off, executor, { tasks: false });
    expect(off.server.fallbackRequestHandler).toBeUndefined();
    await executor.stop();
  });
});
