// The demo MCP server over stdio, on SDK v2: serveStdio builds a server per connection (in the era
// the client opens with: the 2025 handshake, or 2026-07-28), every one on this process's executor.
// Claude Desktop / Claude Code / MCP Inspector run it as `npx tsx example/server.ts` (see the
// README). stdout is the protocol: nothing else is written to it.
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { taskNotificationsTransport } from '../src/mcp/index.js';
import { createDemoExecutor, createDemoFactory } from './demo-tools.js';

const executor = createDemoExecutor();
const factory = createDemoFactory(executor);
// The transport adds notifications/tasks (the tasks extension) for clients that listen for them.
const handle = serveStdio(factory, {
  transport: taskNotificationsTransport(factory, new StdioServerTransport()),
});

const shutdown = async () => {
  // A graceful drain: work about to finish may, while new calls are refused.
  await executor.stop({ drainMs: 5000 });
  await handle.close();
};
process.stdin.on('close', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
