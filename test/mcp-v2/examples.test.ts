// The examples a newcomer copies, run as they are: example/server.ts (serveStdio) and
// example/http-server.ts (createMcpHandler through @modelcontextprotocol/node), each driven by the
// SDK v2 client on 2026-07-28 through a render that outlives its wait, to its own result.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, describe, expect, it } from 'vitest';
import { callToolWithContinuation } from '../../src/mcp/index.js';
import { call, stateOf, textOf } from './connect.js';

const example = (name: string) => fileURLToPath(new URL(`../../example/${name}`, import.meta.url));
const modern = () =>
  new Client({ name: 'example-test', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
const render = { name: 'render_video', arguments: { title: 'Example', frames: 6, frame_ms: 100 } };

describe('the SDK v2 examples, as a newcomer runs them', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill();
  });

  it('example/server.ts over stdio: a render outlives its wait and is followed to its own result', async () => {
    const client = modern();
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', example('server.ts')],
        env: { ...(process.env as Record<string, string>), MCP_ASYNC_WAIT_MS: '200' },
        stderr: 'inherit',
      }),
    );
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const first = await call(client, render.name, render.arguments);
    expect(stateOf(first)?.status).toBe('running');
    const done = await callToolWithContinuation(client, render);
    expect(done.structuredContent).toMatchObject({ file: 'example.mp4', frames: 6 });
    const listed = await call(client, 'list_operations');
    expect(JSON.stringify(listed.structuredContent)).toContain(stateOf(first)!.operation_id); // the local client's
    await client.close();
  });

  it('example/http-server.ts: continue_operation works across requests, each served by a fresh server', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', example('http-server.ts'), '--port', '0'], {
      env: { ...process.env, MCP_ASYNC_WAIT_MS: '200' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(child);
    const url = await new Promise<URL>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        err += chunk;
        const match = /on (http:\/\/\S+)/.exec(err);
        if (match !== null) resolve(new URL(match[1]!));
      });
      child.on('exit', (code) => reject(new Error(`the example exited with ${code}: ${err}`)));
    });
    const client = modern();
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: 'Bearer newcomer' } },
      }),
    );
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const first = await call(client, render.name, render.arguments);
    const id = stateOf(first)!.operation_id;
    let result = first;
    while (stateOf(result)?.status === 'running') {
      result = await call(client, 'continue_operation', { operation_id: id, wait_seconds: 5 });
    }
    expect(textOf(result)).toMatch(/^Rendered "Example" \(6 frames\)/);
    expect(JSON.stringify((await call(client, 'list_operations')).structuredContent)).toContain(id);
    await client.close();
  });
});
