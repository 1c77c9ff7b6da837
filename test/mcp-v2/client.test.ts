// callToolWithContinuation on the SDK v2 Client, in both eras, over stdio and HTTP: one await for a
// tool that outlives its wait; an abort cancels the work on the server; a time limit names the
// operation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContinuationTimeoutError, callToolWithContinuation } from '../../src/mcp/index.js';
import { newGate } from '../mcp/connect.js';
import { call, SETUPS, startV2Server, textOf, type V2TestServer } from './connect.js';

describe.each(SETUPS)('callToolWithContinuation, SDK v2 over %s, %s era', (transport, era) => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server(transport);
  });
  afterAll(async () => {
    await server.close();
  });

  it('follows a tool that outlives its wait to its own result, with progress from every request', async () => {
    const client = await server.connect(era);
    const [gate1, gate2] = [newGate(), newGate()];
    const messages: string[] = [];
    const following = callToolWithContinuation(
      client,
      { name: 'two_stage', arguments: { gate1, gate2 } },
      {
        waitMs: 200,
        onProgress: ({ message }) => {
          messages.push(message ?? '');
          if (message === 'stage 1') void call(client, 'open_gate', { gate: gate1 });
          if (message === 'stage 2') void call(client, 'open_gate', { gate: gate2 });
        },
      },
    );
    expect(textOf(await following)).toBe('both stages');
    expect(messages).toContain('stage 1');
    expect(messages).toContain('stage 2');
  });

  it('aborting cancels the operation on the server, then rejects with the reason', async () => {
    const client = await server.connect(era);
    const gate = newGate();
    const controller = new AbortController();
    const following = callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      {
        waitMs: 10_000,
        signal: controller.signal,
        onProgress: ({ message }) => {
          if (message === `waiting for gate ${gate}`) controller.abort(new Error('the user gave up'));
        },
      },
    );
    await expect(following).rejects.toThrow('the user gave up');
    const log = JSON.parse(textOf(await call(client, 'abort_log', { gate }))) as {
      gate: string;
      reason: string;
    }[];
    expect(log).toContainEqual({ gate, reason: 'OperationCancelledError' });
  });

  it('past timeoutMs it rejects naming the operation, which goes on on the server', async () => {
    const client = await server.connect(era);
    const gate = newGate();
    const error = await callToolWithContinuation(
      client,
      { name: 'gated', arguments: { gate } },
      { timeoutMs: 300, waitMs: 100 },
    ).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ContinuationTimeoutError);
    const id = (error as ContinuationTimeoutError).operationId;
    await call(client, 'open_gate', { gate });
    expect(textOf(await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
      `gate ${gate} passed`,
    );
  });
});
