import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { OperationCancelledError } from '../../src/index.js';
import {
  ContinuationLostError,
  ContinuationTimeoutError,
  callToolWithContinuation,
} from '../../src/mcp/index.js';
import { call, newGate, startTestServer, type TestServer, textOf } from './connect.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close().catch(() => undefined);
  server = undefined;
});

describe.each(['stdio', 'http-stateful'] as const)('callToolWithContinuation over %s', (kind) => {
  it('answers an inline result as it is', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const result = await callToolWithContinuation(client, { name: 'instant', arguments: { echo: 'hi' } });
    expect(result.structuredContent).toEqual({ echo: 'hi' });
  });

  it('follows a running operation to its own result, with progress from every continuation', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const gate1 = newGate();
    const gate2 = newGate();
    const messages: string[] = [];
    const result = await callToolWithContinuation(
      client,
      { name: 'two_stage', arguments: { gate1, gate2 } },
      {
        waitSeconds: 0.5,
        onprogress: ({ message }) => {
          messages.push(message ?? '');
          // each stage is let through once the client has heard of it
          if (message === 'stage 1' && messages.filter((m) => m === 'stage 1').length === 1)
            void call(client, 'open_gate', { gate: gate1 });
          if (message === 'stage 2' && messages.filter((m) => m === 'stage 2').length === 1)
            void call(client, 'open_gate', { gate: gate2 });
        },
      },
    );
    expect(textOf(result)).toBe('both stages');
    expect(messages).toContain('stage 2'); // heard during a continuation: the first call answered at stage 1
  });

  it('an abort cancels the operation on the server and rejects with the reason', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const gate = newGate();
    const controller = new AbortController();
    const reason = new Error('the user closed the window');
    const following = callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      { signal: controller.signal, onprogress: () => controller.abort(reason) },
    );
    await expect(following).rejects.toBe(reason);
    const log = JSON.parse(textOf(await call(client, 'abort_log'))) as { gate: string; reason: string }[];
    expect(log).toContainEqual({ gate, reason: OperationCancelledError.name });
  });

  it('past maxWait it rejects naming the operation, which goes on on the server', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const gate = newGate();
    const error = await callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      { maxWait: 300 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContinuationTimeoutError);
    const id = (error as ContinuationTimeoutError).operationId;
    expect((error as Error).message).toContain(id);
    await call(client, 'open_gate', { gate });
    expect(textOf(await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
      `gate ${gate} passed`,
    );
  });

  it('when the server goes away mid-way it rejects with a clear error instead of hanging', async () => {
    server = await startTestServer(kind);
    const client: Client = await server.connect();
    const gate = newGate();
    let heard = 0;
    const error = await callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      {
        onprogress: () => {
          // the second report comes from the continuation: the helper is long-polling now
          if (++heard === 2) void goAway(client);
        },
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContinuationLostError);
    expect((error as Error).message).toMatch(/Lost the server while following operation \S+:/);
  });

  async function goAway(client: Client) {
    if (kind === 'stdio') {
      const pid = (client.transport as StdioClientTransport).pid;
      if (pid !== null) process.kill(pid, 'SIGKILL');
    } else {
      await server!.close();
      server = undefined;
    }
  }
});
