// `npm run demo:v1`: spawns example/v1/server.ts over stdio with the real MCP SDK client and prints a
// transcript: a render that outlives the server's wait budget answers "still running", is
// long-polled with continue_operation to its result while progress arrives, a second render is
// cancelled, and list_operations shows both. Then the same render as a native MCP task, and once
// more through callToolWithContinuation, which follows either way on its own.
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import {
  type CallToolResult,
  CallToolResultSchema,
  CreateTaskResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { callToolWithContinuation, OPERATION_META_KEY, type RunningState } from '../../src/mcp/v1/index.js';

const started = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(4)} s] ${line}`);
const textOf = (result: CallToolResult) =>
  result.content.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join(' ');
const runningState = (result: CallToolResult) =>
  result._meta?.[OPERATION_META_KEY] as RunningState | undefined;

const client = new Client({ name: 'mcp-async-demo-client', version: '0.1.0' });
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', fileURLToPath(new URL('./server.ts', import.meta.url))],
    env: { ...(process.env as Record<string, string>), MCP_ASYNC_WAIT_MS: '1500' },
    stderr: 'inherit',
  }),
);
const { tools } = await client.listTools();
log(`connected; tools: ${tools.map((tool) => tool.name).join(', ')}`);

log('call render_video {frames: 16, frame_ms: 250} (about 4.5 s of work; the server waits 1.5 s)');
let result = (await client.callTool(
  { name: 'render_video', arguments: { title: 'Launch trailer', frames: 16, frame_ms: 250 } },
  undefined,
  { onprogress: (p) => log(`  progress notification: ${p.progress}/${p.total} ${p.message ?? ''}`) },
)) as CallToolResult;
log(`<- ${textOf(result)}`);

let state = runningState(result);
while (state?.status === 'running') {
  log(`call continue_operation {operation_id: "${state.operation_id}", wait_seconds: 2}`);
  result = (await client.callTool({
    name: 'continue_operation',
    arguments: { operation_id: state.operation_id, wait_seconds: 2 },
  })) as CallToolResult;
  log(`<- ${textOf(result)}`);
  state = runningState(result);
}
log(`   structuredContent: ${JSON.stringify(result.structuredContent)}`);

log('call render_video {frames: 400} and cancel it');
const long = (await client.callTool({
  name: 'render_video',
  arguments: { title: 'Director cut', frames: 400, frame_ms: 250 },
})) as CallToolResult;
const longState = runningState(long);
if (longState !== undefined) {
  const cancelled = (await client.callTool({
    name: 'cancel_operation',
    arguments: { operation_id: longState.operation_id },
  })) as CallToolResult;
  log(`<- ${textOf(cancelled)}`);
  const after = (await client.callTool({
    name: 'continue_operation',
    arguments: { operation_id: longState.operation_id, wait_seconds: 0 },
  })) as CallToolResult;
  log(`<- continue_operation after the cancel: ${textOf(after)}`);
}

log('call list_operations {}');
log(
  `<- ${textOf((await client.callTool({ name: 'list_operations', arguments: {} })) as CallToolResult).replaceAll('\n', '\n         ')}`,
);
log('call continue_operation {operation_id: 42} (bad input)');
log(
  `<- ${textOf((await client.callTool({ name: 'continue_operation', arguments: { operation_id: 42 } })) as CallToolResult)}`,
);

log('call render_video {frames: 8} as a native MCP task (params.task)');
const { task } = await client.request(
  {
    method: 'tools/call',
    params: { name: 'render_video', arguments: { title: 'Teaser', frames: 8, frame_ms: 250 } },
  },
  CreateTaskResultSchema,
  {
    task: {},
    onprogress: (p) => log(`  progress notification: ${p.progress}/${p.total} ${p.message ?? ''}`),
  },
);
log(`<- task ${task.taskId}: ${task.status} (${task.statusMessage ?? ''})`);
log(`call tasks/result {taskId: "${task.taskId}"} (answers when the render ends)`);
const taskResult = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
log(`<- ${textOf(taskResult)}`);
log(`call tasks/get -> ${(await client.experimental.tasks.getTask(task.taskId)).status}`);

log('callToolWithContinuation(render_video {frames: 8}): one await, however the server answers');
const followed = await callToolWithContinuation(
  client,
  { name: 'render_video', arguments: { title: 'Outro', frames: 8, frame_ms: 250 } },
  { onProgress: (p) => log(`  progress notification: ${p.progress}/${p.total} ${p.message ?? ''}`) },
);
log(`<- ${textOf(followed)}`);

await client.close();
log('closed; the server exits with its stdin');
