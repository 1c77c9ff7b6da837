// The SDK v2 server for figure 6: the same `timed` tool as e2e-server.ts, on serverFactory, so that
// serveStdio (run directly) or createMcpHandler builds a server per connection or request, every one
// on one executor. The result carries the moment the work finished on the system-wide monotonic clock.
import { setTimeout as sleep } from 'node:timers/promises';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';
import { Executor } from '../src/index.js';
import { serverFactory, taskNotificationsTransport } from '../src/mcp/index.js';

export function createBenchExecutor(): Executor {
  return new Executor({ maxWaitMs: 30_000, maxOperations: Number.POSITIVE_INFINITY, retentionMs: 10_000 });
}

const timedInput = z.object({ ms: z.number().min(0) }); // built once, not per request

export function createBenchFactory(executor: Executor) {
  return serverFactory(executor, { name: 'mcp-async-bench', version: '0.0.0' }, (tools) => {
    tools.registerTool('timed', { inputSchema: timedInput, waitMs: 20 }, async ({ ms }, { signal }) => {
      await sleep(ms, undefined, { signal });
      const finished = process.hrtime.bigint();
      return {
        content: [{ type: 'text', text: 'done' }],
        structuredContent: { finished_ns: finished.toString() },
      };
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const executor = createBenchExecutor();
  const factory = createBenchFactory(executor);
  const handle = serveStdio(factory, {
    transport: taskNotificationsTransport(factory, new StdioServerTransport()),
  });
  process.stdin.on('close', () => void executor.stop().then(() => handle.close()));
}
