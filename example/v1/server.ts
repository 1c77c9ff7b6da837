// The demo on SDK 1.x (`npm run demo:v1`): a stdio MCP server with the slow tool. The SDK 1.x
// twin of example/server.ts; run as `npx tsx example/v1/server.ts`. stdout is the protocol: nothing else is
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
