import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newGate, startTestServer, stateOf, type TestServer, textOf } from './connect.js';

// Bad input to every tool, from arbitrary JSON: the answer is always a well-formed tool result,
// an error says what was wrong, and the server keeps serving. Runs over stateful HTTP with the real
// SDK client. The seed and run count are printed by fast-check on failure.

const RUNS = 150;

const idLike = fc.oneof(
  fc.string(),
  fc.string({ minLength: 257, maxLength: 400 }),
  fc.constant(''),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
);
const waitLike = fc.oneof(
  fc.double({ min: -1e9, max: 1e9, noNaN: true }),
  fc.constantFrom(-1, 3601, 1e308, -0, Number.MAX_SAFE_INTEGER),
  fc.string(),
  fc.constant(null),
  fc.boolean(),
);
/** Arguments for one tool: a mix of its own fields (right or wrong) and unknown ones. */
const argsFor = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record({ ...fields, extra: fc.jsonValue() }, { requiredKeys: [] }) as fc.Arbitrary<
    Record<string, unknown>
  >;

async function expectWellFormed(client: Client, tool: string, args: Record<string, unknown>) {
  const raw = await client.callTool({ name: tool, arguments: args });
  const result = CallToolResultSchema.parse(raw);
  if (result.isError === true) {
    const text = textOf(result);
    expect(text.length).toBeGreaterThan(0);
    return text;
  }
  return undefined;
}

describe('fuzzed tool input over the real client', () => {
  let server: TestServer;
  let client: Client;
  let knownId: string;
  let gate: string;
  beforeAll(async () => {
    // A 20 ms maxWaitMs: valid continue calls on the running operation answer "running" quickly.
    server = await startTestServer('http-stateful', 20);
    client = await server.connect();
    gate = newGate();
    knownId = stateOf(await call(client, 'gated', { gate }))!.operation_id;
  });
  afterAll(async () => {
    await server.close();
  });

  it('continue_operation: any arguments get a well-formed answer; wrong ones an error naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(
        argsFor({ operation_id: fc.oneof(idLike, fc.constant(knownId)), wait_seconds: waitLike }),
        async (args) => {
          const error = await expectWellFormed(client, 'continue_operation', {
            ...args,
            ...(args.wait_seconds === undefined ? {} : {}),
          });
          const validId =
            typeof args.operation_id === 'string' &&
            args.operation_id.length >= 1 &&
            args.operation_id.length <= 256;
          const validWait =
            args.wait_seconds === undefined ||
            (typeof args.wait_seconds === 'number' && args.wait_seconds >= 0 && args.wait_seconds <= 3600);
          if ('extra' in args) expect(error).toMatch(/extra/i);
          else if (!validId) expect(error).toMatch(/operation_id/);
          else if (!validWait) expect(error).toMatch(/wait_seconds/);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('cancel_operation and list_operations: any arguments get a well-formed answer; wrong ones an error naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(argsFor({ operation_id: idLike }), async (args) => {
        const error = await expectWellFormed(client, 'cancel_operation', args);
        if ('extra' in args) expect(error).toMatch(/extra/i);
        else if (
          typeof args.operation_id !== 'string' ||
          args.operation_id.length === 0 ||
          args.operation_id.length > 256
        ) {
          expect(error).toMatch(/operation_id/);
        } else expect(error).toContain('No operation');
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(
        argsFor({ status: fc.oneof(fc.constantFrom('running', 'completed', 'done', ''), idLike) }),
        async (args) => {
          const error = await expectWellFormed(client, 'list_operations', args);
          const validStatus =
            args.status === undefined ||
            ['running', 'completed', 'failed', 'cancelled'].includes(args.status as string);
          if ('extra' in args) expect(error).toMatch(/extra/i);
          else if (!validStatus) expect(error).toMatch(/status/);
          else expect(error).toBeUndefined();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a long-running tool: any arguments get a well-formed answer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }), async (args) => {
        // gate names are fuzzed too: open each one right away so nothing is left waiting
        if (typeof args.gate === 'string') await call(client, 'open_gate', { gate: args.gate });
        await expectWellFormed(client, 'gated', args);
      }),
      { numRuns: RUNS },
    );
  });

  it('the server still serves afterwards, and the operation it held is intact', async () => {
    await call(client, 'open_gate', { gate });
    // Each wait is capped at 20 ms here: ask until the result is in (the gate is open, so it is imminent).
    let result = await call(client, 'continue_operation', { operation_id: knownId });
    while (stateOf(result)?.status === 'running')
      result = await call(client, 'continue_operation', { operation_id: knownId });
    expect(textOf(result)).toBe(`gate ${gate} passed`);
  });
});
