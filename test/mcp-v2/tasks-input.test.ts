// Input during a task (the tasks extension's input_required and tasks/update): a tool's
// `elicit()` reaches the official @modelcontextprotocol/ext-tasks client's onInputRequest, over
// stdio and Streamable HTTP; the wire is checked request by request; and every client that cannot
// answer gets a tool that says so instead of a wait nobody can end.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASKS_EXTENSION_ID } from '../../src/mcp/extension-tasks.js';
import { callToolWithContinuation } from '../../src/mcp/index.js';
import { type RawRequest, RawRequests, type RawResponse } from '../../src/mcp/v2/raw-requests.js';
import { newGate } from '../mcp/connect.js';
import { call, startV2Server, type Transport, textOf, type V2TestServer } from './connect.js';
import { CLIENT_INFO, taskSession } from './task-session.js';

const ELICITATION = { elicitation: {} };

/** A 2026-07-28 request declaring the extension and `capabilities`. */
function raw(
  method: string,
  params: Record<string, unknown>,
  capabilities: Record<string, unknown> = ELICITATION,
) {
  return {
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': CLIENT_INFO,
        'io.modelcontextprotocol/clientCapabilities': {
          ...capabilities,
          extensions: { [TASKS_EXTENSION_ID]: {} },
        },
      },
    },
  } satisfies RawRequest;
}

function resultOf(response: RawResponse): Record<string, unknown> {
  if (response.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(response.error)}`);
  return response.result;
}

describe.each(['stdio', 'http'] as Transport[])('input during a task over %s', (transport) => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server(transport);
  });
  afterAll(async () => {
    await server.close();
  });

  it('the ext-tasks client answers the tool’s elicitation through onInputRequest, and the tool goes on with it', async () => {
    const client = await server.connect('modern');
    const asked: unknown[] = [];
    const session = taskSession(client, 'mcp-async-input-test', {
      clientCapabilities: ELICITATION,
      onInputRequest: async (request, context) => {
        asked.push({ kind: request.kind, params: request.params, delivery: context.delivery });
        return { action: 'accept', content: { overwrite: true } } as never;
      },
    });
    const execution = await session.callTool('ask_overwrite', { file: 'report.pdf' });
    expect(execution.kind).toBe('task');
    const outcome = await execution.result();
    expect(outcome.status).toBe('completed');
    if (outcome.status !== 'completed') return;
    expect(textOf(outcome.result as never)).toBe('Overwrote report.pdf (accept)');
    expect(asked).toEqual([
      {
        kind: 'elicitation',
        params: expect.objectContaining({ message: 'Overwrite report.pdf?' }),
        delivery: 'task-update',
      },
    ]);
  });

  it('on the wire: the task is input_required with its request; a bad response is refused and nothing is lost; the right one is taken once', async () => {
    const client = await server.connect('modern');
    const rr = RawRequests.of(client);
    const created = resultOf(
      await rr.send(raw('tools/call', { name: 'ask_overwrite', arguments: { file: 'a.txt' } })),
    );
    expect(created).toMatchObject({ resultType: 'task', status: 'input_required' });
    expect(created.statusMessage).toBe('Waiting for input: Overwrite a.txt?');
    const taskId = created.taskId as string;
    const headers = { 'mcp-name': taskId };

    const get = async () => resultOf(await rr.send(raw('tasks/get', { taskId }), { headers }));
    const waiting = await get();
    expect(waiting.status).toBe('input_required');
    const requests = waiting.inputRequests as Record<string, { method: string; params: { message: string } }>;
    const [key] = Object.keys(requests);
    expect(requests[key!]).toMatchObject({
      method: 'elicitation/create',
      params: { message: 'Overwrite a.txt?' },
    });

    // A response of the wrong shape: -32602 naming the key and what is wrong; still outstanding.
    const bad = await rr.send(
      raw('tasks/update', { taskId, inputResponses: { [key!]: { action: 'maybe' } } }),
      { headers },
    );
    expect(bad.kind).toBe('error');
    if (bad.kind === 'error') {
      expect(bad.error.code).toBe(-32602);
      expect(bad.error.message).toContain(`inputResponses["${key}"]`);
      expect(bad.error.message).toMatch(/"accept", "decline" or "cancel", got `"maybe"`/);
    }
    // A result wrapped as {method, result}, which the spec does not take: -32602 saying so.
    const wrapped = await rr.send(
      raw('tasks/update', {
        taskId,
        inputResponses: { [key!]: { method: 'elicitation/create', result: { action: 'accept' } } },
      }),
      { headers },
    );
    expect(wrapped.kind === 'error' && wrapped.error.message).toMatch(/expected the bare result object/);
    // No inputResponses at all: -32602 too.
    expect((await rr.send(raw('tasks/update', { taskId }), { headers })).kind).toBe('error');
    // A key never asked: acknowledged and ignored.
    expect(
      resultOf(await rr.send(raw('tasks/update', { taskId, inputResponses: { nope: {} } }), { headers })),
    ).toEqual(expect.objectContaining({}));
    expect((await get()).status).toBe('input_required');

    const answer = { [key!]: { action: 'decline' } };
    resultOf(await rr.send(raw('tasks/update', { taskId, inputResponses: answer }), { headers }));
    // The same task through continue_operation, to its end: the first answer counted.
    const done = await call(client, 'continue_operation', { operation_id: taskId, wait_seconds: 30 });
    expect(textOf(done)).toBe('Kept a.txt (decline)');
    const ended = await get();
    expect(ended).toMatchObject({
      status: 'completed',
      result: { content: [{ type: 'text', text: 'Kept a.txt (decline)' }] },
    });
    expect(ended.inputRequests).toBeUndefined();
    // Answering again after the end: acknowledged, ignored.
    resultOf(
      await rr.send(raw('tasks/update', { taskId, inputResponses: { [key!]: { action: 'accept' } } }), {
        headers,
      }),
    );
    expect(textOf(await call(client, 'continue_operation', { operation_id: taskId }))).toBe(
      'Kept a.txt (decline)',
    );
  });

  it('a client that cannot answer gets a tool that says so: no elicitation capability, or no tasks extension', async () => {
    const client = await server.connect('modern');
    const rr = RawRequests.of(client);
    const noElicitation = resultOf(
      await rr.send(raw('tools/call', { name: 'ask_overwrite', arguments: { file: 'b.txt' } }, {})),
    );
    expect(noElicitation.resultType).toBe('complete');
    expect(textOf(noElicitation as never)).toMatch(
      /^Kept b\.txt: No input can be asked for: the client did not declare the elicitation capability/,
    );
    // The Client's own callTool does not declare the extension: no task, so no way to ask.
    for (const era of ['modern', 'legacy'] as const) {
      const plain: Client = era === 'modern' ? client : await server.connect('legacy');
      expect(textOf(await call(plain, 'ask_overwrite', { file: 'c.txt' }))).toMatch(
        /^Kept c\.txt: No input can be asked for: the client that called this tool cannot answer input during the work: that takes the tasks extension/,
      );
    }
  });

  it('callToolWithContinuation does not answer input: the task that asks is cancelled, and the call rejects saying what to use', async () => {
    const client = await server.connect('modern', undefined, ELICITATION);
    client.setRequestHandler('elicitation/create', async () => ({ action: 'decline' }));
    const error = await callToolWithContinuation(client, {
      name: 'ask_overwrite',
      arguments: { file: 'f.txt' },
    }).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error?.message).toMatch(
      /asks for input \(input_required\), which callToolWithContinuation cannot give/,
    );
    const taskId = /^Task (\S+) asks/.exec(error!.message)![1]!;
    const after = await call(client, 'continue_operation', { operation_id: taskId, wait_seconds: 30 });
    expect(textOf(after)).toMatch(/cancelled/i);
  });

  it('a task asking after it has begun: tasks/get shows working, then input_required, with a key unique to the request', async () => {
    const client = await server.connect('modern');
    const rr = RawRequests.of(client);
    const gate = newGate();
    const created = resultOf(
      await rr.send(raw('tools/call', { name: 'ask_overwrite', arguments: { file: 'd.txt', gate } })),
    );
    expect(created).toMatchObject({ resultType: 'task', status: 'working' });
    const taskId = created.taskId as string;
    // continue_operation long-polls; it answers when the work asks, saying it waits for input.
    const polling = call(client, 'continue_operation', { operation_id: taskId, wait_seconds: 30 });
    await call(client, 'open_gate', { gate });
    expect(textOf(await polling)).toMatch(/It waits for input: a request not answered yet/);
    const waiting = resultOf(
      await rr.send(raw('tasks/get', { taskId }), { headers: { 'mcp-name': taskId } }),
    );
    expect(waiting.status).toBe('input_required');
    const key = Object.keys(waiting.inputRequests as object)[0]!;
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await rr.send(raw('tasks/update', { taskId, inputResponses: { [key]: { action: 'cancel' } } }), {
      headers: { 'mcp-name': taskId },
    });
    const done = await call(client, 'continue_operation', { operation_id: taskId, wait_seconds: 30 });
    expect(textOf(done)).toBe('Kept d.txt (cancel)');
  });
});
