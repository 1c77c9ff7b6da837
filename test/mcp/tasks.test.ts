// Native MCP tasks (spec 2025-11-25) through the SDK client's experimental API, over stdio and
// Streamable HTTP, against the test server built with withTasks(). Each SDK 1.x gap the library
// closes has its own test: cancel aborts the work, a cancelled task answers tasks/result, a short
// ttl drops no running work, tasks/result holds until the end, progress follows the task.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type CallToolResult,
  CallToolResultSchema,
  CreateTaskResultSchema,
  McpError,
  type Progress,
  RELATED_TASK_META_KEY,
  type Task,
  TaskStatusNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferred } from '../helpers.js';
import {
  call,
  newGate,
  startTestServer,
  stateOf,
  type TestServer,
  type TransportKind,
  textOf,
} from './connect.js';

/** tools/call with params.task: the CreateTaskResult's task. */
async function createTask(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options: { ttl?: number; onprogress?: (progress: Progress) => void } = {},
): Promise<Task> {
  const created = await client.request(
    { method: 'tools/call', params: { name, arguments: args } },
    CreateTaskResultSchema,
    {
      task: options.ttl === undefined ? {} : { ttl: options.ttl },
      ...(options.onprogress === undefined ? {} : { onprogress: options.onprogress }),
    },
  );
  return created.task;
}

async function taskResult(client: Client, taskId: string): Promise<CallToolResult> {
  return client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
}

/** The JSON-RPC error a request fails with. */
async function errorOf(request: Promise<unknown>): Promise<McpError> {
  const error = await request.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

describe.each<TransportKind>(['stdio', 'http-stateful'])('native tasks over %s', (kind) => {
  let server: TestServer;
  let client: Client;
  beforeAll(async () => {
    server = await startTestServer(kind);
    client = await server.connect();
  });
  afterAll(async () => {
    await server.close();
  });

  it('the server advertises tasks for tool calls; long-running tools declare taskSupport optional, the others nothing', async () => {
    expect(client.getServerCapabilities()?.tasks).toMatchObject({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const { tools } = await client.listTools();
    const support = Object.fromEntries(tools.map((tool) => [tool.name, tool.execution?.taskSupport]));
    expect(support.gated).toBe('optional');
    expect(support.instant).toBe('optional');
    expect(support.continue_operation).toBe('forbidden');
    expect(support.open_gate).toBe('forbidden');
  });

  it('a call with params.task gets a working task at once; the task is the operation, reachable through continue_operation too', async () => {
    const gate = newGate();
    const task = await createTask(client, 'gated_patient', { gate });
    expect(task).toMatchObject({ status: 'working', pollInterval: 50 });
    expect(task.statusMessage).toMatch(/^running for .*50% \(1\/2\): waiting for gate/);
    const running = await call(client, 'continue_operation', { operation_id: task.taskId, wait_seconds: 0 });
    expect(stateOf(running)).toMatchObject({
      status: 'running',
      operation_id: task.taskId,
      operation_type: 'gated_patient',
    });

    await call(client, 'open_gate', { gate });
    const result = await taskResult(client, task.taskId);
    expect(textOf(result)).toBe(`gate ${gate} passed`);
    expect(result._meta?.[RELATED_TASK_META_KEY]).toEqual({ taskId: task.taskId });
    // continue_operation hands out the same tool result.
    const continued = await call(client, 'continue_operation', { operation_id: task.taskId });
    expect(continued.content).toEqual(result.content);
    expect(await client.experimental.tasks.getTask(task.taskId)).toMatchObject({
      taskId: task.taskId,
      status: 'completed',
    });
  });

  it('a call without params.task answers within the wait budget with the continue_operation flow, not by polling the task', async () => {
    const gate = newGate();
    // 'gated' waits 100 ms; the SDK's own handling would hold this request until the gate opens.
    const answer = await call(client, 'gated', { gate });
    const state = stateOf(answer);
    expect(state?.status).toBe('running');
    // The operation is a task as well.
    expect(await client.experimental.tasks.getTask(state!.operation_id)).toMatchObject({ status: 'working' });
    const { tasks } = await client.experimental.tasks.listTasks();
    expect(tasks.map((t) => t.taskId)).toContain(state!.operation_id);
    await call(client, 'open_gate', { gate });
    expect(textOf(await taskResult(client, state!.operation_id))).toBe(`gate ${gate} passed`);
    // A tool that finishes inside its budget answers inline, as always.
    expect(await call(client, 'instant', { echo: 'hi' })).toMatchObject({
      structuredContent: { echo: 'hi' },
    });
  });

  it('tasks/result holds until the task ends, then answers the tool result', async () => {
    const gate = newGate();
    const task = await createTask(client, 'gated_patient', { gate });
    let answered = false;
    const pending = taskResult(client, task.taskId).then((result) => {
      answered = true;
      return result;
    });
    // A later request round trip: tasks/result has had its chance to answer, and did not.
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('working');
    expect(answered).toBe(false);
    await call(client, 'open_gate', { gate });
    expect(textOf(await pending)).toBe(`gate ${gate} passed`);
  });

  it('tasks/cancel aborts the work; the cancelled task still answers tasks/result; cancelling again is refused', async () => {
    const gate = newGate();
    const task = await createTask(client, 'gated_patient', { gate });
    const waiting = taskResult(client, task.taskId);
    const cancelled = await client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled).toMatchObject({ taskId: task.taskId, status: 'cancelled' });
    expect(cancelled.statusMessage).toContain('tasks/cancel was called');
    // The work's AbortSignal fired (the SDK's own tasks/cancel only rewrites a stored status).
    const log = JSON.parse(textOf(await call(client, 'abort_log'))) as { gate: string; reason: string }[];
    expect(log).toContainEqual({ gate, reason: 'OperationCancelledError' });
    for (const result of [await waiting, await taskResult(client, task.taskId)]) {
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('was cancelled (tasks/cancel was called)');
    }
    const again = await errorOf(client.experimental.tasks.cancelTask(task.taskId));
    expect(again.code).toBe(-32602);
    expect(again.message).toContain(`Cannot cancel task ${task.taskId}: it is already terminal (cancelled)`);
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('cancelled');
  });

  it('a ttl shorter than the work does not drop the running task; the ttl answered is the retention', async () => {
    const gate = newGate();
    const task = await createTask(client, 'gated_patient', { gate }, { ttl: 1 });
    expect(task.ttl).toBe(300_000); // the default retentionMs, which the servers here keep
    // Time itself is what this test is about: let the requested ttl pass many times over.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('working');
    await call(client, 'open_gate', { gate });
    expect(textOf(await taskResult(client, task.taskId))).toBe(`gate ${gate} passed`);
  });

  it("progress keeps reaching the creating call's token after the task was answered, and notifications/tasks/status announces the end", async () => {
    const gate = newGate();
    const statuses: Task[] = [];
    const ended = deferred();
    client.setNotificationHandler(TaskStatusNotificationSchema, (notification) => {
      statuses.push(notification.params as Task);
      if (notification.params.status !== 'working') ended.resolve();
    });
    const progress: Progress[] = [];
    const opened = deferred();
    const task = await createTask(
      client,
      'gated_patient',
      { gate },
      {
        onprogress: (p) => {
          progress.push(p);
          if (p.message === 'gate opened') opened.resolve();
        },
      },
    );
    await call(client, 'open_gate', { gate });
    await opened.promise;
    await ended.promise;
    expect(progress.at(-1)).toMatchObject({ progress: 2, total: 2, message: 'gate opened' });
    expect(statuses).toEqual([expect.objectContaining({ taskId: task.taskId, status: 'completed' })]);
  });

  it('a tool that throws, or answers isError, ends its task failed with the message; tasks/result gives the isError result', async () => {
    for (const [tool, args, message] of [
      ['gated_patient', { fail: 'disk full' }, 'disk full'],
      ['tool_error', {}, 'no luck with'],
    ] as const) {
      const gate = newGate();
      const task = await createTask(client, tool, { gate, ...args });
      await call(client, 'open_gate', { gate });
      const result = await taskResult(client, task.taskId);
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(message);
      const failed = await client.experimental.tasks.getTask(task.taskId);
      expect(failed.status).toBe('failed');
      expect(failed.statusMessage).toContain(message);
    }
  });

  it("the SDK client's callToolStream follows a task to its result", async () => {
    const gate = newGate();
    const kinds: string[] = [];
    let final: CallToolResult | undefined;
    for await (const message of client.experimental.tasks.callToolStream(
      { name: 'gated_patient', arguments: { gate } },
      CallToolResultSchema,
      { task: {} },
    )) {
      kinds.push(message.type);
      if (message.type === 'taskCreated') await call(client, 'open_gate', { gate });
      if (message.type === 'result') final = message.result as CallToolResult;
      if (message.type === 'error') throw message.error;
    }
    expect(kinds[0]).toBe('taskCreated');
    expect(kinds.at(-1)).toBe('result');
    expect(textOf(final!)).toBe(`gate ${gate} passed`);
  });

  it('unknown task ids and bad cursors get JSON-RPC InvalidParams errors naming them', async () => {
    for (const request of [
      client.experimental.tasks.getTask('no-such-task'),
      taskResult(client, 'no-such-task'),
      client.experimental.tasks.cancelTask('no-such-task'),
    ]) {
      const error = await errorOf(request);
      expect(error.code).toBe(-32602);
      expect(error.message).toContain('no-such-task');
    }
    const error = await errorOf(client.experimental.tasks.listTasks('not a cursor'));
    expect(error.code).toBe(-32602);
    expect(error.message).toContain('Invalid tasks/list cursor `"not a cursor"` (string)');
  });

  it('oversized ids, cursors and progress tokens get a short, correct error, and the server goes on', async () => {
    const long = 'x'.repeat(300);
    for (const request of [
      () => client.experimental.tasks.getTask(long),
      () => taskResult(client, long),
      () => client.experimental.tasks.cancelTask(long),
    ]) {
      const error = await errorOf(request());
      expect(error.code).toBe(-32602); // as for any unknown task, not -32603
      expect(error.message).toContain('Task not found: xxxxxxxx');
      expect(error.message).toContain('(300 characters)');
      expect(error.message.length).toBeLessThan(200);
    }
    const huge = 'y'.repeat(1024 * 1024);
    const cursorError = await errorOf(client.experimental.tasks.listTasks(huge));
    expect(cursorError.code).toBe(-32602);
    expect(cursorError.message.length).toBeLessThan(300);
    // A progress token is repeated in every notification: a huge one is refused, not multiplied.
    // (Sent by hand: the SDK client puts its own token in _meta when given onprogress.)
    for (const name of ['gated', 'continue_operation']) {
      const answer = await client.callTool({
        name,
        arguments: name === 'gated' ? { gate: newGate() } : { operation_id: 'some-id' },
        _meta: { progressToken: huge },
      });
      expect(answer.isError).toBe(true);
      expect(textOf(answer as CallToolResult)).toMatch(
        /progressToken is 1048576 characters long; at most 256/,
      );
      expect(JSON.stringify(answer).length).toBeLessThan(500);
    }
    expect((await client.experimental.tasks.listTasks()).tasks).toEqual(expect.any(Array)); // still serving
  });
});

describe('native tasks over stateless HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('http-stateless');
  });
  afterAll(async () => {
    await server.close();
  });

  it('a task created on one request is answered on the next ones (each a fresh server instance)', async () => {
    const client = await server.connect('carol');
    const gate = newGate();
    const task = await createTask(client, 'gated_patient', { gate });
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('working');
    await call(client, 'open_gate', { gate });
    expect(textOf(await taskResult(client, task.taskId))).toBe(`gate ${gate} passed`);
  });
});
