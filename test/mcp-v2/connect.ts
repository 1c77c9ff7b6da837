// Real transports for the SDK v2 tests: the v2 test server over stdio (a spawned process, serveStdio)
// or Streamable HTTP (createMcpHandler through @modelcontextprotocol/node, in process), driven by the
// real v2 Client in either protocol era: the 2025 handshake ("legacy", the SDK's default) or pinned
// to 2026-07-28 ("modern").
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  type CallToolResult,
  Client,
  type ClientCapabilities,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { type AuthInfo, createMcpHandler } from '@modelcontextprotocol/server';
import { Executor, type ExecutorOptions } from '../../src/index.js';
import {
  type AsyncToolsOptions,
  OPERATION_META_KEY,
  type RunningState,
  withTaskNotifications,
} from '../../src/mcp/index.js';
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
  /**
   * A new client in `era`; `as` names the authenticated client (HTTP only); `capabilities` are the
   * client's (an `elicitation: {}` to say it can answer elicitations).
   */
  connect(era: Era, as?: string, capabilities?: ClientCapabilities): Promise<Client>;
  /** The executor of an in-process (HTTP) server. */
  readonly executor: Executor | undefined;
  /**
   * Cuts every HTTP connection of `client`, as when a client process exits: nothing it has in
   * flight is answered, and it can make no more requests. (Over stdio, a no-op: the server would
   * exit with its client.)
   */
  sever(client: Client): void;
  close(): Promise<void>;
}

/** `Authorization: Bearer <name>` names the client `<name>`: the tests' stand-in for real OAuth. */
function authenticate(request: IncomingMessage): AuthInfo | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]{1,64})$/.exec(request.headers.authorization ?? '');
  return match === null ? undefined : { token: match[1]!, clientId: match[1]!, scopes: [] };
}

function newClient(era: Era, capabilities?: ClientCapabilities): Client {
  return new Client(
    { name: 'v2-test', version: '0' },
    {
      ...(era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}),
      ...(capabilities === undefined ? {} : { capabilities }),
    },
  );
}

/** The protocol revision each era must negotiate: a client that fell back would test the wrong era. */
export const ERA_VERSION: Record<Era, string> = { legacy: '2025-11-25', modern: '2026-07-28' };

function checkEra(client: Client, era: Era): Client {
  const negotiated = client.getNegotiatedProtocolVersion();
  if (negotiated !== ERA_VERSION[era]) {
    throw new Error(`the ${era} client negotiated ${negotiated}, not ${ERA_VERSION[era]}`);
  }
  return client;
}

export async function startV2Server(
  transport: Transport,
  /** The HTTP server's executor: its maxWaitMs, or its options (over stdio, the fixture's own). */
  executorOptions: number | ExecutorOptions = 5000,
  toolsOptions?: AsyncToolsOptions,
  /** Serve notifications/tasks on subscriptions/listen (withTaskNotifications). */
  taskNotifications = true,
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
      sever() {},
      async connect(era, _as, capabilities) {
        const client = newClient(era, capabilities);
        await client.connect(
          new StdioClientTransport({
            command: process.execPath,
            args: ['--import', 'tsx', script],
            stderr: 'inherit',
            env: {
              ...getDefaultEnvironment(),
              MCP_ASYNC_NO_TASK_NOTIFICATIONS: taskNotifications ? '0' : '1',
            },
          }),
        );
        return track(checkEra(client, era));
      },
      async close() {
        await Promise.all(clients.map((client) => client.close()));
      },
    };
  }
  const executor = new Executor(
    typeof executorOptions === 'number' ? { maxWaitMs: executorOptions } : executorOptions,
  );
  const factory = createV2TestFactory(executor, toolsOptions);
  const mcpHandler = createMcpHandler(factory);
  const handler = toNodeHandler(taskNotifications ? withTaskNotifications(mcpHandler, factory) : mcpHandler);
  const http: Server = createServer((request, response) => {
    const auth = authenticate(request);
    if (auth !== undefined) (request as IncomingMessage & { auth?: AuthInfo }).auth = auth;
    void handler(request as Parameters<typeof handler>[0], response);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
  const cut = new WeakMap<Client, AbortController>();
  return {
    executor,
    sever(client) {
      cut.get(client)?.abort(new Error('the client went away'));
    },
    async connect(era, as, capabilities) {
      const client = newClient(era, capabilities);
      const headers: Record<string, string> = as === undefined ? {} : { authorization: `Bearer ${as}` };
      const gone = new AbortController();
      cut.set(client, gone);
      const fetchUntilGone: typeof fetch = (input, init) =>
        fetch(input, {
          ...init,
          signal: init?.signal ? AbortSignal.any([init.signal, gone.signal]) : gone.signal,
        });
      await client.connect(
        new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: fetchUntilGone }),
      );
      return track(checkEra(client, era));
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
