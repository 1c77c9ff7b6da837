// notifications/tasks on subscriptions/listen (withTaskNotifications over HTTP, taskNotificationsTransport
// over stdio): the real v2 Client's connection carries a listen naming task ids; the server
// acknowledges those the caller may see and sends each one's DetailedTask the moment it ends.
// Nothing here waits on time: each step waits for the message that proves it.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASKS_EXTENSION_ID } from '../../src/mcp/extension-tasks.js';
import { callToolWithContinuation } from '../../src/mcp/index.js';
import { type RawRequest, RawRequests, type RawResponse } from '../../src/mcp/v2/raw-requests.js';
import { newGate } from '../mcp/connect.js';
import { call, startV2Server, stateOf, type Transport, textOf, type V2TestServer } from './connect.js';
import { CLIENT_INFO } from './task-session.js';

const SUBSCRIPTION = 'io.modelcontextprotocol/subscriptionId';

/** A 2026-07-28 envelope declaring the extension (or not) and `capabilities`. */
function envelope(declare = true, capabilities: Record<string, unknown> = {}) {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
    'io.modelcontextprotocol/clientCapabilities': declare
      ? { ...capabilities, extensions: { [TASKS_EXTENSION_ID]: {} } }
      : capabilities,
  };
}

function listenRequest(notifications: Record<string, unknown>, declare = true): RawRequest {
  return { method: 'subscriptions/listen', params: { notifications, _meta: envelope(declare) } };
}

/** A listen stream: its messages as they come, each awaitable. */
function listen(client: Client, notifications: Record<string, unknown>, declare = true) {
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const closed = new AbortController();
  const response: Promise<RawResponse> = RawRequests.of(client).send(listenRequest(notifications, declare), {
    signal: closed.signal,
    onNotification: (message) => {
      messages.push(message);
      for (const wake of waiters.splice(0)) wake();
    },
  });
  return {
    response,
    close: () => closed.abort(),
    /** The `n`th message of the stream (from 1), once it has come. */
    async nth(n: number): Promise<Record<string, unknown>> {
      while (messages.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
      return messages[n - 1]!;
    },
  };
}

/** Starts the gated tool through continue_operation: its operation id is the task id. */
async function startGated(client: Client, gate: string): Promise<string> {
  return stateOf(await call(client, 'gated', { gate }))!.operation_id;
}

describe.each(['stdio', 'http'] as Transport[])('notifications/tasks over %s', (transport) => {
  let server: V2TestServer;
  beforeAll(async () => {
    // A poll interval no test could sit out: whatever ends a wait here is a notification.
    server = await startV2Server(transport, 5000, { tasks: { pollIntervalMs: 600_000 } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('acknowledges the tasks it may follow, sends each one as it ends, then answers the listen', async () => {
    const client = await server.connect('modern');
    const [gate1, gate2] = [newGate(), newGate()];
    const [task1, task2] = [await startGated(client, gate1), await startGated(client, gate2)];
    const stream = listen(client, { taskIds: [task1, task2, 'no-such-task'] });
    expect(await stream.nth(1)).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: { taskIds: [task1, task2] }, _meta: { [SUBSCRIPTION]: expect.any(String) } },
    });
    await call(client, 'open_gate', { gate: gate2 });
    const first = await stream.nth(2);
    expect(first).toMatchObject({
      method: 'notifications/tasks',
      params: {
        taskId: task2,
        status: 'completed',
        result: { resultType: 'complete', content: [{ type: 'text', text: `gate ${gate2} passed` }] },
      },
    });
    await call(client, 'open_gate', { gate: gate1 });
    expect(await stream.nth(3)).toMatchObject({ params: { taskId: task1, status: 'completed' } });
    const answer = await stream.response;
    expect(answer).toMatchObject({ kind: 'result', result: { resultType: 'complete' } });
  });

  it('a task that asks for input is notified as input_required with its request, then as it ends', async () => {
    const client = await server.connect('modern');
    const raw = RawRequests.of(client);
    const gate = newGate();
    const withElicitation = envelope(true, { elicitation: {} });
    const created = await raw.send({
      method: 'tools/call',
      params: { name: 'ask_overwrite', arguments: { file: 'e.txt', gate }, _meta: withElicitation },
    });
    if (created.kind !== 'result') throw new Error(JSON.stringify(created.error));
    expect(created.result).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = created.result.taskId as string;
    const stream = listen(client, { taskIds: [taskId] });
    await stream.nth(1);
    await call(client, 'open_gate', { gate });
    const asking = (await stream.nth(2)) as {
      params: { status: string; inputRequests: Record<string, unknown> };
    };
    expect(asking).toMatchObject({
      method: 'notifications/tasks',
      params: { taskId, status: 'input_required', statusMessage: 'Waiting for input: Overwrite e.txt?' },
    });
    const [key] = Object.keys(asking.params.inputRequests);
    expect(asking.params.inputRequests[key!]).toMatchObject({ method: 'elicitation/create' });
    const updated = await raw.send({
      method: 'tasks/update',
      params: {
        taskId,
        inputResponses: { [key!]: { action: 'accept', content: { overwrite: true } } },
        _meta: withElicitation,
      },
    });
    expect(updated.kind).toBe('result');
    expect(await stream.nth(3)).toMatchObject({
      params: {
        taskId,
        status: 'completed',
        result: { content: [{ type: 'text', text: 'Overwrote e.txt (accept)' }] },
      },
    });
  });

  it('a task that asks twice: each request is notified, the first at once (asked before the listen), then the end', async () => {
    const client = await server.connect('modern');
    const raw = RawRequests.of(client);
    const meta = envelope(true, { elicitation: {} });
    const created = await raw.send({
      method: 'tools/call',
      params: { name: 'ask_overwrite', arguments: { file: 'g.txt', twice: true }, _meta: meta },
    });
    if (created.kind !== 'result') throw new Error(JSON.stringify(created.error));
    expect(created.result.status).toBe('input_required');
    const taskId = created.result.taskId as string;
    const stream = listen(client, { taskIds: [taskId] });
    await stream.nth(1);
    const answer = async (n: number, response: Record<string, unknown>) => {
      const message = (await stream.nth(n)) as { params: { status: string; inputRequests: object } };
      expect(message.params.status).toBe('input_required');
      const [key] = Object.keys(message.params.inputRequests);
      const updated = await raw.send({
        method: 'tasks/update',
        params: { taskId, inputResponses: { [key!]: response }, _meta: meta },
      });
      expect(updated.kind).toBe('result');
      return message;
    };
    expect(await answer(2, { action: 'accept', content: { overwrite: true } })).toMatchObject({
      params: { statusMessage: 'Waiting for input: Overwrite g.txt?' },
    });
    expect(await answer(3, { action: 'accept', content: { overwrite: true } })).toMatchObject({
      params: { statusMessage: 'Waiting for input: Really overwrite g.txt?' },
    });
    expect(await stream.nth(4)).toMatchObject({
      params: { taskId, status: 'completed', result: { content: [{ text: 'Overwrote g.txt (accept)' }] } },
    });
  });

  it('a cancelled task is notified as cancelled', async () => {
    const client = await server.connect('modern');
    const task = await startGated(client, newGate());
    const stream = listen(client, { taskIds: [task] });
    await stream.nth(1);
    await call(client, 'cancel_operation', { operation_id: task });
    expect(await stream.nth(2)).toMatchObject({ params: { taskId: task, status: 'cancelled' } });
  });

  it('without the extension declared: -32021; garbage taskIds: -32602; a listen without taskIds is the SDK’s', async () => {
    const client = await server.connect('modern');
    const raw = RawRequests.of(client);
    const undeclared = await raw.send(listenRequest({ taskIds: ['x'] }, false));
    expect(undeclared).toMatchObject({ kind: 'error', error: { code: -32021 } });
    for (const taskIds of ['x', [1, 2], Array.from({ length: 101 }, (_, i) => `t${i}`)]) {
      const garbage = await raw.send(listenRequest({ taskIds }));
      expect(garbage).toMatchObject({
        kind: 'error',
        error: { code: -32602, message: expect.stringContaining('taskIds') },
      });
    }
    const sdks = listen(client, { toolsListChanged: true });
    expect(await sdks.nth(1)).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: { toolsListChanged: true } },
    });
    sdks.close();
    await expect(sdks.response).rejects.toThrow(/abort/i);
    expect(textOf(await call(client, 'instant', { echo: 'alive' }))).toBe('alive');
  });

  it('callToolWithContinuation hears the end of its task on the stream, not at the next poll (10 minutes away)', async () => {
    const client = await server.connect('modern');
    const gate = newGate();
    const following = callToolWithContinuation(client, { name: 'gated_task_required', arguments: { gate } });
    await call(client, 'open_gate', { gate });
    expect(textOf(await following)).toBe(`gate ${gate} passed`);
  });
});

describe('notifications/tasks over http, across principals', () => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server('http');
  });
  afterAll(async () => {
    await server.close();
  });

  it('another principal’s task is left out of the acknowledgement, exactly as an unknown one', async () => {
    const alice = await server.connect('modern', 'alice');
    const bob = await server.connect('modern', 'bob');
    const gate = newGate();
    const task = await startGated(alice, gate);
    const stream = listen(bob, { taskIds: [task] });
    expect(await stream.nth(1)).toMatchObject({ params: { notifications: { taskIds: [] } } });
    expect(await stream.response).toMatchObject({ kind: 'result' });
    await call(alice, 'open_gate', { gate });
  });
});

describe('notifications/tasks over http, the limits', () => {
  it('a listen that also asks for what the SDK serves is the SDK’s: it acknowledges those and leaves taskIds out', async () => {
    const server = await startV2Server('http');
    const client = await server.connect('modern');
    const gate = newGate();
    const task = await startGated(client, gate);
    const mixed = listen(client, { taskIds: [task], toolsListChanged: true });
    const ack = await mixed.nth(1);
    expect(ack).toMatchObject({ params: { notifications: { toolsListChanged: true } } });
    expect((ack.params as { notifications: Record<string, unknown> }).notifications.taskIds).toBeUndefined();
    mixed.close();
    await expect(mixed.response).rejects.toThrow(/abort/i);
    await call(client, 'open_gate', { gate });
    await server.close();
  });

  it('listen streams follow at most half the executor’s waiters; past that a listen is refused, until some end', async () => {
    const server = await startV2Server('http', { maxWaitMs: 5000, maxWaiters: 4 });
    const client = await server.connect('modern');
    const [gate1, gate2, gate3] = [newGate(), newGate(), newGate()];
    const [task1, task2, task3] = [
      await startGated(client, gate1),
      await startGated(client, gate2),
      await startGated(client, gate3),
    ];
    const first = listen(client, { taskIds: [task1, task2] });
    expect(await first.nth(1)).toMatchObject({ params: { notifications: { taskIds: [task1, task2] } } });
    const refused = await RawRequests.of(client).send(listenRequest({ taskIds: [task3] }));
    expect(refused).toMatchObject({
      kind: 'error',
      error: { code: -32603, message: expect.stringContaining('Subscription limit reached') },
    });
    // continue_operation still has its half of the waiters.
    await call(client, 'open_gate', { gate: gate3 });
    expect(textOf(await call(client, 'continue_operation', { operation_id: task3, wait_seconds: 10 }))).toBe(
      `gate ${gate3} passed`,
    );
    await call(client, 'open_gate', { gate: gate1 });
    await call(client, 'open_gate', { gate: gate2 });
    expect(await first.response).toMatchObject({ kind: 'result' });
    const gate4 = newGate();
    const again = listen(client, { taskIds: [await startGated(client, gate4)] });
    expect(await again.nth(1)).toMatchObject({ method: 'notifications/subscriptions/acknowledged' });
    await call(client, 'open_gate', { gate: gate4 });
    expect(await again.response).toMatchObject({ kind: 'result' });
    await server.close();
  });
});

describe('a server without task notifications (the SDK’s own listen)', () => {
  it('callToolWithContinuation still follows the task, by polling', async () => {
    const server = await startV2Server('http', 5000, undefined, false);
    const client = await server.connect('modern');
    const gate = newGate();
    const following = callToolWithContinuation(client, { name: 'gated_task_required', arguments: { gate } });
    await call(client, 'open_gate', { gate });
    expect(textOf(await following)).toBe(`gate ${gate} passed`);
    await server.close();
  });
});
