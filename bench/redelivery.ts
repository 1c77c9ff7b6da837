// How soon a redeliverable call runs again after its replica dies: replica processes on one Redis
// (the test fixture, stateless Streamable HTTP), a call to the redeliverable tool started on A, a
// client waiting on B; A is SIGKILLed and the figure is the time from the kill to B's answer (the
// run again ended at once: its gate was opened on B beforehand). The path: A's lease runs out, B's
// next heartbeat reaps it and queues the call (BullMQ, no backoff here), B's worker takes the job
// and runs it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { call, newGate, stateOf, textOf } from '../test/mcp/connect.js';
import { type ReplicaProcess, startReplicaProcess } from '../test/mcp/replica-process.js';
import { deleteKeys, testRedis, uniquePrefix } from '../test/redis-server.js';
import { percentile, report } from './lib.js';

const LEASE_MS = 2000;
const SAMPLES = 5;
const redis = await testRedis();
const prefix = uniquePrefix();
const requestInit = { headers: { authorization: 'Bearer bench' } };

async function connect(replica: ReplicaProcess): Promise<Client> {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(replica.url, { requestInit }));
  return client;
}

const b = await startReplicaProcess(redis.url, prefix, LEASE_MS);
const onB = await connect(b);
const samples: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const a = await startReplicaProcess(redis.url, prefix, LEASE_MS);
  const onA = await connect(a);
  const gate = newGate();
  const id = stateOf(await call(onA, 'gated_redeliverable', { gate }))!.operation_id;
  await call(onB, 'open_gate', { gate });
  const waiting = call(onB, 'continue_operation', { operation_id: id, wait_seconds: 30 });
  const exited = new Promise((resolve) => a.proc.once('exit', resolve));
  const killedAt = performance.now();
  a.proc.kill('SIGKILL');
  await exited;
  const text = textOf(await waiting);
  if (text !== `gate ${gate} passed on attempt 2`) throw new Error(`unexpected answer: ${text}`);
  samples.push(performance.now() - killedAt);
  await onA.close().catch(() => undefined);
}
await onB.close();
b.proc.kill('SIGTERM');
await new Promise((resolve) => b.proc.once('exit', resolve));
await deleteKeys(redis.url, prefix);
await redis.stop();

samples.sort((x, y) => x - y);
const worst = samples.at(-1)!;
// The stall interval (BullMQ's check for a worker that died holding a job) is the lease too.
const goal = 2 * LEASE_MS;
report({
  figure: 'Redelivery: redeliverable call SIGKILLed on replica A -> run again and answered on B',
  value: `best ${(samples[0]! / 1000).toFixed(2)} s, median ${(percentile(samples, 50) / 1000).toFixed(2)} s, worst ${(worst / 1000).toFixed(2)} s of ${SAMPLES} (lease ${LEASE_MS} ms)`,
  goal: `within one lease plus the stall interval (${goal / 1000} s)`,
  go: 'n/a (no redelivery)',
  met: worst <= goal,
  method: `${SAMPLES} kills, each of a fresh replica process; from SIGKILL to B's continue_operation answering "attempt 2"; backoff 0; both replicas and Redis on one 2-core machine`,
});
