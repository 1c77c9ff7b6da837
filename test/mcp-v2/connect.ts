// Real transports for the SDK v2 tests: the v2 test server over stdio (a spawned process, serveStdio)
// or Streamable HTTP (createMcpHandler through @modelcontextprotocol/node, in process), driven by the
// real v2 Client in either protocol era: the 2025 handshake ("legacy", the SDK's default) or pinned
// to 2026-07-28 ("modern").
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type CallToolResult, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler } from '@modelcontextprotocol/server';
import { Executor } from '../../src/index.js';
import { type AsyncToolsOptions, OPERATION_META_KEY, type RunningState } from '../../src/mcp/index.js';
import { createV2TestFactory } from '../fixtures/v2-test-server.js';

export type Era = 'legacy' | 'modern';
export type Transport = 'stdio' | 'http';
export const SETUPS: [Transport, Era][] = [
  ['stdio', 'legacy'],
  ['stdio', 'modern'],
  ['http', 'legacy'],
  ['http', 'modern'],
];

export interface V2TestServer {
  /** A new client in `era`; `as` names the authenticated client (HTTP only). */
  connect(era: Era, as?: string): Promise<Client>;
  /** The executor of an in-process (HTTP) server. */
  readonly executor: Executor | undefined;
  close(): Promise<void>;
}

/** `Authorization: Bearer <name>` names the client `<name>`: the tests' stand-in for real OAuth. */
function authenticate(request: IncomingMessage): AuthInfo | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]{1,64})$/.exec(request.headers.authorization ?? '');
  return match === null ? undefined : { token: match[1]!, clientId: match[1]!, scopes: [] };
}

function newClient(era: Era): Client {
  return new Client(
    { name: 'v2-test', version: '0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
}

export async function startV2Server(
  transport: Transport,
  maxWaitMs = 5000,
  toolsOptions?: AsyncToolsOptions,
): Promise<V2TestServer> {
  const clients: Client[] = [];
  const track = (client: Client) => {
    clients.push(client);
    return client;
  };
  if (transport === 'stdio') {
    const script = fileURLToPath(new URL('../fixtures/v2-stdio-test-server.ts', import.meta.url));
    return {
      executor: undefined,
      async connect(era) {
        const client = newClient(era);
        await client.connect(
          new StdioClientTransport({
            command: process.execPath,
            args: ['--import', 'tsx', script],
            stderr: 'inherit',
          }),
        );
        return track(client);
      },
      async close() {
        await Promise.all(clients.map((client) => client.close()));
      },
    };
  }
  const executor = new Executor({ maxWaitMs });
  const handler = toNodeHandler(createMcpHandler(createV2TestFactory(executor, toolsOptions)));
  const http: Server = createServer((request, response) => {
    const auth = authenticate(request);
    if (auth !== undefined) (request as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    void handler(request as Parameters<typeof handler>[0], response);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
  return {
    executor,
    async connect(era, as) {
      const client = newClient(era);
      const headers: Record<string, string> = as === undefined ? {} : { authorization: `Bearer ${as}` };
      await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
      return track(client);
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await executor.stop();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Calls a tool and answers its result. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  options?: Parameters<Client['callTool']>[1],
): Promise<CallToolResult> {
  return client.callTool({ name, arguments: args }, options) as Promise<CallToolResult>;
}

export function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The operation state a running answer carries in `_meta`. */
export function stateOf(result: CallToolResult): RunningState | undefined {
  return result._meta?.[OPERATION_META_KEY] as RunningState | undefined;
}
