// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663) driven by an implementation nobody
// here wrote: the official @modelcontextprotocol/ext-tasks client, over stdio (serveStdio, a spawned
// process) and Streamable HTTP (createMcpHandler), on 2026-07-28 connections of the real v2 Client.
import { JsonRpcResponseError } from '@modelcontextprotocol/ext-tasks/client';
import { taskId as asTaskId } from '@modelcontextprotocol/ext-tasks/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASKS_EXTENSION_ID } from '../../src/mcp/extension-tasks.js';
import { type RawRequest, RawRequests, type RawResponse } from '../../src/mcp/v2/raw-requests.js';
import { newGate } from '../mcp/connect.js';
import { call, startV2Server, stateOf, type Transport, textOf, type V2TestServer } from './connect.js';
import { CLIENT_INFO, taskSession } from './task-session.js';

/** A hand-made 2026-07-28 request, declaring the extension or not. */
function rawRequest(method: string, params: Record<string, unknown>, declare = true): RawRequest {
  return {
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
        'io.modelcontextprotocol/clientCapabilities': declare
          ? { extensions: { [TASKS_EXTENSION_ID]: {} } }
          : {},
      },
    },
  };
}

function errorOf(response: RawResponse) {
  if (response.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(response.result)}`);
  return response.error;
}

/** The JSON-RPC error the ext-tasks client rejected with. */
async function rejection(promise: Promise<unknown>): Promise<JsonRpcResponseError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(JsonRpcResponseError);
  return error as JsonRpcResponseError;
}

describe.each(['stdio', 'http'] as Transport[])('the tasks extension over %s', (transport) => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server(transport);
  });
  afterAll(async () => {
    await server.close();
  });

  it('a call that outlives its wait answers a task; tasks/get follows it to the tool result; the same id works with continue_operation', async () => {
    const client = await server.connect('modern');
    expect(client.getServerCapabilities()?.extensions?.[TASKS_EXTENSION_ID]).toEqual({});
    const session = taskSession(client);
    const gate = newGate();
    const execution = await session.callTool('gated', { gate });
    expect(execution.kind).toBe('task');
    if (execution.kind !== 'task') return;
    const taskId = execution.handle.taskId;
    expect(taskId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const working = await session.task(taskId).snapshot();
    // ttlMs while working: at most the lifetime, then the retention (600 s + 300 s, the defaults).
    expect(working).toMatchObject({
      taskId,
      status: 'working',
      retentionMs: 900_000,
      suggestedPollIntervalMs: 100,
    });
    expect(working.statusMessage).toMatch(/^running for .*waiting for gate/);

    const running = await call(client, 'continue_operation', { operation_id: taskId, wait_seconds: 0 });
    expect(stateOf(running)?.operation_id).toBe(taskId);

    await call(client, 'open_gate', { gate });
    const outcome = await execution.result();
    expect(outcome.status).toBe('completed');
    if (outcome.status !== 'completed') return;
    expect(outcome.result).toMatchObject({ content: [{ type: 'text', text: `gate ${gate} passed` }] });
    // Once finished: from creation to the end of the retention.
    expect(outcome.task?.retentionMs).toBeGreaterThan(300_000);
    expect(outcome.task?.retentionMs).toBeLessThan(900_000);

    // continue_operation hands out the same result.
    const same = await call(client, 'continue_operation', { operation_id: taskId, wait_seconds: 0 });
    expect(textOf(same)).toBe(`gate ${gate} passed`);
    await session.close();
  });

  it('a call that finishes within its wait answers its result inline, not a task', async () => {
    const client = await server.connect('modern');
    const session = taskSession(client);
    const execution = await session.callTool('instant', { echo: 'at once' });
    expect(execution.kind).toBe('immediate');
    const outcome = await execution.result();
    expect(outcome).toMatchObject({
      status: 'completed',
      result: { structuredContent: { echo: 'at once' } },
    });
    await session.close();
  });

  it('a tool that throws makes a completed task with an isError result (failed is for protocol errors)', async () => {
    const client = await server.connect('modern');
    const session = taskSession(client);
    const gate = newGate();
    const execution = await session.callTool('gated', { gate, fail: 'the render broke' });
    expect(execution.kind).toBe('task');
    await call(client, 'open_gate', { gate });
    const outcome = await execution.result();
    expect(outcome.status).toBe('completed');
    if (outcome.status !== 'completed') return;
    expect(outcome.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'the render broke' }],
    });
    expect(outcome.task?.statusMessage).toMatch(/^failed after .*: the render broke$/);
    await session.close();
  });

  it('tasks/cancel is acknowledged and cancels the work: its signal fires, and the task reads cancelled', async () => {
    const client = await server.connect('modern');
    const session = taskSession(client);
    const gate = newGate();
    const execution = await session.callTool('gated', { gate });
    if (execution.kind !== 'task') throw new Error('expected a task');
    const taskId = execution.handle.taskId;
    await session.cancelTask(taskId);
    const log = JSON.parse(textOf(await call(client, 'abort_log', { gate })));
    expect(log).toContainEqual({ gate, reason: 'OperationCancelledError' });
    const cancelled = await session.task(taskId).snapshot();
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.statusMessage).toMatch(/cancelled .*tasks\/cancel/);
    await session.close();
  });

  it('a tool that runs only as a task: a task at once with the extension, -32021 without it', async () => {
    const client = await server.connect('modern');
    const session = taskSession(client);
    const gate = newGate();
    const execution = await session.callTool('gated_task_required', { gate });
    expect(execution.kind).toBe('task');
    await call(client, 'open_gate', { gate });
    expect((await execution.result()).status).toBe('completed');

    const plain = await server.connect('modern');
    const refused = await call(plain, 'gated_task_required', { gate: newGate() }).catch(
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({
      code: -32021,
      message: expect.stringContaining(`client must declare the ${TASKS_EXTENSION_ID} extension`),
      data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
    });
    const legacy = await server.connect('legacy');
    expect(
      await call(legacy, 'gated_task_required', { gate: newGate() }).catch((error: unknown) => error),
    ).toMatchObject({
      code: -32021,
    });
    await session.close();
  });

  it('a client that did not declare the extension gets the continue_operation flow, in either era', async () => {
    for (const era of ['modern', 'legacy'] as const) {
      const client = await server.connect(era);
      const gate = newGate();
      const running = await call(client, 'gated', { gate });
      const state = stateOf(running);
      expect(state?.status).toBe('running');
      await call(client, 'open_gate', { gate });
      const done = await call(client, 'continue_operation', {
        operation_id: state!.operation_id,
        wait_seconds: 10,
      });
      expect(textOf(done)).toBe(`gate ${gate} passed`);
    }
  });

  it('an operation started through continue_operation is reachable as a task by its id', async () => {
    const client = await server.connect('modern');
    const gate = newGate();
    const operationId = stateOf(await call(client, 'gated', { gate }))!.operation_id;
    const session = taskSession(client);
    expect((await session.task(asTaskId(operationId)).snapshot()).status).toBe('working');
    await call(client, 'open_gate', { gate });
    const outcome = await session.task(asTaskId(operationId)).result();
    expect(outcome).toMatchObject({
      status: 'completed',
      result: { content: [{ text: `gate ${gate} passed` }] },
    });
    await session.close();
  });

  it('unknown ids, ids past 256 characters and garbage params get -32602, a request without the extension -32021; the server stays up', async () => {
    const client = await server.connect('modern');
    const session = taskSession(client);
    const unknown = await rejection(session.task(asTaskId('no-such-task')).snapshot());
    expect(unknown).toMatchObject({ code: -32602, message: 'Task not found: no-such-task' });
    expect(await rejection(session.cancelTask(asTaskId('no-such-task')))).toMatchObject({ code: -32602 });
    expect(await rejection(session.task(asTaskId('no-such-task')).update({}))).toMatchObject({
      code: -32602,
    });

    const raw = RawRequests.of(client);
    const long = 'x'.repeat(4000); // within HTTP's header limits: Mcp-Name carries it too
    const tooLong = errorOf(
      await raw.send(rawRequest('tasks/get', { taskId: long }), { headers: { 'mcp-name': long } }),
    );
    expect(tooLong.code).toBe(-32602);
    expect(tooLong.message.length).toBeLessThan(100);
    for (const params of [{ taskId: 5 }, {}, { taskId: null }]) {
      const garbage = errorOf(await raw.send(rawRequest('tasks/get', params)));
      expect(garbage.code).toBe(-32602);
      expect(garbage.message).toMatch(/taskId/);
    }
    const gate = newGate();
    const execution = await session.callTool('gated', { gate });
    if (execution.kind !== 'task') throw new Error('expected a task');
    const taskId = execution.handle.taskId;
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const undeclared = errorOf(
        await raw.send(rawRequest(method, { taskId }, false), { headers: { 'mcp-name': taskId } }),
      );
      expect(undeclared).toMatchObject({
        code: -32021,
        data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION_ID]: {} } } },
      });
    }
    // tasks/update of a task that asked for nothing is acknowledged, and changes nothing.
    await session.task(taskId).update({ nothing: { action: 'cancel' } });
    expect((await session.task(taskId).snapshot()).status).toBe('working');
    await call(client, 'open_gate', { gate });
    expect((await execution.result()).status).toBe('completed');
    expect(textOf(await call(client, 'instant', { echo: 'alive' }))).toBe('alive');
    await session.close();
  });
});

// Over HTTP only: over stdio every connection has a server process of its own, and no principal.
describe('the tasks extension over http, across connections and principals', () => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server('http');
  });
  afterAll(async () => {
    await server.close();
  });

  it('a task resumes from its serialized reference on another connection', async () => {
    const first = await server.connect('modern');
    const session = taskSession(first, 'resumable');
    const gate = newGate();
    const execution = await session.callTool('gated', { gate });
    if (execution.kind !== 'task') throw new Error('expected a task');
    const reference = JSON.parse(JSON.stringify(execution.serializeReference()));
    await execution.detach();

    const second = await server.connect('modern');
    const later = taskSession(second, 'resumable');
    await call(second, 'open_gate', { gate });
    const resumed = await later.resumeTask(reference);
    expect(await resumed.result()).toMatchObject({
      status: 'completed',
      result: { content: [{ text: `gate ${gate} passed` }] },
    });
    await session.close();
    await later.close();
  });

  it('a task is its principal’s: another one gets exactly the unknown-task answer, and cannot cancel it', async () => {
    const alice = await server.connect('modern', 'alice');
    const bob = await server.connect('modern', 'bob');
    const aliceSession = taskSession(alice);
    const bobSession = taskSession(bob);
    const gate = newGate();
    const execution = await aliceSession.callTool('gated', { gate });
    if (execution.kind !== 'task') throw new Error('expected a task');
    const taskId = execution.handle.taskId;

    const seen = await rejection(bobSession.task(taskId).snapshot());
    const unknown = await rejection(bobSession.task(asTaskId('no-such-task')).snapshot());
    expect(seen.code).toBe(unknown.code);
    expect(seen.message).toBe(`Task not found: ${taskId}`);
    expect((await rejection(bobSession.cancelTask(taskId))).code).toBe(-32602);
    expect((await aliceSession.task(taskId).snapshot()).status).toBe('working');

    await call(alice, 'open_gate', { gate });
    expect((await execution.result()).status).toBe('completed');
    await aliceSession.close();
    await bobSession.close();
  });
});
