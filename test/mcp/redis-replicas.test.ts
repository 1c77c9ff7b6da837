import type { ChildProcess } from 'node:child_process';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContinuationLostError, callToolWithContinuation as followV2 } from '../../src/mcp/index.js';
import { callToolWithContinuation as followV1 } from '../../src/mcp/v1/index.js';
import { deleteKeys, type TestRedis, testRedis, uniquePrefix } from '../redis-server.js';
import { abortLogOf, call, newGate, stateOf, textOf } from './connect.js';
import {
  type KillingFetch,
  killOnLongPoll,
  type ReplicaProcess,
  startReplicaProcess,
} from './replica-process.js';

// Two server processes (stateless Streamable HTTP) on one Redis, as behind a load balancer: the
// real SDK client starts work on replica A and continues, cancels and lists on replica B; then A is
// killed with SIGKILL in the middle of an operation and B reports it failed.

const LEASE_MS = 500;
let redis: TestRedis;
let prefix: string;
const processes: ChildProcess[] = [];

function startReplica(): Promise<ReplicaProcess> {
  return startReplicaProcess(redis.url, prefix, LEASE_MS, (proc) => processes.push(proc));
}

/** The same authenticated client on any replica: its operations follow it across them. */
async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: 'test', version: '0' });
  const requestInit = { headers: { authorization: 'Bearer replicas-test' } };
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit }));
  return client;
}

beforeAll(async () => {
  redis = await testRedis();
  prefix = uniquePrefix();
});
afterAll(async () => {
  for (const proc of processes) proc.kill('SIGKILL');
  await deleteKeys(redis.url, prefix);
  await redis.stop();
});

describe('two replicas on one Redis, real client, stateless HTTP', () => {
  it('start on A; list, continue and cancel on B; kill A mid-operation and B reports it failed', async () => {
    const a = await startReplica();
    const b = await startReplica();
    const onA = await connect(a.url);
    const onB = await connect(b.url);

    // continue on B: B's waiter is woken by A's completion, through Redis
    const gate1 = newGate();
    const id1 = stateOf(await call(onA, 'gated', { gate: gate1 }))!.operation_id;
    expect(JSON.stringify((await call(onB, 'list_operations')).structuredContent)).toContain(id1);
    const continued = call(onB, 'continue_operation', { operation_id: id1, wait_seconds: 15 });
    await call(onA, 'open_gate', { gate: gate1 }); // the gate lives where the work runs
    expect(textOf(await continued)).toBe(`gate ${gate1} passed`);

    // cancel on B reaches the work's signal on A
    const gate2 = newGate();
    const id2 = stateOf(await call(onA, 'gated', { gate: gate2 }))!.operation_id;
    const cancelled = await call(onB, 'cancel_operation', { operation_id: id2 });
    expect(cancelled.structuredContent).toMatchObject({ status: 'cancelled' });
    // A hears of B's cancel through Redis a moment after B answered: the log waits for it.
    const log = JSON.parse(textOf(await call(onA, 'abort_log', { gate: gate2 }))) as {
      gate: string;
      reason: string;
    }[];
    expect(log).toContainEqual({ gate: gate2, reason: 'OperationCancelledError' });

    // kill A while it runs an operation that B is waiting on
    const gate3 = newGate();
    const id3 = stateOf(await call(onA, 'gated', { gate: gate3 }))!.operation_id;
    const waiting = call(onB, 'continue_operation', { operation_id: id3, wait_seconds: 15 });
    a.proc.kill('SIGKILL');
    const lost = await waiting;
    expect(lost.isError).toBe(true);
    expect(textOf(lost)).toContain('owner replica lost');
    expect(textOf(lost)).toContain('The work may or may not have happened');
    const listed = await call(onB, 'list_operations', { status: 'failed' });
    expect(JSON.stringify(listed.structuredContent)).toContain(id3);

    await onB.close();
    b.proc.kill('SIGTERM');
  }, 60_000);

  it('A frozen (SIGSTOP) past its lease: B reports its work lost; resumed, A stops that work and its late end changes nothing', async () => {
    const a = await startReplica();
    const b = await startReplica();
    const onA = await connect(a.url);
    const onB = await connect(b.url);
    const gate = newGate();
    const id = stateOf(await call(onA, 'gated', { gate }))!.operation_id;
    const waiting = call(onB, 'continue_operation', { operation_id: id, wait_seconds: 15 });
    a.proc.kill('SIGSTOP');
    const lost = await waiting;
    expect(textOf(lost)).toContain('owner replica lost');
    a.proc.kill('SIGCONT');
    // Running again, A hears the reaper's end (its feed) and its work's signal fires: no zombie.
    expect(await abortLogOf(onA, gate, 10_000)).toContainEqual({ gate, reason: 'ReplicaLostError' });
    // Its work's end, had it come, would not replace the outcome every replica already gave.
    await call(onA, 'open_gate', { gate });
    for (const client of [onA, onB]) {
      expect(
        textOf(await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0 })),
      ).toContain('owner replica lost');
    }
    await onA.close();
    await onB.close();
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
  }, 60_000);
});

describe('a redeliverable tool (redeliver) on two replicas, real client, stateless HTTP', () => {
  /**
   * Replicas A and B, a client on each; a call to the redeliverable tool running on A, a
   * continue_operation waiting on B, and the call's gate opened on B, where a run again will wait
   * for it (gates live in a process): A's own run stays blocked.
   */
  async function redeliverableCallOnA() {
    const a = await startReplica();
    const b = await startReplica();
    const onA = await connect(a.url);
    const onB = await connect(b.url);
    const gate = newGate();
    const id = stateOf(await call(onA, 'gated_redeliverable', { gate }))!.operation_id;
    const waiting = call(onB, 'continue_operation', { operation_id: id, wait_seconds: 15 });
    await call(onB, 'open_gate', { gate });
    return { a, b, onA, onB, gate, id, waiting };
  }

  it('A SIGKILLed mid-call: B runs the call again, the client waiting on B gets its result (attempt 2)', async () => {
    const { a, b, onA, onB, gate, waiting } = await redeliverableCallOnA();
    a.proc.kill('SIGKILL');
    const done = await waiting;
    expect(done.isError).toBeFalsy();
    expect(textOf(done)).toBe(`gate ${gate} passed on attempt 2`);
    await onA.close().catch(() => undefined);
    await onB.close();
    b.proc.kill('SIGTERM');
  }, 60_000);

  it('A stopped with SIGTERM (graceful drain): its running call is handed back and B runs it, the attempt not counted', async () => {
    const { a, b, onB, gate, waiting } = await redeliverableCallOnA();
    const exited = new Promise((resolve) => a.proc.once('exit', resolve));
    a.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    const done = await waiting;
    expect(textOf(done)).toBe(`gate ${gate} passed on attempt 1`);
    await onB.close();
    b.proc.kill('SIGTERM');
  }, 60_000);

  it('A frozen (SIGSTOP) past its lease: B runs the call again; resumed, A has stopped its run and changes nothing', async () => {
    const { a, b, onA, onB, gate, id, waiting } = await redeliverableCallOnA();
    a.proc.kill('SIGSTOP');
    expect(textOf(await waiting)).toBe(`gate ${gate} passed on attempt 2`);
    a.proc.kill('SIGCONT');
    // Resumed, A finds its lease ran out unrenewed: its run's signal fires (it would run twice).
    expect(await abortLogOf(onA, gate, 10_000)).toContainEqual({ gate, reason: 'ReplicaLostError' });
    // Its gate opened now, A's run would end, were it still running: the outcome stays B's.
    await call(onA, 'open_gate', { gate });
    for (const client of [onA, onB]) {
      expect(textOf(await call(client, 'continue_operation', { operation_id: id, wait_seconds: 0 }))).toBe(
        `gate ${gate} passed on attempt 2`,
      );
    }
    await onA.close();
    await onB.close();
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
  }, 60_000);
});

// The replica a client follows an operation on is SIGKILLed while it holds a continue_operation
// long-poll: its response stream is cut, which the Streamable HTTP client transports of both SDK
// lines report to `onerror` only, leaving the request to its timeout. The helper bounds that
// timeout a few seconds past the wait: with a 1 s wait the test's own 20 s limit is far off, where
// the former 30 s margin ran past it.
describe.each([
  { line: 'SDK 1.x', follow: followOnV1 },
  { line: 'SDK v2', follow: followOnV2 },
])('a client on $line following on a replica that is killed mid long-poll', ({ follow }) => {
  it('rejects with ContinuationLostError naming the operation', async () => {
    const replica = await startReplica();
    const killing = killOnLongPoll(replica);
    const gate = newGate();
    const error = await follow(replica.url, killing.fetch, gate).catch((e: unknown) => e);
    expect(killing.killedAt).toBeDefined();
    expect(error).toBeInstanceOf(ContinuationLostError);
    const id = (error as ContinuationLostError).operationId;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((error as Error).message).toContain(`following operation ${id}:`);
  });
});

const requestInit = { headers: { authorization: 'Bearer replicas-test' } };

async function followOnV1(url: URL, fetch: KillingFetch, gate: string): Promise<unknown> {
  const client = new Client({ name: 'test', version: '0' });
  client.onerror = () => undefined; // the cut stream, reported by the transport
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit, fetch }));
  try {
    return await followV1(client, { name: 'gated', arguments: { gate } }, { tasks: false, waitMs: 1000 });
  } finally {
    await client.close();
  }
}

async function followOnV2(url: URL, fetch: KillingFetch, gate: string): Promise<unknown> {
  const client = new V2Client({ name: 'test', version: '0' });
  client.onerror = () => undefined;
  await client.connect(new V2StreamableHTTPClientTransport(url, { requestInit, fetch }));
  try {
    return await followV2(client, { name: 'gated', arguments: { gate } }, { tasks: false, waitMs: 1000 });
  } finally {
    await client.close();
  }
}
