// callToolWithContinuation against the demo server itself (example/v1/server.ts over stdio, the demo
// HTTP server in process), by continue_operation and by native tasks: the render arrives as one
// awaited result, and a server restart in the middle is a clear error, never a hang; the restarted
// server then serves the same call.
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoServer } from '../../example/v1/demo-server.js';
import { serveHttp } from '../../example/v1/http-server.js';
import { Executor } from '../../src/index.js';
import { ContinuationLostError, callToolWithContinuation } from '../../src/mcp/v1/index.js';
import { deferred } from '../helpers.js';
import { watchSent } from './connect.js';

interface DemoServer {
  connect(): Promise<Client>;
  /** Takes the server down at once (SIGKILL for stdio). */
  kill(): Promise<void>;
  close(): Promise<void>;
}

async function startDemo(kind: 'stdio' | 'http-stateful'): Promise<DemoServer> {
  if (kind === 'stdio') {
    const script = fileURLToPath(new URL('../../example/v1/server.ts', import.meta.url));
    const clients: Client[] = [];
    return {
      async connect() {
        const client = new Client({ name: 'demo-test', version: '0' });
        await client.connect(
          new StdioClientTransport({
            command: process.execPath,
            args: ['--import', 'tsx', script],
            env: { ...(process.env as Record<string, string>), MCP_ASYNC_WAIT_MS: '100' },
            stderr: 'inherit',
          }),
        );
        clients.push(client);
        return client;
      },
      async kill() {
        for (const client of clients) {
          const pid = (client.transport as StdioClientTransport | undefined)?.pid;
          if (pid !== null && pid !== undefined) process.kill(pid, 'SIGKILL');
        }
      },
      async close() {
        await Promise.all(clients.map((client) => client.close()));
      },
    };
  }
  const executor = new Executor({ defaultWaitMs: 100 });
  const http = await serveHttp({ createServer: () => createDemoServer(executor) });
  const stop = async () => {
    await executor.stop();
    await http.close();
  };
  return {
    async connect() {
      const client = new Client({ name: 'demo-test', version: '0' });
      await client.connect(new StreamableHTTPClientTransport(http.url));
      return client;
    },
    kill: stop,
    close: stop,
  };
}

const render = { name: 'render_video', arguments: { title: 'Test card', frames: 6, frame_ms: 40 } };
const CASES = (['stdio', 'http-stateful'] as const).flatMap((kind) =>
  [false, true].map((tasks) => ({ kind, tasks, mode: tasks ? 'native tasks' : 'continue_operation' })),
);

let running: DemoServer[] = [];
afterEach(async () => {
  await Promise.all(running.map((server) => server.close().catch(() => undefined)));
  running = [];
});

describe.each(CASES)('the demo server over $kind, followed by $mode', ({ kind, tasks }) => {
  it('a render that outlives the wait budget arrives as one awaited result, with progress', async () => {
    const server = await startDemo(kind);
    running.push(server);
    const client = await server.connect();
    const sent = watchSent(client);
    const progress: number[] = [];
    const done = deferred();
    const result = await callToolWithContinuation(client, render, {
      tasks,
      waitMs: 1000,
      onProgress: (p) => {
        progress.push(p.progress);
        if (p.progress === p.total) done.resolve();
      },
    });
    expect(result.structuredContent).toMatchObject({ file: 'test-card.mp4', frames: 6 });
    if (tasks) {
      // A task's progress goes to the creating call's token, which the client keeps for the
      // task's life: all of it arrives, the last perhaps just after the result (over HTTP it rides
      // the session's own stream).
      await done.promise;
      expect(progress.at(-1)).toBe(8); // prepare + 6 frames + encode
    } else {
      // A progress notification written just before a response can be dropped by the SDK client
      // (typescript-sdk#2580): it handles notifications a microtask late. So: some, in order.
      expect(progress.length).toBeGreaterThan(0);
    }
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(sent).toContain(tasks ? 'tasks/result' : 'tools/call:continue_operation');
  });

  it('a restart in the middle is a ContinuationLostError naming the operation; the new server serves the call', async () => {
    const server = await startDemo(kind);
    running.push(server);
    const client = await server.connect();
    let killed = false;
    watchSent(client, (request) => {
      if (!killed && (request === 'tasks/result' || request === 'tools/call:continue_operation')) {
        killed = true;
        void server.kill();
      }
    });
    const error = await callToolWithContinuation(client, render, { tasks }).catch((e: unknown) => e);
    expect(killed).toBe(true);
    expect(error).toBeInstanceOf(ContinuationLostError);
    expect((error as ContinuationLostError).message).toContain((error as ContinuationLostError).operationId);

    const restarted = await startDemo(kind);
    running.push(restarted);
    const again = await callToolWithContinuation(await restarted.connect(), render, { tasks });
    expect(again.structuredContent).toMatchObject({ frames: 6 });
  });
});
