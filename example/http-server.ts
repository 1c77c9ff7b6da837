// The demo's MCP server over Streamable HTTP, stateful (a session per client) or stateless (a
// server per request). `serveHttp()` is reused by the tests; run this file to serve the demo:
//   npx tsx example/http-server.ts [--port 3000] [--stateless]
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createDemoExecutor, createDemoServer } from './demo-server.js';

export interface HttpServerOptions {
  /** Builds the McpServer for a new session (stateful) or a request (stateless). */
  readonly createServer: () => McpServer;
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** One server and transport per request, no sessions. */
  readonly stateless?: boolean;
  /**
   * Maps a request to the authenticated client, if any. The demo's stand-in for real OAuth:
   * whatever it answers becomes the request's `authInfo`.
   */
  readonly authenticate?: (request: IncomingMessage) => AuthInfo | undefined;
}

export interface RunningHttpServer {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: URL;
  readonly server: Server;
  close(): Promise<void>;
}

/** `Authorization: Bearer <name>` names the client `<name>`. For demos and tests only. */
export function bearerNameAuthenticator(request: IncomingMessage): AuthInfo | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]{1,64})$/.exec(request.headers.authorization ?? '');
  return match === null ? undefined : { token: match[1]!, clientId: match[1]!, scopes: [] };
}

export async function serveHttp(options: HttpServerOptions): Promise<RunningHttpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const handle = async (request: IncomingMessage & { auth?: AuthInfo }, response: ServerResponse) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/mcp') {
      response.writeHead(404).end('not found');
      return;
    }
    const auth = options.authenticate?.(request);
    if (auth !== undefined) request.auth = auth;

    if (options.stateless === true) {
      const server = options.createServer();
      // No sessionIdGenerator: stateless mode.
      const transport = new StreamableHTTPServerTransport({});
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request, response);
      return;
    }

    const sessionId = request.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (transport === undefined) {
      if (typeof sessionId === 'string') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }),
        );
        return;
      }
      const server = options.createServer();
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, created);
        },
      });
      created.onclose = () => {
        if (created.sessionId !== undefined) sessions.delete(created.sessionId);
        void server.close();
      };
      await server.connect(created);
      transport = created;
    }
    await transport.handleRequest(request, response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    server,
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const portFlag = process.argv.indexOf('--port');
  const executor = createDemoExecutor();
  const running = await serveHttp({
    createServer: () => createDemoServer(executor),
    port: portFlag === -1 ? 3000 : Number(process.argv[portFlag + 1]),
    stateless: process.argv.includes('--stateless'),
    authenticate: bearerNameAuthenticator,
  });
  process.stderr.write(`mcp-async demo server on ${running.url.href}\n`);
  const shutdown = async () => {
    await executor.stop();
    await running.close();
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}
