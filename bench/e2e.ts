// Figure 6: end to end over the real SDK client, stdio and Streamable HTTP. A tool's work finishes
// (its result records the moment, on the monotonic clock shared by every process of the machine);
// the figure is how long until the client holds that result: continue_operation long-polling, a
// native MCP task followed with tasks/result, and a client that instead polls every 1 s
// (continue_operation with wait_seconds 0), the usual alternative. Work durations are randomised
// so that polling phases are not aligned.
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type CallToolResult,
  CallToolResultSchema,
  CreateTaskResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { serveHttp } from '../example/v1/http-server.js';
import { Executor } from '../src/index.js';
import { OPERATION_META_KEY, type RunningState } from '../src/mcp/v1/index.js';
import { createBenchServer } from './e2e-server.js';
import { percentile, report } from './lib.js';

const LONG_POLL_SAMPLES = 200;
const POLL_SAMPLES = 16;
const POLL_INTERVAL_MS = 1000;

async function sample(client: Client, mode: 'long-poll' | 'poll' | 'task'): Promise<number> {
  // Polling: work of 0.2-2.2 s, so the moment it finishes falls anywhere in a polling interval.
  const ms = mode === 'poll' ? 200 + Math.random() * 2000 : 40 + Math.random() * 60;
  if (mode === 'task') {
    const { task } = await client.request(
      { method: 'tools/call', params: { name: 'timed', arguments: { ms } } },
      CreateTaskResultSchema,
      { task: {} },
    );
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    const received = process.hrtime.bigint();
    return Number(received - BigInt((result.structuredContent as { finished_ns: string }).finished_ns)) / 1e6;
  }
  const first = (await client.callTool({ name: 'timed', arguments: { ms } })) as CallToolResult;
  const state = first._meta?.[OPERATION_META_KEY] as RunningState | undefined;
  if (state?.status !== 'running') throw new Error('expected a running answer');
  let result: CallToolResult;
  for (;;) {
    if (mode === 'poll') await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    result = (await client.callTool({
      name: 'continue_operation',
      arguments: { operation_id: state.operation_id, wait_seconds: mode === 'poll' ? 0 : 10 },
    })) as CallToolResult;
    if ((result._meta?.[OPERATION_META_KEY] as RunningState | undefined)?.status !== 'running') break;
  }
  const received = process.hrtime.bigint();
  const finished = BigInt((result.structuredContent as { finished_ns: string }).finished_ns);
  return Number(received - finished) / 1e6;
}

async function measure(transport: string, client: Client): Promise<void> {
  for (let i = 0; i < 20; i++) await sample(client, 'long-poll'); // warm-up
  const longPoll: number[] = [];
  for (let i = 0; i < LONG_POLL_SAMPLES; i++) longPoll.push(await sample(client, 'long-poll'));
  for (let i = 0; i < 20; i++) await sample(client, 'task'); // warm-up
  const byTask: number[] = [];
  for (let i = 0; i < LONG_POLL_SAMPLES; i++) byTask.push(await sample(client, 'task'));
  byTask.sort((a, b) => a - b);
  const poll: number[] = [];
  for (let i = 0; i < POLL_SAMPLES; i++) poll.push(await sample(client, 'poll'));
  longPoll.sort((a, b) => a - b);
  poll.sort((a, b) => a - b);
  const p50 = percentile(longPoll, 50);
  report({
    figure: `6. work finished -> client holds the result, ${transport}`,
    value:
      `long-poll p50 ${p50.toFixed(2)} ms, p99 ${percentile(longPoll, 99).toFixed(2)} ms; ` +
      `native task (tasks/result) p50 ${percentile(byTask, 50).toFixed(2)} ms, p99 ${percentile(byTask, 99).toFixed(2)} ms; ` +
      `polling every 1 s p50 ${percentile(poll, 50).toFixed(0)} ms, p99 ${percentile(poll, 99).toFixed(0)} ms`,
    goal: 'long-poll p50 <= 5 ms',
    go: 'n/a (no MCP client in the Go figures)',
    met: p50 <= 5,
    method: `${LONG_POLL_SAMPLES} long-poll and ${LONG_POLL_SAMPLES} task samples (40-100 ms work) and ${POLL_SAMPLES} polling samples (0.2-2.2 s work); received minus finished on the shared monotonic clock`,
  });
}

// stdio: the server is a child process, as a desktop client runs it
{
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', fileURLToPath(new URL('./e2e-server.ts', import.meta.url))],
    }),
  );
  await measure('stdio', client);
  await client.close();
}

// Streamable HTTP (stateful) on loopback
{
  const executor = new Executor({
    maxWaitMs: 30_000,
    maxOperations: Number.POSITIVE_INFINITY,
    retentionMs: 10_000,
  });
  const http = await serveHttp({ createServer: () => createBenchServer(executor) });
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(http.url));
  await measure('Streamable HTTP', client);
  await client.close();
  await executor.stop();
  await http.close();
}
