// How soon callToolWithContinuation knows its server is gone: a Streamable HTTP replica (the Redis
// test fixture, its own process) is SIGKILLed while it holds a continue_operation long-poll, on each
// SDK line's client; the figure is the time from the kill to the ContinuationLostError.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ContinuationLostError, callToolWithContinuation as followV2 } from '../src/mcp/index.js';
import { callToolWithContinuation as followV1 } from '../src/mcp/v1/index.js';
import { deleteKeys, testRedis, uniquePrefix } from '../test/redis-server.js';
import { report } from './lib.js';

const WAIT_MS = 7000;
const script = fileURLToPath(new URL('../test/fixtures/http-redis-replica.ts', import.meta.url));
const redis = await testRedis();
const prefix = uniquePrefix();
const requestInit = { headers: { authorization: 'Bearer bench' } };

function startReplica(): Promise<{ proc: ChildProcess; url: URL }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, redis.url, prefix, '500'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening (\S+) /.exec(out);
      if (match !== null) resolve({ proc, url: new URL(match[1]!) });
    });
    proc.on('exit', (code) => reject(new Error(`replica exited with ${code} before serving`)));
  });
}

type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;
type Follow = (url: URL, fetch: Fetch) => Promise<unknown>;

/** Milliseconds from the kill (once the long-poll's response stream opened) to the rejection. */
async function lostAfterKill(follow: Follow): Promise<number> {
  const replica = await startReplica();
  let killedAt: number | undefined;
  const killing: Fetch = async (url, init) => {
    const response = await fetch(url, init);
    if (killedAt === undefined && String(init?.body ?? '').includes('"continue_operation"')) {
      killedAt = performance.now();
      replica.proc.kill('SIGKILL');
      await once(replica.proc, 'exit');
    }
    return response;
  };
  const error = await follow(replica.url, killing).catch((e: unknown) => e);
  if (!(error instanceof ContinuationLostError) || killedAt === undefined)
    throw new Error(`unexpected ${error}`);
  return performance.now() - killedAt;
}

const args = (gate: string) => ({ name: 'gated', arguments: { gate } });
const options = { tasks: false, waitMs: WAIT_MS };
const v1 = await lostAfterKill(async (url, fetch) => {
  const client = new Client({ name: 'bench', version: '0' });
  client.onerror = () => undefined;
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit, fetch }));
  return followV1(client, args('bench-v1'), options).finally(() => client.close());
});
const v2 = await lostAfterKill(async (url, fetch) => {
  const client = new V2Client({ name: 'bench', version: '0' });
  client.onerror = () => undefined;
  await client.connect(new V2Transport(url, { requestInit, fetch }));
  return followV2(client, args('bench-v2'), options).finally(() => client.close());
});
await deleteKeys(redis.url, prefix);
await redis.stop();

const worst = Math.max(v1, v2);
report({
  figure: 'callToolWithContinuation: server SIGKILLed mid long-poll -> ContinuationLostError',
  value: `SDK 1.x ${(v1 / 1000).toFixed(1)} s, SDK v2 ${(v2 / 1000).toFixed(1)} s after the kill (waitMs ${WAIT_MS})`,
  goal: `within a few seconds of the long-poll's end (<= waitMs + 6 s)`,
  go: 'n/a (no client helper)',
  met: worst <= WAIT_MS + 6000,
  method:
    'Streamable HTTP replica in its own process, killed as the continue_operation POST gets its response head; one sample per SDK line',
});
