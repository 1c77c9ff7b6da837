// The server for figure 6: one long-running tool whose result carries the moment its work
// finished, on the system-wide monotonic clock (process.hrtime), so that a client in another
// process can tell how long the result took to reach it. Run directly, it serves stdio.
import { setTimeout as sleep } from 'node:timers/promises';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { Executor } from '../src/index.js';
import { registerAsyncTools, withTasks } from '../src/mcp/v1/index.js';

export function createBenchServer(executor: Executor): McpServer {
  // With native tasks: a call without params.task still takes the continue_operation path.
  const server = new McpServer({ name: 'mcp-async-bench', version: '0.0.0' }, withTasks(executor));
  registerAsyncTools(server, executor).registerTool(
    'timed',
    { inputSchema: { ms: z.number().min(0) }, waitMs: 20 },
    async ({ ms }, { signal }) => {
      await sleep(ms, undefined, { signal });
      const finished = process.hrtime.bigint();
      return {
        content: [{ type: 'text', text: 'done' }],
        structuredContent: { finished_ns: finished.toString() },
      };
    },
  );
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const executor = new Executor({
    maxWaitMs: 30_000,
    maxOperations: Number.POSITIVE_INFINITY,
    retentionMs: 10_000,
  });
  const server = createBenchServer(executor);
  await server.connect(new StdioServerTransport());
  process.stdin.on('close', () => void executor.stop().then(() => server.close()));
}
