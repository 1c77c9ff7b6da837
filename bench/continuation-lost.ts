// How soon callToolWithContinuation knows its server is gone: a Streamable HTTP replica (the Redis
// test fixture, its own process) is SIGKILLed while it holds a continue_operation long-poll, on each
// SDK line's client; the figure is the time from the kill to the ContinuationLostError.
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ContinuationLostError, callToolWithContinuation as followV2 } from '../src/mcp/index.js';
import { callToolWithContinuation as followV1 } from '../src/mcp/v1/index.js';
import { type KillingFetch, killOnLongPoll, startReplicaProcess } from '../test/mcp/replica-process.js';
import { deleteKeys, testRedis, uniquePrefix } from '../test/redis-server.js';
import { report } from './lib.js';

const WAIT_MS = 7000;
const redis = await testRedis();
const prefix = uniquePrefix();
const requestInit = { headers: { authorization: 'Bearer bench' } };

type Follow = (url: URL, fetch: KillingFetch) => Promise<unknown>;

/** Milliseconds from the kill (once the long-poll's response stream opened) to the rejection. */
async function lostAfterKill(follow: Follow): Promise<number> {
  const replica = await startReplicaProcess(redis.url, prefix, 500);
  const killing = killOnLongPoll(replica);
  const error = await follow(replica.url, killing.fetch).catch((e: unknown) => e);
  const killedAt = killing.killedAt;
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
