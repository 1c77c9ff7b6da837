// Redelivery end to end on SDK v2, protocol 2026-07-28, with the official tasks-extension client
// (@modelcontextprotocol/ext-tasks): two v2 server processes (Streamable HTTP, a server per request)
// on one Redis, as behind a load balancer. The same authenticated client calls a redeliverable tool
// on replica A, which answers with a task; a task session on replica B follows it with tasks/get.
// A is then ended (SIGKILL, or SIGTERM's graceful drain) while the tool runs, and B runs it again.
// The SDK 1.x counterpart is in ../mcp/redis-replicas.test.ts.
import type { ChildProcess } from 'node:child_process';
import { type CallToolResult, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { TaskOutcome } from '@modelcontextprotocol/ext-tasks/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newGate } from '../mcp/connect.js';
import { type ReplicaProcess, startReplicaProcess } from '../mcp/replica-process.js';
import { deleteKeys, type TestRedis, testRedis, uniquePrefix } from '../redis-server.js';
import { call, ERA_VERSION, textOf } from './connect.js';
import { taskSession } from './task-session.js';

const LEASE_MS = 500;
let redis: TestRedis;
let prefix: string;
const processes: ChildProcess[] = [];
const clients: Client[] = [];

function startReplica(): Promise<ReplicaProcess> {
  return startReplicaProcess(redis.url, prefix, LEASE_MS, (proc) => processes.push(proc), 'v2');
}

/** The same authenticated client on any replica, on 2026-07-28: its tasks follow it across them. */
async function connect(url: URL): Promise<Client> {
  const client = new Client(
    { name: 'redelivery-test', version: '0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const requestInit = { headers: { authorization: 'Bearer redelivery-test' } };
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit }));
  clients.push(client);
  expect(client.getNegotiatedProtocolVersion()).toBe(ERA_VERSION.modern);
  return client;
}

beforeAll(async () => {
  redis = await testRedis();
  prefix = uniquePrefix();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  for (const proc of processes) proc.kill('SIGKILL');
  await deleteKeys(redis.url, prefix);
  await redis.stop();
});

/**
 * Replicas A and B, a client and task session on each, and a call of gated_redeliverable on A that
 * became a task, already followed on B: B's tasks/get sees it working, and B's result() polls it.
 * The gate is opened on B, where a run again waits for it (gates live in a process's memory); the
 * run on A waits on A's gate, never opened, so it ends only with A.
 */
async function redeliverableTaskOnA() {
  const a = await startReplica();
  const b = await startReplica();
  const onA = await connect(a.url);
  const onB = await connect(b.url);
  const sessionA = taskSession(onA);
  const sessionB = taskSession(onB);
  const gate = newGate();
  const execution = await sessionA.callTool('gated_redeliverable', { gate });
  expect(execution.kind).toBe('task');
  if (execution.kind !== 'task') throw new Error('expected a task');
  const taskId = execution.handle.taskId;
  expect(taskId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(await sessionB.task(taskId).snapshot()).toMatchObject({ taskId, status: 'working' });
  const outcome = sessionB.task(taskId).result();
  outcome.catch(() => undefined); // awaited by the test; a rejection before that is not unhandled
  await call(onB, 'open_gate', { gate });
  return { a, b, sessionA, sessionB, gate, taskId, outcome };
}

/** The text of the tool result a completed task outcome carries. */
function completedText(outcome: TaskOutcome<unknown>): string {
  expect(outcome.status).toBe('completed');
  if (outcome.status !== 'completed') throw new Error(`the task ended ${outcome.status}`);
  const result = outcome.result as CallToolResult;
  expect(result.isError).toBeFalsy();
  return textOf(result);
}

describe('a redeliverable tool on two SDK v2 replicas, followed as a task of the tasks extension', () => {
  it('A SIGKILLed mid-call: B runs it again; the task, read on B, completes with attempt 2', async () => {
    const { a, b, sessionA, sessionB, gate, taskId, outcome } = await redeliverableTaskOnA();
    a.proc.kill('SIGKILL');
    expect(completedText(await outcome)).toBe(`gate ${gate} passed on attempt 2`);
    // Read again on B, the task still says so: it is the stored outcome, not the poll's.
    expect(completedText(await sessionB.task(taskId).result())).toBe(`gate ${gate} passed on attempt 2`);
    await sessionA.close().catch(() => undefined);
    await sessionB.close();
    b.proc.kill('SIGTERM');
  }, 60_000);

  it('A stopped with SIGTERM (graceful drain): it hands the call back, B runs it, the attempt not counted', async () => {
    const { a, b, sessionA, sessionB, gate, taskId, outcome } = await redeliverableTaskOnA();
    const exited = new Promise((resolve) => a.proc.once('exit', resolve));
    a.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(completedText(await outcome)).toBe(`gate ${gate} passed on attempt 1`);
    expect(completedText(await sessionB.task(taskId).result())).toBe(`gate ${gate} passed on attempt 1`);
    await sessionA.close().catch(() => undefined);
    await sessionB.close();
    b.proc.kill('SIGTERM');
  }, 60_000);
});
