// Figure 6: end to end over the real SDK clients, stdio and Streamable HTTP, on both SDK lines (v1
// with the 2025 handshake; v2 pinned to 2026-07-28). A tool's work finishes (its result records the
// moment, on the monotonic clock shared by every process of the machine); the figure is how long
// until the client holds that result: continue_operation long-polling, a native MCP task followed
// with tasks/result (v1), a task of the tasks extension (v2 on 2026-07-28) heard on a
// subscriptions/listen stream (callToolWithContinuation) or polled with tasks/get at the advertised
// pollIntervalMs (the official @modelcontextprotocol/ext-tasks client, which never listens), and a
// client that instead polls every 1 s (continue_operation with wait_seconds 0), the usual
// alternative. Work durations are randomised so that polling phases are not aligned.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as HttpTransportV2,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { serveHttp } from '../example/v1/http-server.js';
import { Executor } from '../src/index.js';
import {
  callToolWithContinuation,
  OPERATION_META_KEY,
  type RunningState,
  withTaskNotifications,
} from '../src/mcp/index.js';
import { taskSession } from '../test/mcp-v2/task-session.js';
import { createBenchServer } from './e2e-server.js';
import { createBenchExecutor, createBenchFactory } from './e2e-server-v2.js';
import { percentile, report } from './lib.js';

const LONG_POLL_SAMPLES = 200;
const POLL_SAMPLES = 16;
const POLL_INTERVAL_MS = 1000;
/** The pollIntervalMs the bench server's tasks advertise: the library's default. */
const TASK_POLL_INTERVAL_MS = 1000;

/** What the figure needs of a client, whichever SDK line it is on. */
interface BenchClient {
  callTool(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  /** Calls `timed` as a native task and answers its result (v1 only). */
  taskResult?(ms: number): Promise<ToolResult>;
  /** The tasks extension (v2): the task heard on a listen stream (callToolWithContinuation). */
  taskListen?(ms: number): Promise<ToolResult>;
  /** The tasks extension (v2): the task polled at its pollIntervalMs (the ext-tasks client). */
  taskPoll?(ms: number): Promise<ToolResult>;
  close(): Promise<void>;
}
type ToolResult = {
  _meta?: Record<string, unknown> | undefined;
  structuredContent?: Record<string, unknown> | undefined;
};

function finishedToReceived(result: ToolResult): number {
  const received = process.hrtime.bigint();
  return Number(received - BigInt((result.structuredContent as { finished_ns: string }).finished_ns)) / 1e6;
}

type Mode = 'long-poll' | 'poll' | 'task' | 'task-listen' | 'task-poll';

async function sample(client: BenchClient, mode: Mode): Promise<number> {
  // Polling: work of 0.2-2.2 s, so the moment it finishes falls anywhere in a polling interval.
  const ms = mode === 'poll' || mode === 'task-poll' ? 200 + Math.random() * 2000 : 40 + Math.random() * 60;
  if (mode === 'task') return finishedToReceived(await client.taskResult!(ms));
  if (mode === 'task-listen') return finishedToReceived(await client.taskListen!(ms));
  if (mode === 'task-poll') return finishedToReceived(await client.taskPoll!(ms));
  const first = await client.callTool('timed', { ms });
  const state = first._meta?.[OPERATION_META_KEY] as RunningState | undefined;
  if (state?.status !== 'running') throw new Error('expected a running answer');
  for (;;) {
    if (mode === 'poll') await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    const result = await client.callTool('continue_operation', {
      operation_id: state.operation_id,
      wait_seconds: mode === 'poll' ? 0 : 10,
    });
    if ((result._meta?.[OPERATION_META_KEY] as RunningState | undefined)?.status !== 'running') {
      return finishedToReceived(result);
    }
  }
}

async function samples(client: BenchClient, mode: Mode, count: number, warmUp = 20): Promise<number[]> {
  for (let i = 0; i < warmUp; i++) await sample(client, mode);
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(await sample(client, mode));
  return values.sort((a, b) => a - b);
}

async function measure(setup: string, client: BenchClient): Promise<void> {
  const longPoll = await samples(client, 'long-poll', LONG_POLL_SAMPLES);
  const byTask =
    client.taskResult === undefined ? undefined : await samples(client, 'task', LONG_POLL_SAMPLES);
  const listened =
    client.taskListen === undefined ? undefined : await samples(client, 'task-listen', LONG_POLL_SAMPLES);
  const taskPolled =
    client.taskPoll === undefined ? undefined : await samples(client, 'task-poll', POLL_SAMPLES, 1);
  const poll = await samples(client, 'poll', POLL_SAMPLES, 0);
  await client.close();
  const p50 = percentile(longPoll, 50);
  const ms = (values: number[], digits = 2) =>
    `p50 ${percentile(values, 50).toFixed(digits)} ms, p99 ${percentile(values, 99).toFixed(digits)} ms`;
  const task = byTask === undefined ? '' : `native task (tasks/result) ${ms(byTask)}; `;
  const extension =
    listened === undefined || taskPolled === undefined
      ? ''
      : `tasks extension: heard on subscriptions/listen ${ms(listened)}, polled every ${TASK_POLL_INTERVAL_MS} ms (the advertised pollIntervalMs, ext-tasks client) ${ms(taskPolled, 0)}; `;
  report({
    figure: `6. work finished -> client holds the result, ${setup}`,
    value: `long-poll ${ms(longPoll)}; ${task}${extension}polling every 1 s ${ms(poll, 0)}`,
    goal: `long-poll p50 <= 5 ms${listened === undefined ? '' : '; listening p50 <= 5 ms'}`,
    go: 'n/a (no MCP client in the Go figures)',
    met: p50 <= 5 && (listened === undefined || percentile(listened, 50) <= 5),
    method:
      `${LONG_POLL_SAMPLES} long-poll${byTask === undefined ? '' : ` and ${LONG_POLL_SAMPLES} task`}` +
      `${listened === undefined ? '' : ` and ${LONG_POLL_SAMPLES} listening`} samples (40-100 ms work) and ` +
      `${POLL_SAMPLES} polling${taskPolled === undefined ? '' : ' and task-polling'} samples (0.2-2.2 s work); ` +
      'received minus finished on the shared monotonic clock',
  });
}

function v1Client(client: Client): BenchClient {
  return {
    callTool: (name, args) => client.callTool({ name, arguments: args }) as Promise<ToolResult>,
    async taskResult(ms) {
      const { task } = await client.request(
        { method: 'tools/call', params: { name: 'timed', arguments: { ms } } },
        CreateTaskResultSchema,
        { task: {} },
      );
      return client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    },
    close: () => client.close(),
  };
}

function v2Client(client: ClientV2): BenchClient {
  const negotiated = client.getNegotiatedProtocolVersion();
  if (negotiated !== '2026-07-28') throw new Error(`the v2 client negotiated ${negotiated}, not 2026-07-28`);
  const session = taskSession(client, 'bench');
  return {
    // A plain call declares no extension: the continue_operation flow.
    callTool: (name, args) => client.callTool({ name, arguments: args }) as Promise<ToolResult>,
    taskListen: async (ms) =>
      (await callToolWithContinuation(
        client,
        { name: 'timed', arguments: { ms } },
        { tasks: true },
      )) as ToolResult,
    async taskPoll(ms) {
      const execution = await session.callTool('timed', { ms }, { task: { preference: 'require' } });
      const outcome = await execution.result();
      if (outcome.status !== 'completed') throw new Error(`the task ended ${outcome.status}`);
      return outcome.result as ToolResult;
    },
    close: async () => {
      await session.close();
      await client.close();
    },
  };
}

/** A v2 client that opens with 2026-07-28 (server/discover, no handshake). */
function newV2Client(): ClientV2 {
  return new ClientV2(
    { name: 'bench', version: '0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
}

const serverScript = (file: string) => ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url))];

// v1, stdio: the server is a child process, as a desktop client runs it
{
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: serverScript('./e2e-server.ts') }),
  );
  await measure('SDK v1 (2025-11-25), stdio', v1Client(client));
}

// v1, Streamable HTTP (stateful) on loopback
{
  const executor = new Executor({
    maxWaitMs: 30_000,
    maxOperations: Number.POSITIVE_INFINITY,
    retentionMs: 10_000,
  });
  const http = await serveHttp({ createServer: () => createBenchServer(executor) });
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(http.url));
  await measure('SDK v1 (2025-11-25), Streamable HTTP', v1Client(client));
  await executor.stop();
  await http.close();
}

// v2 on 2026-07-28, stdio: serveStdio in a child process
{
  const client = newV2Client();
  await client.connect(
    new StdioTransportV2({ command: process.execPath, args: serverScript('./e2e-server-v2.ts') }),
  );
  await measure('SDK v2 (2026-07-28), stdio', v2Client(client));
}

// v2 on 2026-07-28, Streamable HTTP: createMcpHandler (a server per request) through @modelcontextprotocol/node
{
  const executor = createBenchExecutor();
  const factory = createBenchFactory(executor);
  const handler = toNodeHandler(withTaskNotifications(createMcpHandler(factory), factory));
  const http: Server = createServer(
    (request, response) => void handler(request as Parameters<typeof handler>[0], response),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const client = newV2Client();
  await client.connect(
    new HttpTransportV2(new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`)),
  );
  await measure('SDK v2 (2026-07-28), Streamable HTTP', v2Client(client));
  await executor.stop();
  http.closeAllConnections();
  await new Promise<void>((resolve) => http.close(() => resolve()));
}
