// Owners without sessions (SDK v2, Streamable HTTP, both eras): an authenticated principal owns its
// operations across requests; without authentication the operation id is the only capability and
// nothing is listed.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newGate } from '../mcp/connect.js';
import { call, startV2Server, stateOf, textOf, type V2TestServer } from './connect.js';

/** The stranger gets exactly the answers it would get for an id that never existed. */
async function expectInvisible(stranger: Client, operationId: string) {
  const neverExisted = 'x'.repeat(operationId.length);
  for (const tool of ['continue_operation', 'cancel_operation']) {
    const args = (id: string) =>
      tool === 'continue_operation' ? { operation_id: id, wait_seconds: 0 } : { operation_id: id };
    const answer = await call(stranger, tool, args(operationId));
    const unknown = await call(stranger, tool, args(neverExisted));
    expect(answer.isError).toBe(true);
    expect(textOf(answer)).toBe(textOf(unknown).replace(neverExisted, operationId));
  }
  expect(JSON.stringify(await call(stranger, 'list_operations'))).not.toContain(operationId);
}

describe.each(['legacy', 'modern'] as const)('SDK v2 over HTTP, %s era', (era) => {
  let server: V2TestServer;
  beforeAll(async () => {
    server = await startV2Server('http');
  });
  afterAll(async () => {
    await server.close();
  });

  it("one principal's operation does not exist for another, and follows its owner across requests", async () => {
    const alice = await server.connect(era, 'alice');
    const gate = newGate();
    const id = stateOf(await call(alice, 'gated', { gate }))!.operation_id;
    await expectInvisible(await server.connect(era, 'bob'), id);
    // Every request of v2's HTTP handler is a fresh server: ownership is the principal.
    const aliceAgain = await server.connect(era, 'alice');
    expect(
      JSON.stringify((await call(aliceAgain, 'list_operations', { status: 'running' })).structuredContent),
    ).toContain(id);
    await call(alice, 'open_gate', { gate });
    expect(textOf(await call(aliceAgain, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
      `gate ${gate} passed`,
    );
  });

  it('two unauthenticated callers: nothing is listed to either; whoever holds the id reaches it', async () => {
    const first = await server.connect(era);
    const second = await server.connect(era);
    const gate = newGate();
    const id = stateOf(await call(first, 'gated', { gate }))!.operation_id;
    for (const caller of [first, second]) {
      const listed = await call(caller, 'list_operations');
      expect(listed.structuredContent).toEqual({ operations: [] });
      expect(textOf(listed)).toContain('reachable only by their operation_id');
    }
    // An authenticated principal does not see the unowned operation either.
    await expectInvisible(await server.connect(era, 'carol'), id);
    expect(
      stateOf(await call(second, 'continue_operation', { operation_id: id, wait_seconds: 0 }))?.status,
    ).toBe('running');
    await call(first, 'open_gate', { gate });
    expect(textOf(await call(second, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
      `gate ${gate} passed`,
    );
  });
});
