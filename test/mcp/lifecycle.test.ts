import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { call, newGate, startTestServer, stateOf, type TestServer, TRANSPORTS, textOf } from './connect.js';

describe.each(TRANSPORTS)('over %s, with the real SDK client', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => {
    await server.close();
  });

  it('a call that outlives the wait answers running; continue_operation then returns exactly the synchronous result', async () => {
    const client = await server.connect();
    const gate = newGate();
    const first = await call(client, 'gated', { gate });
    expect(first.isError).toBeFalsy();
    const state = stateOf(first)!;
    expect(first.structuredContent).toMatchObject({ status: 'running', operation_type: 'gated' });
    expect(first.structuredContent?.operation_id).toBe(state.operation_id);
    expect(textOf(first)).toContain('continue_operation');
    expect(textOf(first)).toContain(state.operation_id);

    await call(client, 'open_gate', { gate });
    const continued = await call(client, 'continue_operation', {
      operation_id: state.operation_id,
      wait_seconds: 10,
    });
    const synchronous = await call(client, 'gated', { gate }); // the gate is open: answers inline
    expect(continued).toEqual(synchronous);
    expect(textOf(continued)).toBe(`gate ${gate} passed`);
    // The same answer every time until retention drops it.
    expect(await call(client, 'continue_operation', { operation_id: state.operation_id })).toEqual(continued);
  });

  it('continue_operation answers running with progress while the work goes on', async () => {
    const client = await server.connect();
    const gate = newGate();
    const id = stateOf(await call(client, 'gated', { gate }))!.operation_id;
    const still = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0.05 });
    expect(still.structuredContent).toMatchObject({
      status: 'running',
      operation_id: id,
      progress: { current: 1, total: 2, message: `waiting for gate ${gate}` },
    });
    expect(typeof still.structuredContent?.elapsed_ms).toBe('number');
    await call(client, 'open_gate', { gate });
  });

  it('a client timeout shorter than the work: the wait ends, the work goes on, list_operations finds it, continue fetches it', async () => {
    // Stateless HTTP has no session: only an authenticated client's operations can be listed.
    const client = await server.connect(kind === 'http-stateless' ? 'timeout-lister' : undefined);
    const gate = newGate();
    // Stateful transports carry the client's notifications/cancelled to the request it cancels,
    // which ends the wait at once. A stateless server gets that notification on a fresh instance
    // that never saw the request, so there the operation is listed when its wait budget (1 s
    // here) ends; the client has no event to wait for, so it polls list_operations until then.
    const tool = kind === 'http-stateless' ? 'gated_soon' : 'gated_patient';
    const progress: string[] = [];
    const timedOut = await call(
      client,
      tool,
      { gate },
      {
        timeout: 300,
        onprogress: (p) => progress.push(p.message ?? ''),
      },
    ).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(McpError);
    expect((timedOut as McpError).code).toBe(ErrorCode.RequestTimeout);

    const listRunning = async () => {
      const listed = await call(client, 'list_operations', { status: 'running' });
      const operations = listed.structuredContent?.operations as {
        operation_id: string;
        operation_type: string;
      }[];
      const mine = operations.filter((operation) => operation.operation_type === tool);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      return mine[0]!.operation_id; // newest first
    };
    const id =
      kind === 'http-stateless'
        ? await vi.waitFor(listRunning, { timeout: 5000, interval: 100 })
        : await listRunning();
    await call(client, 'open_gate', { gate });
    const result = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 });
    expect(textOf(result)).toBe(`gate ${gate} passed`);
    expect(progress).toContain(`waiting for gate ${gate}`);
  });

  it('a cancelOnAbort tool: a client timeout during the wait cancels the work (stateless: it goes on)', async () => {
    const client = await server.connect(kind === 'http-stateless' ? 'abort-lister' : undefined);
    const gate = newGate();
    const timedOut = await call(client, 'gated_cancel_on_abort', { gate }, { timeout: 300 }).catch(
      (error: unknown) => error,
    );
    expect((timedOut as McpError).code).toBe(ErrorCode.RequestTimeout);
    type AbortEntry = { gate: string; reason: string };
    if (kind !== 'http-stateless') {
      // abort_log with a gate waits (server side) for that gate's work to see its signal fire.
      const log = JSON.parse(textOf(await call(client, 'abort_log', { gate }))) as AbortEntry[];
      // Cancelled inside the call's wait, it was never handed an id: nothing of it is kept to list.
      expect(log.find((entry) => entry.gate === gate)?.reason).toBe('OperationCancelledError');
      return;
    }
    // Stateless: the client's notifications/cancelled reaches a fresh server that never saw the
    // request, so nothing cancels it: the wait ends at its 2 s budget and the work goes on, as the
    // README says. The client has no event for that moment, so it polls list_operations until then.
    const id = await vi.waitFor(
      async () => {
        const listed = await call(client, 'list_operations', { status: 'running' });
        const operations = listed.structuredContent?.operations as {
          operation_id: string;
          operation_type: string;
        }[];
        const mine = operations.filter((operation) => operation.operation_type === 'gated_cancel_on_abort');
        expect(mine).toHaveLength(1);
        return mine[0]!.operation_id;
      },
      { timeout: 5000, interval: 100 },
    );
    const log = JSON.parse(textOf(await call(client, 'abort_log'))) as AbortEntry[];
    expect(log.map((entry) => entry.gate)).not.toContain(gate);
    await call(client, 'open_gate', { gate });
    const result = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 });
    expect(textOf(result)).toBe(`gate ${gate} passed`);
  });

  it("cancel_operation reaches the work's AbortSignal and every later answer says cancelled", async () => {
    const client = await server.connect();
    const gate = newGate();
    const id = stateOf(await call(client, 'gated', { gate }))!.operation_id;
    const cancelled = await call(client, 'cancel_operation', { operation_id: id });
    expect(cancelled.isError).toBeFalsy();
    expect(cancelled.structuredContent).toMatchObject({ cancelled: true });
    expect(cancelled.structuredContent).toMatchObject({ operation_id: id, status: 'cancelled' });
    const log = JSON.parse(textOf(await call(client, 'abort_log'))) as { gate: string; reason: string }[];
    expect(log).toContainEqual({ gate, reason: 'OperationCancelledError' });
    const after = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0 });
    expect(after.isError).toBe(true);
    expect(textOf(after)).toContain('was cancelled (cancel_operation was called)');
    const again = await call(client, 'cancel_operation', { operation_id: id });
    expect(textOf(again)).toContain('was already cancelled; nothing changed');
    expect(again.structuredContent).toMatchObject({ status: 'cancelled', cancelled: false });
  });

  it('progress notifications reach the client while its request is live', async () => {
    const client = await server.connect();
    const gate = newGate();
    const seen: { progress: number; total?: number | undefined; message?: string | undefined }[] = [];
    const result = await call(
      client,
      'gated',
      { gate },
      {
        onprogress: ({ progress, total, message }) => seen.push({ progress, total, message }),
      },
    );
    expect(stateOf(result)?.status).toBe('running');
    expect(seen).toContainEqual({ progress: 1, total: 2, message: `waiting for gate ${gate}` });
    await call(client, 'open_gate', { gate });
  });

  it('a handler that throws becomes an isError result with its message, inline and through continue', async () => {
    const client = await server.connect();
    const open = newGate();
    await call(client, 'open_gate', { gate: open });
    const inline = await call(client, 'gated', { gate: open, fail: 'the render farm is on fire' });
    expect(inline).toMatchObject({ isError: true });
    expect(textOf(inline)).toBe('the render farm is on fire');

    const gate = newGate();
    const id = stateOf(await call(client, 'gated', { gate, fail: 'late failure' }))!.operation_id;
    await call(client, 'open_gate', { gate });
    const later = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 });
    expect(later.isError).toBe(true);
    expect(textOf(later)).toBe('late failure');
  });

  it('a tool with an outputSchema answers running without breaking the client, then its structured result', async () => {
    const client = await server.connect();
    await client.listTools(); // makes the client validate outputs against the advertised schemas
    const gate = newGate();
    const running = await call(client, 'gated_structured', { gate });
    expect(running.isError).toBe(true);
    expect(running.structuredContent).toBeUndefined();
    expect(textOf(running)).toContain('This is not a failure');
    const id = stateOf(running)!.operation_id;
    expect(stateOf(running)?.status).toBe('running');
    await call(client, 'open_gate', { gate });
    const done = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 });
    expect(done.isError).toBeFalsy();
    expect(done.structuredContent).toEqual({ passed: gate });
    const inline = await call(client, 'instant', { echo: 'hi' });
    expect(inline.structuredContent).toEqual({ echo: 'hi' });
  });

  it('a handler that returns something other than a tool result gets an isError result naming the problem', async () => {
    const client = await server.connect();
    const result = await call(client, 'bad_result');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('returned an invalid result (string)');
  });

  it('list_operations answers newest first, in pages, with a cursor for the next', async () => {
    const client = await server.connect(`pager-${kind}`);
    const gates = Array.from({ length: 25 }, () => newGate());
    const started = await Promise.all(gates.map((gate) => call(client, 'gated', { gate })));
    const ids = new Set(started.map((answer) => stateOf(answer)!.operation_id));
    type Listed = { operations: { operation_id: string; started_at: string }[]; next_cursor?: string };
    const first = await call(client, 'list_operations');
    const page1 = first.structuredContent as Listed;
    expect(page1.operations).toHaveLength(20);
    expect(page1.next_cursor).toEqual(expect.any(String));
    expect(textOf(first)).toContain(`cursor "${page1.next_cursor}"`);
    const second = await call(client, 'list_operations', { cursor: page1.next_cursor });
    const page2 = second.structuredContent as Listed;
    expect(page2.operations).toHaveLength(5);
    expect(page2.next_cursor).toBeUndefined();
    const listed = [...page1.operations, ...page2.operations];
    expect(new Set(listed.map((op) => op.operation_id))).toEqual(ids);
    const times = listed.map((op) => Date.parse(op.started_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const bad = await call(client, 'list_operations', { cursor: 'not-a-cursor' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toContain('`cursor`');
    await Promise.all(gates.map((gate) => call(client, 'open_gate', { gate })));
  });

  it('an unknown id gets an isError result pointing to list_operations', async () => {
    const client = await server.connect();
    for (const tool of ['continue_operation', 'cancel_operation']) {
      const result = await call(client, tool, { operation_id: 'no-such-operation' });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('No operation "no-such-operation" was found');
      expect(textOf(result)).toContain('list_operations');
    }
  });
});
