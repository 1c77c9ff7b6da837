import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Executor } from '../../src/index.js';
import { registerAsyncTools } from '../../src/mcp/v1/index.js';
import { call, newGate, startTestServer, stateOf, type TestServer, textOf } from './connect.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('registerAsyncTools options', () => {
  it('toolNames renames the generic tools, and running answers name the new ones', async () => {
    server = await startTestServer('http-stateful', 5000, {
      toolNames: { continue: 'poll_job', cancel: 'stop_job' },
    });
    const client = await server.connect();
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['poll_job', 'stop_job', 'list_operations']));
    expect(names).not.toContain('continue_operation');
    const gate = newGate();
    const running = await call(client, 'gated', { gate });
    expect(textOf(running)).toContain('Call `poll_job`');
    expect(textOf(running)).toContain('call `stop_job`');
    await call(client, 'open_gate', { gate });
    const done = await call(client, 'poll_job', {
      operation_id: stateOf(running)!.operation_id,
      wait_seconds: 10,
    });
    expect(textOf(done)).toBe(`gate ${gate} passed`);
  });

  it("estimate(args) is typed by the tool's input schema (checked by tsc over this file)", () => {
    const executor = new Executor();
    const tools = registerAsyncTools(new McpServer({ name: 'x', version: '0' }), executor);
    const inputSchema = { frames: z.number().int(), title: z.string() };
    const handler = async () => ({ content: [] });
    tools.registerTool(
      'typed',
      { inputSchema, background: 'auto', estimate: ({ frames }) => frames * 250 },
      handler,
    );
    tools.registerTool(
      'mistyped',
      {
        inputSchema,
        background: 'auto',
        // @ts-expect-error: `title` is a string, so this estimate answers a string, not a number
        estimate: ({ title }) => title,
      },
      handler,
    );
    tools.registerTool(
      'unknown_arg',
      {
        inputSchema,
        background: 'auto',
        // @ts-expect-error: `pages` is not an argument of this tool
        estimate: ({ pages }) => pages * 10,
      },
      handler,
    );
    void executor.stop();
  });

  it('continue_operation says one truth about waits: the cap in force, and that a longer one is accepted', async () => {
    server = await startTestServer('http-stateful', 300, { defaultWaitMs: 2000 });
    const client = await server.connect();
    const tool = (await client.listTools()).tools.find((listed) => listed.name === 'continue_operation')!;
    expect(tool.description).toContain('waits up to wait_seconds (default 0.3)');
    expect(tool.description).toContain('this server ends any one wait after 0.3 seconds');
    expect(tool.description).toContain(
      'A longer wait_seconds is accepted (up to 3600) and waits 0.3 seconds',
    );
    expect(tool.description).not.toContain('55');
    expect(tool.inputSchema.properties?.wait_seconds).toMatchObject({ maximum: 3600 });
    const gate = newGate();
    const id = stateOf(await call(client, 'gated', { gate }))!.operation_id;
    // Accepted and capped, as the description says: not refused, not held for an hour.
    const answer = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 3600 });
    expect(answer.isError).toBeFalsy();
    expect(stateOf(answer)?.status).toBe('running');
    const refused = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 3601 });
    expect(refused.isError).toBe(true);
    await call(client, 'open_gate', { gate });
  });

  it('an owner function decides who owns what: here every caller of a tenant shares its operations', async () => {
    server = await startTestServer('http-stateful', 5000, {
      owner: (extra) => `tenant:${String(extra.authInfo?.clientId ?? 'none').split('-')[0]}`,
    });
    const alice = await server.connect('acme-alice');
    const bob = await server.connect('acme-bob');
    const eve = await server.connect('globex-eve');
    const gate = newGate();
    const id = stateOf(await call(alice, 'gated', { gate }))!.operation_id;
    expect(JSON.stringify((await call(bob, 'list_operations')).structuredContent)).toContain(id);
    expect(JSON.stringify((await call(eve, 'list_operations')).structuredContent)).not.toContain(id);
    await call(alice, 'open_gate', { gate });
    expect(textOf(await call(bob, 'continue_operation', { operation_id: id, wait_seconds: 10 }))).toBe(
      `gate ${gate} passed`,
    );
  });

  it('maxResultBytes: a larger tool result becomes an error naming both sizes; a smaller one passes', async () => {
    server = await startTestServer('http-stateful', 5000, { maxResultBytes: 200 });
    const client = await server.connect();
    expect((await call(client, 'instant', { echo: 'short' })).structuredContent).toEqual({ echo: 'short' });
    const big = await call(client, 'instant', { echo: 'x'.repeat(500) });
    expect(big.isError).toBe(true);
    expect(textOf(big)).toMatch(
      /^Tool instant returned \d+ bytes, more than the 200 allowed \(maxResultBytes\); the result was dropped$/,
    );
    // A result JSON cannot carry is an error naming why, not a broken connection.
    const notJson = await call(client, 'not_json');
    expect(notJson.isError).toBe(true);
    expect(textOf(notJson)).toBe(
      'Tool not_json returned a result that cannot be sent as JSON: Do not know how to serialize a BigInt',
    );
    expect((await call(client, 'instant', { echo: 'still here' })).structuredContent).toEqual({
      echo: 'still here',
    });
  });

  it('refuses bad options, naming them', () => {
    const executor = new Executor();
    const mcp = () => new McpServer({ name: 'x', version: '0' });
    expect(() => registerAsyncTools(mcp(), executor, { toolNames: { continue: 'has space' } })).toThrow(
      /`toolNames.continue` to be 1-128 letters.*"has space"/,
    );
    expect(() => registerAsyncTools(mcp(), executor, { owner: 'alice' as never })).toThrow(
      /`owner` to be a function, got `"alice"`/,
    );
    expect(() => registerAsyncTools(mcp(), executor, { defaultWaitMs: -1 })).toThrow(/`defaultWaitMs`/);
    expect(() => registerAsyncTools(mcp(), executor, { maxResultBytes: 0 })).toThrow(
      /`maxResultBytes` to be a whole number from 1 up \(or Infinity\), got `0`/,
    );
    expect(() => registerAsyncTools(mcp(), executor, { tasks: { pollIntervalMs: -5 } })).toThrow(
      /`tasks.pollIntervalMs`/,
    );
    const withLogging = () => new McpServer({ name: 'x', version: '0' }, { capabilities: { logging: {} } });
    expect(() =>
      registerAsyncTools(withLogging(), executor, { logging: { level: 'loud' as never } }),
    ).toThrow(/`logging.level` to be one of debug, info, warn, error, got `"loud"`/);
    expect(() =>
      registerAsyncTools(withLogging(), executor, { logging: { levl: 'debug' } as never }),
    ).toThrow(/Unknown option `levl` in `logging` of registerAsyncTools\(\); did you mean `level`\?/);
    expect(() => registerAsyncTools(mcp(), executor, { progress: { intervalMS: 5 } as never })).toThrow(
      /did you mean `intervalMs`\?/,
    );
    expect(() => registerAsyncTools(mcp(), executor, { defaultWaitSeconds: 5 } as never)).toThrow(
      /did you mean `defaultWaitMs`\?/,
    );
    const tools = registerAsyncTools(mcp(), executor);
    expect(() => tools.registerTool('t', { waitMs: Number.NaN }, async () => ({ content: [] }))).toThrow(
      /`waitMs`/,
    );
    expect(() => tools.registerTool('u', {}, 'not a function' as never)).toThrow(
      /`handler` to be a function/,
    );
    void executor.stop();
  });
});
