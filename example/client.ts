// `npm run demo`: the current MCP line end to end. The SDK v2 client, pinned to protocol 2026-07-28,
// spawns example/server.ts (SDK v2, serveStdio) and prints a transcript: a render that outlives the
// server's wait budget answers "still running" and is long-polled with continue_operation to its
// own result while progress arrives on each request; a second render is cancelled; list_operations
// shows both; bad input gets an error naming the field; then one more render through
// callToolWithContinuation, one await for all of it: the server offers the tasks extension, so it
// becomes a task whose end is heard on subscriptions/listen. (`npm run demo:v1` shows the same on
// SDK 1.x.)
import { fileURLToPath } from 'node:url';
import { type CallToolResult, Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import {
  callToolWithContinuation,
  OPERATION_META_KEY,
  type ProgressUpdate,
  type RunningState,
} from '../src/mcp/index.js';

const started = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(4)} s] ${line}`);
const textOf = (result: CallToolResult) =>
  result.content.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join(' ');
const runningState = (result: CallToolResult) =>
  result._meta?.[OPERATION_META_KEY] as RunningState | undefined;
const onprogress = (p: ProgressUpdate) =>
  log(`  progress notification: ${p.progress}/${p.total} ${p.message ?? ''}`);

const client = new Client(
  { name: 'mcp-async-demo-client', version: '0.1.0' },
  { versionNegotiation: { mode: { pin: '2026-07-28' } } },
);
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', fileURLToPath(new URL('./server.ts', import.meta.url))],
    env: { ...(process.env as Record<string, string>), MCP_ASYNC_WAIT_MS: '1500' },
    stderr: 'inherit',
  }),
);
const { tools } = await client.listTools();
log(
  `connected (protocol era: ${client.getProtocolEra()}); tools: ${tools.map((tool) => tool.name).join(', ')}`,
);

log('call render_video {frames: 16, frame_ms: 250} (about 4.5 s of work; the server waits 1.5 s)');
let result = (await client.callTool(
  { name: 'render_video', arguments: { title: 'Launch trailer', frames: 16, frame_ms: 250 } },
  { onprogress },
)) as CallToolResult;
log(`<- ${textOf(result)}`);

let state = runningState(result);
while (state?.status === 'running') {
  log(`call continue_operation {operation_id: "${state.operation_id}", wait_seconds: 2}`);
  result = (await client.callTool(
    { name: 'continue_operation', arguments: { operation_id: state.operation_id, wait_seconds: 2 } },
    { onprogress },
  )) as CallToolResult;
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
}

log('call list_operations {}');
const listed = (await client.callTool({ name: 'list_operations', arguments: {} })) as CallToolResult;
log(`<- ${textOf(listed).replaceAll('\n', '\n         ')}`);
log('call continue_operation {operation_id: 42} (bad input)');
log(
  `<- ${textOf((await client.callTool({ name: 'continue_operation', arguments: { operation_id: 42 } })) as CallToolResult)}`,
);

log('callToolWithContinuation(render_video {frames: 8}): one await, however long the tool takes');
log(
  '   (the server offers the tasks extension: past the wait it is a task, its end heard on subscriptions/listen)',
);
const followed = await callToolWithContinuation(
  client,
  { name: 'render_video', arguments: { title: 'Outro', frames: 8, frame_ms: 250 } },
  { onProgress: onprogress },
);
log(`<- ${textOf(followed)}`);

await client.close();
log('closed; the server drains and exits with its stdin');
