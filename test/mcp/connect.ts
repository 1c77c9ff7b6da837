// Real transports for the MCP tests: a spawned stdio server, or an in-process Streamable HTTP
// server (stateful or stateless) reached over loopback by the SDK client.
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { bearerNameAuthenticator, serveHttp } from '../../example/v1/http-server.js';
import { Executor } from '../../src/index.js';
import { type AsyncToolsOptions, OPERATION_META_KEY, type RunningState } from '../../src/mcp/v1/index.js';
import { WorkerPool } from '../../src/workers/index.js';
import { createTestServer } from '../fixtures/test-server.js';

export type TransportKind = 'stdio' | 'http-stateful' | 'http-stateless';
export const TRANSPORTS: TransportKind[] = ['stdio', 'http-stateful', 'http-stateless'];

export interface TestServer {
  /** A new client session; `as` names the authenticated client (HTTP only). */
  connect(as?: string): Promise<Client>;
  close(): Promise<void>;
}

/** `maxWaitMs` and `toolsOptions` apply to the in-process (HTTP) servers. */
export async function startTestServer(
  kind: TransportKind,
  maxWaitMs = 5000,
  toolsOptions?: AsyncToolsOptions,
): Promise<TestServer> {
  const clients: Client[] = [];
  const track = (client: Client) => {
    clients.push(client);
    return client;
  };
  if (kind === 'stdio') {
    const script = fileURLToPath(new URL('../fixtures/stdio-test-server.ts', import.meta.url));
    return {
      async connect() {
        const client = new Client({ name: 'test', version: '0' });
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
  const pool = new WorkerPool({ maxThreads: 1 });
  const http = await serveHttp({
    // Clients that poll tasks (the SDK's callToolStream) need not wait a second between polls.
    createServer: () => createTestServer(executor, { tasks: { pollIntervalMs: 50 }, ...toolsOptions }, pool),
    stateless: kind === 'http-stateless',
    authenticate: bearerNameAuthenticator,
  });
  return {
    async connect(as?: string) {
      const client = new Client({ name: 'test', version: '0' });
      const headers: Record<string, string> = as === undefined ? {} : { authorization: `Bearer ${as}` };
      await client.connect(new StreamableHTTPClientTransport(http.url, { requestInit: { headers } }));
      return track(client);
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await executor.stop();
      await pool.close();
      await http.close();
    },
  };
}

/** Calls a tool and checks the answer is a well-formed CallToolResult. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  options?: Parameters<Client['callTool']>[2],
): Promise<CallToolResult> {
  const result = await client.callTool({ name, arguments: args }, undefined, options);
  return CallToolResultSchema.parse(result);
}

export function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

/** The test server's abort log for `gate` (its `abort_log` tool waits up to `waitMs` for that gate's abort). */
export async function abortLogOf(
  client: Client,
  gate: string,
  waitMs: number,
): Promise<{ gate: string; reason: string }[]> {
  return JSON.parse(textOf(await call(client, 'abort_log', { gate, wait_ms: waitMs })));
}

/** The operation state a running answer carries in `_meta` (for any tool). */
export function stateOf(result: CallToolResult): RunningState | undefined {
  return result._meta?.[OPERATION_META_KEY] as RunningState | undefined;
}

let gateCounter = 0;
/** A gate name unique to this test run. */
export function newGate(): string {
  return `gate-${process.pid}-${++gateCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The requests the client sends from now on: method, and `:tool` for tools/call. */
export function watchSent(client: Client, onSend?: (request: string) => void): string[] {
  const sent: string[] = [];
  const transport = client.transport!;
  const send = transport.send.bind(transport);
  transport.send = (message, sendOptions) => {
    const { method, params } = message as { method?: string; params?: { name?: string } };
    if (method !== undefined) {
      const request = method === 'tools/call' ? `${method}:${params?.name}` : method;
      sent.push(request);
      onSend?.(request);
    }
    return send(message, sendOptions);
  };
  return sent;
}
