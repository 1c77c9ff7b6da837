// The demo MCP server over Streamable HTTP, on SDK v2: createMcpHandler builds a server per request,
// in either era (2026-07-28, or the 2025 handshake served statelessly), every one on this process's
// executor. No sessions to keep: an operation belongs to the authenticated client, and without
// authentication its id is the only way to it.
//   npx tsx example/http-server.ts [--port 3000]
// `Authorization: Bearer <name>` names the client `<name>`: a stand-in for real OAuth (demo only;
// put your token verification there, e.g. requireBearerAuth from @modelcontextprotocol/server).
import { createServer, type IncomingMessage } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler } from '@modelcontextprotocol/server';
import { withTaskNotifications } from '../src/mcp/index.js';
import { createDemoExecutor, createDemoFactory } from './demo-tools.js';

const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 3000 : Number(process.argv[portFlag + 1]);
const executor = createDemoExecutor();
const factory = createDemoFactory(executor);
// withTaskNotifications adds notifications/tasks (the tasks extension) for clients that listen.
const mcp = toNodeHandler(withTaskNotifications(createMcpHandler(factory), factory));

const server = createServer((request, response) => {
  const match = /^Bearer ([A-Za-z0-9_-]{1,64})$/.exec(request.headers.authorization ?? '');
  if (match !== null) {
    const auth: AuthInfo = { token: match[1]!, clientId: match[1]!, scopes: [] };
    (request as IncomingMessage & { auth?: AuthInfo }).auth = auth; // toNodeHandler passes it on as ctx.http.authInfo
  }
  void mcp(request as Parameters<typeof mcp>[0], response);
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stderr.write(`mcp-async demo server on http://127.0.0.1:${address.port}/mcp\n`);
});

const shutdown = async () => {
  server.close();
  await executor.stop({ drainMs: 25_000 });
  server.closeAllConnections();
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
