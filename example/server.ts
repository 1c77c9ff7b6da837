// A stdio MCP server with the demo's slow tool. Claude Desktop / Claude Code / MCP Inspector run
// it as `npx tsx example/server.ts` (see the README). stdout is the protocol: nothing else is
// written to it.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createDemoExecutor, createDemoServer } from './demo-server.js';

const executor = createDemoExecutor();
const server = createDemoServer(executor);
await server.connect(new StdioServerTransport());

const shutdown = async () => {
  await executor.stop();
  await server.close();
};
process.stdin.on('close', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
