import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newGate, startTestServer, stateOf, type TestServer, textOf } from './connect.js';

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
  const listed = await call(stranger, 'list_operations');
  expect(JSON.stringify(listed)).not.toContain(operationId);
  // The same through native tasks: the JSON-RPC error of an id that never existed.
  const tasks = stranger.experimental.tasks;
  for (const ask of [
    (id: string) => tasks.getTask(id),
    (id: string) => tasks.getTaskResult(id, CallToolResultSchema),
    (id: string) => tasks.cancelTask(id),
  ]) {
    const [error, unknown] = await Promise.all([rejection(ask(operationId)), rejection(ask(neverExisted))]);
    expect(error).toBeInstanceOf(McpError);
    expect(error.message).toBe(unknown.message.replace(neverExisted, operationId));
  }
  expect(JSON.stringify(await tasks.listTasks())).not.toContain(operationId);
}

async function rejection(request: Promise<unknown>): Promise<Error> {
  return request.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: Error) => error,
  );
}

describe('owner isolation: continue, cancel, list and tasks/*', () => {
  describe('between two sessions (stateful HTTP)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('http-stateful');
    });
    afterAll(async () => {
      await server.close();
    });

    it("one session's operation does not exist for another: continue, cancel and list", async () => {
      const alice = await server.connect();
      const bob = await server.connect();
      const gate = newGate();
      const id = stateOf(await call(alice, 'gated', { gate }))!.operation_id;
      await expectInvisible(bob, id);
      // Bob's cancel did not touch it: it is still running for Alice, and completes.
      await call(alice, 'open_gate', { gate });
      expect(textOf(await call(alice, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
        `gate ${gate} passed`,
      );
    });
  });

  describe('between two authenticated clients (stateless HTTP, bearer tokens)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('http-stateless');
    });
    afterAll(async () => {
      await server.close();
    });

    it("one principal's operation does not exist for another, and follows its owner across connections", async () => {
      const alice = await server.connect('alice');
      const bob = await server.connect('bob');
      const anonymous = await server.connect();
      const gate = newGate();
      const id = stateOf(await call(alice, 'gated', { gate }))!.operation_id;
      await expectInvisible(bob, id);
      await expectInvisible(anonymous, id);
      // A new connection of the same principal sees it: ownership is the client, not the connection.
      const aliceAgain = await server.connect('alice');
      const listed = await call(aliceAgain, 'list_operations', { status: 'running' });
      expect(JSON.stringify(listed.structuredContent)).toContain(id);
      await call(alice, 'open_gate', { gate });
      expect(
        textOf(await call(aliceAgain, 'continue_operation', { operation_id: id, wait_seconds: 10 })),
      ).toBe(`gate ${gate} passed`);
    });
  });

  describe('between two unauthenticated callers (stateless HTTP, no session): the id is the only capability', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer('http-stateless');
    });
    afterAll(async () => {
      await server.close();
    });

    it("nothing lists one caller's operations to another (nor to itself); whoever holds the id reaches it", async () => {
      const first = await server.connect();
      const second = await server.connect();
      const gate = newGate();
      const id = stateOf(await call(first, 'gated', { gate }))!.operation_id;
      for (const caller of [first, second]) {
        const listed = await call(caller, 'list_operations');
        expect(JSON.stringify(listed)).not.toContain(id);
        expect(listed.structuredContent).toEqual({ operations: [] });
        expect(textOf(listed)).toContain('reachable only by their operation_id');
        expect(JSON.stringify(await caller.experimental.tasks.listTasks())).not.toContain(id);
      }
      // The id is the capability: the second caller, given it, follows the operation.
      const still = await call(second, 'continue_operation', { operation_id: id, wait_seconds: 0 });
      expect(stateOf(still)?.status).toBe('running');
      await call(first, 'open_gate', { gate });
      expect(textOf(await call(second, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
        `gate ${gate} passed`,
      );
    });
  });
});
