// The same long-running tools on MCP SDK v2: the real v2 Client against the v2 server, in both
// protocol eras, over stdio (serveStdio) and Streamable HTTP (createMcpHandler through
// @modelcontextprotocol/node, a server built per request on one executor).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newGate } from '../mcp/connect.js';
import { call, SETUPS, startV2Server, stateOf, textOf, type V2TestServer } from './connect.js';

describe.each(SETUPS)('SDK v2 over %s, %s era', (transport, era) => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server(transport);
  });
  afterAll(async () => {
    await server.close();
  });

  it('a call that outlives its wait answers running; continue_operation then returns exactly the synchronous result', async () => {
    const client = await server.connect(era);
    expect(client.getProtocolEra()).toBe(era);
    const gate = newGate();
    const first = await call(client, 'gated', { gate });
    expect(first.isError).toBeFalsy();
    const state = stateOf(first)!;
    expect(first.structuredContent).toMatchObject({ status: 'running', operation_type: 'gated' });
    expect(textOf(first)).toContain(`Call \`continue_operation\` with operation_id "${state.operation_id}"`);
    await call(client, 'open_gate', { gate });
    const continued = await call(client, 'continue_operation', {
      operation_id: state.operation_id,
      wait_seconds: 10,
    });
    const synchronous = await call(client, 'gated', { gate }); // the gate is open: answers inline
    expect(textOf(continued)).toBe(`gate ${gate} passed`);
    expect({ ...continued, _meta: undefined }).toEqual({ ...synchronous, _meta: undefined });
    // The same answer every time until retention drops it.
    expect(textOf(await call(client, 'continue_operation', { operation_id: state.operation_id }))).toBe(
      `gate ${gate} passed`,
    );
  });

  it('progress reaches every request that waits on the operation: the call, then each continuation', async () => {
    const client = await server.connect(era);
    const [gate1, gate2] = [newGate(), newGate()];
    const onFirst: string[] = [];
    const first = await call(
      client,
      'two_stage',
      { gate1, gate2 },
      { onprogress: (p) => onFirst.push(p.message ?? '') },
    );
    const id = stateOf(first)!.operation_id;
    expect(onFirst).toContain('stage 1');
    await call(client, 'open_gate', { gate: gate1 });
    const onSecond: string[] = [];
    const second = await call(
      client,
      'continue_operation',
      { operation_id: id, wait_seconds: 0.3 },
      { onprogress: (p) => onSecond.push(p.message ?? '') },
    );
    expect(stateOf(second)?.status).toBe('running');
    expect(onSecond).toContain('stage 2'); // where it stood when the continuation began
    // The third continuation opens the last gate once it has heard where the work stands: it
    // finishes only if that progress arrived on it. (The last value, sent just before the answer,
    // is not asserted: a client can drop it when both arrive in one read; see the README.)
    const onThird: string[] = [];
    const third = await call(
      client,
      'continue_operation',
      { operation_id: id, wait_seconds: 10 },
      {
        onprogress: (p) => {
          onThird.push(p.message ?? '');
          if (p.message === 'stage 2') void call(client, 'open_gate', { gate: gate2 });
        },
      },
    );
    expect(textOf(third)).toBe('both stages');
    expect(onThird).toContain('stage 2');
  });

  it("cancel_operation reaches the work's signal; a second cancel says nothing changed", async () => {
    const client = await server.connect(era);
    const gate = newGate();
    const id = stateOf(await call(client, 'gated', { gate }))!.operation_id;
    const cancelled = await call(client, 'cancel_operation', { operation_id: id });
    expect(cancelled.structuredContent).toMatchObject({
      operation_id: id,
      status: 'cancelled',
      cancelled: true,
    });
    const log = JSON.parse(textOf(await call(client, 'abort_log', { gate }))) as {
      gate: string;
      reason: string;
    }[];
    expect(log).toContainEqual({ gate, reason: 'OperationCancelledError' });
    const after = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0 });
    expect(after.isError).toBe(true);
    expect(textOf(after)).toContain('was cancelled (cancel_operation was called)');
    const again = await call(client, 'cancel_operation', { operation_id: id });
    expect(again.structuredContent).toMatchObject({ status: 'cancelled', cancelled: false });
  });

  /**
   * Calls `tool` and goes away once its work is under way: the call is aborted (2026-07-28: its
   * stream closes; 2025 era: notifications/cancelled) and, over HTTP, every connection of the client
   * is cut, as when its process exits. Answers a client of the same caller to go on with.
   */
  async function goAwayMidCall(tool: string, name: string, gate: string) {
    const client = await server.connect(era, name);
    const controller = new AbortController();
    const pending = call(
      client,
      tool,
      { gate },
      {
        signal: controller.signal,
        onprogress: ({ message }) => {
          if (message !== `waiting for gate ${gate}`) return;
          controller.abort(new Error('gone'));
          server.sever(client);
        },
      },
    );
    await expect(pending).rejects.toThrow();
    return transport === 'http' ? server.connect(era, name) : client;
  }

  it('a client that goes away mid-call ends the wait, not the work: the operation goes on, and is found again', async () => {
    const gate = newGate();
    const client = await goAwayMidCall('gated_patient', `leaver-${era}`, gate); // a 10 s wait
    // The server's wait ends when it sees the request end (its signal fires), well before the 10 s
    // wait would: the work is then listed, running. The client has no event for that moment, so
    // it asks until then.
    const mine = await vi.waitFor(
      async () => {
        const listed = await call(client, 'list_operations', { status: 'running' });
        const { operations } = listed.structuredContent as {
          operations: { operation_id: string; operation_type: string }[];
        };
        const found = operations.filter((operation) => operation.operation_type === 'gated_patient');
        expect(found).toHaveLength(1);
        return found;
      },
      { timeout: 5000, interval: 50 },
    );
    const log = JSON.parse(textOf(await call(client, 'abort_log'))) as { gate: string }[];
    expect(log.map((entry) => entry.gate)).not.toContain(gate); // the work was not aborted
    await call(client, 'open_gate', { gate });
    const done = await call(client, 'continue_operation', {
      operation_id: mine[0]!.operation_id,
      wait_seconds: 10,
    });
    expect(textOf(done)).toBe(`gate ${gate} passed`);
  });

  it('a cancelOnAbort tool: a client that goes away mid-call cancels the work too', async () => {
    const gate = newGate();
    const client = await goAwayMidCall('gated_cancel_on_abort', `quitter-${era}`, gate);
    // abort_log with a gate waits (server side) for that gate's work to see its signal fire.
    const log = JSON.parse(textOf(await call(client, 'abort_log', { gate }))) as {
      gate: string;
      reason: string;
    }[];
    // Cancelled inside the call's wait, it was never handed an id: nothing of it is kept to list.
    expect(log.find((entry) => entry.gate === gate)?.reason).toBe('OperationCancelledError');
  });

  it("list_operations lists an identified caller's operations, newest first", async () => {
    // Over HTTP a caller is identified by its authentication; over stdio it is the local client.
    const client = await server.connect(era, `lister-${era}`);
    const gates = [newGate(), newGate()];
    const ids: string[] = [];
    for (const gate of gates) ids.push(stateOf(await call(client, 'gated', { gate }))!.operation_id);
    const listed = await call(client, 'list_operations', { status: 'running' });
    const operations = (listed.structuredContent as { operations: { operation_id: string }[] }).operations;
    const mine = operations.map((operation) => operation.operation_id).filter((id) => ids.includes(id));
    expect(mine).toEqual([...ids].reverse());
    for (const gate of gates) await call(client, 'open_gate', { gate });
  });

  it('a tool with an output schema answers running as a flagged error, then its validated result', async () => {
    const client = await server.connect(era);
    await client.listTools(); // the client checks structured results against the schemas it listed
    const gate = newGate();
    const first = await call(client, 'gated_structured', { gate });
    expect(first.isError).toBe(true);
    expect(textOf(first)).toContain('This is not a failure');
    const id = stateOf(first)!.operation_id;
    await call(client, 'open_gate', { gate });
    const done = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 10 });
    expect(done.structuredContent).toEqual({ passed: gate });
  });

  it('bad input gets an error naming the field; a tool without input and a bad handler result are answered', async () => {
    const client = await server.connect(era);
    const bad = await call(client, 'continue_operation', { operation_id: 'x', wait_seconds: 'soon' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/wait_seconds/);
    const unknownField = await call(client, 'cancel_operation', { operation_id: 'x', reason: 'why' });
    expect(unknownField.isError).toBe(true);
    expect(textOf(unknownField)).toMatch(/reason/);
    expect(textOf(await call(client, 'no_input'))).toBe('no input (22-character id)');
    const invalid = await call(client, 'bad_result');
    expect(invalid.isError).toBe(true);
    expect(textOf(invalid)).toContain('returned an invalid result (string)');
    expect(textOf(await call(client, 'instant', { echo: 'still serving' }))).toBe('still serving');
  });
});
