import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { OperationCancelledError } from '../../src/index.js';
import {
  ContinuationLostError,
  ContinuationTimeoutError,
  callToolWithContinuation,
} from '../../src/mcp/v1/index.js';
import { call, newGate, startTestServer, type TestServer, textOf, watchSent } from './connect.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close().catch(() => undefined);
  server = undefined;
});

// Each case twice: following continue_operation (tasks: false), and as a native task (the test
// server offers tasks, so that is the helper's own choice).
const MODES = [
  { mode: 'continue_operation', options: { tasks: false } },
  { mode: 'native tasks', options: {} },
] as const;
const CASES = (['stdio', 'http-stateful'] as const).flatMap((kind) => MODES.map((m) => ({ kind, ...m })));

describe.each(CASES)('callToolWithContinuation over $kind, by $mode', ({ kind, mode, options }) => {
  it('answers an inline result as it is', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const result = await callToolWithContinuation(
      client,
      { name: 'instant', arguments: { echo: 'hi' } },
      options,
    );
    expect(result.structuredContent).toEqual({ echo: 'hi' });
  });

  it('follows a running operation to its own result, with progress from every continuation', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const gate1 = newGate();
    const gate2 = newGate();
    const messages: string[] = [];
    // Stage 1 is let through once the helper follows up (the first call has answered), stage 2
    // once the client has heard of it: progress must reach it while it follows.
    let following = false;
    const opening: Promise<unknown>[] = []; // awaited at the end: none may outlive the test
    const sent = watchSent(client, (request) => {
      if (!following && (request === 'tasks/result' || request === 'tools/call:continue_operation')) {
        following = true;
        opening.push(call(client, 'open_gate', { gate: gate1 }));
      }
    });
    const result = await callToolWithContinuation(
      client,
      { name: 'two_stage', arguments: { gate1, gate2 } },
      {
        ...options,
        waitMs: 500,
        onProgress: ({ message }) => {
          messages.push(message ?? '');
          if (message === 'stage 2' && messages.filter((m) => m === 'stage 2').length === 1)
            opening.push(call(client, 'open_gate', { gate: gate2 }));
        },
      },
    );
    expect(textOf(result)).toBe('both stages');
    await Promise.all(opening);
    expect(messages).toContain('stage 2');
    // Followed the way the mode says.
    const byTask = mode === 'native tasks';
    expect(sent.includes('tasks/result')).toBe(byTask);
    expect(sent.includes('tools/call:continue_operation')).toBe(!byTask);
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
      { ...options, signal: controller.signal, onProgress: () => controller.abort(reason) },
    );
    await expect(following).rejects.toBe(reason);
    const log = JSON.parse(textOf(await call(client, 'abort_log'))) as { gate: string; reason: string }[];
    expect(log).toContainEqual({ gate, reason: OperationCancelledError.name });
  });

  it('an abort while a follow-up long-poll is in flight cancels the operation and rejects with the reason', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const gate = newGate();
    const controller = new AbortController();
    const reason = new Error('gave up while waiting');
    watchSent(client, (request) => {
      // The follow-up is on its way to the server, which holds it (the gate stays shut).
      if (request === 'tasks/result' || request === 'tools/call:continue_operation')
        queueMicrotask(() => controller.abort(reason));
    });
    const following = callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      { ...options, signal: controller.signal, waitMs: 60_000 },
    );
    await expect(following).rejects.toBe(reason);
    const log = JSON.parse(textOf(await call(client, 'abort_log'))) as { gate: string; reason: string }[];
    expect(log).toContainEqual({ gate, reason: OperationCancelledError.name });
  });

  it('past timeoutMs it rejects naming the operation, which goes on on the server', async () => {
    server = await startTestServer(kind);
    const client = await server.connect();
    const gate = newGate();
    const error = await callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      { ...options, timeoutMs: 300 },
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
    // The server goes away as the helper sends its first follow-up (a continue_operation call,
    // or tasks/result): the transport is real, only watched.
    let gone = false;
    watchSent(client, (request) => {
      if (!gone && (request === 'tasks/result' || request === 'tools/call:continue_operation')) {
        gone = true;
        void goAway(client);
      }
    });
    const error = await callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      options,
    ).catch((e: unknown) => e);
    expect(gone).toBe(true);
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
