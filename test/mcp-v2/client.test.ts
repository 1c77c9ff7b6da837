// callToolWithContinuation on the SDK v2 Client, in both eras, over stdio and HTTP: one await for a
// tool that outlives its wait; an abort cancels the work on the server; a time limit names the
// operation. Through continue_operation (`tasks: false` on 2026-07-28, where the server offers the
// tasks extension), and over the extension.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContinuationLostError,
  ContinuationTimeoutError,
  callToolWithContinuation,
} from '../../src/mcp/index.js';
import { newGate } from '../mcp/connect.js';
import { call, SETUPS, startV2Server, type Transport, textOf, type V2TestServer } from './connect.js';

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
        tasks: false,
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
        tasks: false,
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
      { timeoutMs: 300, waitMs: 100, tasks: false },
    ).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ContinuationTimeoutError);
    const id = (error as ContinuationTimeoutError).operationId;
    await call(client, 'open_gate', { gate });
    expect(textOf(await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
      `gate ${gate} passed`,
    );
  });
});

describe.each(['stdio', 'http'] as Transport[])(
  'callToolWithContinuation over the tasks extension, SDK v2 over %s',
  (transport) => {
    let server: V2TestServer;
    beforeAll(async () => {
      server = await startV2Server(transport);
    });
    afterAll(async () => {
      await server.close();
    });

    it('follows a task to its result by default: a tool that runs only as a task, which continue_operation cannot call', async () => {
      const client = await server.connect('modern');
      const gate = newGate();
      const following = callToolWithContinuation(client, {
        name: 'gated_task_required',
        arguments: { gate },
      });
      await call(client, 'open_gate', { gate });
      expect(textOf(await following)).toBe(`gate ${gate} passed`);
      const refused = await callToolWithContinuation(
        client,
        { name: 'gated_task_required', arguments: { gate: newGate() } },
        { tasks: false },
      ).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: -32021 });
    });

    it('forwards progress while the first call waits, and a result inside the wait comes inline', async () => {
      const client = await server.connect('modern');
      const gate = newGate();
      const messages: string[] = [];
      const result = await callToolWithContinuation(
        client,
        { name: 'gated_patient', arguments: { gate } },
        {
          onProgress: ({ message }) => {
            messages.push(message ?? '');
            if (message === `waiting for gate ${gate}`) void call(client, 'open_gate', { gate });
          },
        },
      );
      expect(textOf(result)).toBe(`gate ${gate} passed`);
      expect(messages).toEqual([`waiting for gate ${gate}`, 'gate opened']);
    });

    it('a tool that throws during its task ends the call with its isError result, as continue_operation would', async () => {
      const client = await server.connect('modern');
      const gate = newGate();
      const following = callToolWithContinuation(client, {
        name: 'gated_task_required',
        arguments: { gate, fail: 'out of film' },
      });
      await call(client, 'open_gate', { gate });
      const failed = await following;
      expect(failed).toMatchObject({ isError: true, content: [{ type: 'text', text: 'out of film' }] });
    });

    it('aborting cancels the task on the server (tasks/cancel), then rejects with the reason', async () => {
      const client = await server.connect('modern');
      const gate = newGate();
      const controller = new AbortController();
      const following = callToolWithContinuation(
        client,
        { name: 'gated', arguments: { gate } },
        {
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

    it('past timeoutMs it rejects naming the task, which goes on and is reachable by continue_operation', async () => {
      const client = await server.connect('modern');
      const gate = newGate();
      const error = await callToolWithContinuation(
        client,
        { name: 'gated_task_required', arguments: { gate } },
        { timeoutMs: 300 },
      ).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ContinuationTimeoutError);
      const id = (error as ContinuationTimeoutError).operationId;
      await call(client, 'open_gate', { gate });
      expect(textOf(await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
        `gate ${gate} passed`,
      );
    });

    it('tasks: true where the extension is not offered is a TypeError, before anything is sent', async () => {
      const legacy = await server.connect('legacy');
      await expect(
        callToolWithContinuation(legacy, { name: 'gated', arguments: { gate: newGate() } }, { tasks: true }),
      ).rejects.toThrow(/needs a client on protocol 2026-07-28/);
      await expect(
        callToolWithContinuation(
          legacy,
          { name: 'gated', arguments: { gate: newGate() } },
          { tasks: 'yes' as never },
        ),
      ).rejects.toThrow(/`tasks`/);
    });
  },
);

describe('callToolWithContinuation over the tasks extension, a server that goes away (HTTP)', () => {
  it('rejects with ContinuationLostError naming the task', async () => {
    const server = await startV2Server('http');
    const client = await server.connect('modern');
    // Cut the connection as the first tasks/get leaves: the task exists, the server is gone.
    const transport = client.transport!;
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      if ('method' in message && message.method === 'tasks/get') server.sever(client);
      return send(message, options);
    };
    const error = await callToolWithContinuation(client, {
      name: 'gated_task_required',
      arguments: { gate: newGate() },
    }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ContinuationLostError);
    expect((error as ContinuationLostError).operationId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await server.executor!.get((error as ContinuationLostError).operationId))?.status).toBe(
      'running',
    );
    await server.close();
  });
});
