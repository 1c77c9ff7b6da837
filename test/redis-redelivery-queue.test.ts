// The BullMQ queue under RedisStore's redelivery (src/redis/redelivery-queue.ts), across the two
// ways BullMQ 6.7 on node-redis was seen to break for good: a queue whose setup Redis cut short,
// and a connection left behind by a closed worker. Each test runs a redis-server (or a proxy) of
// its own, never the shared one.
import { afterEach, describe, expect, it } from 'vitest';
import { RedeliveryQueue } from '../src/redis/redelivery-queue.js';
import { deferred } from './helpers.js';
import { type OwnRedis, ownRedis, type Partitionable, partitionable, uniquePrefix } from './redis-server.js';

const STALLED_MS = 500;
const TIMEOUT_MS = 2000;
let server: OwnRedis | undefined;
let queues: RedeliveryQueue[] = [];
let proxy: Partitionable | undefined;

async function queueOn(url: string): Promise<RedeliveryQueue> {
  const queue = await RedeliveryQueue.load(url, uniquePrefix(), STALLED_MS, TIMEOUT_MS);
  if (typeof queue === 'string') throw new Error(queue);
  queues.push(queue);
  return queue;
}

/** The jobs `queue` hands over, in order, each announced as it comes. */
function takes(queue: RedeliveryQueue) {
  const taken: string[] = [];
  let next = deferred<void>();
  queue.serve(async (id, run) => {
    taken.push(`${id}.${run}`);
    next.resolve();
    next = deferred<void>();
  });
  return {
    taken,
    /** Resolves once `count` jobs have been taken. */
    async until(count: number) {
      while (taken.length < count) await next.promise;
    },
  };
}

afterEach(async () => {
  for (const queue of queues) await queue.close();
  queues = [];
  await proxy?.cut();
  proxy = undefined;
  await server?.close();
  server = undefined;
});

describe('the redelivery queue', () => {
  it('queues again once Redis is back, though its setup was cut short (BullMQ would keep that failure)', async () => {
    server = await ownRedis({ appendonly: false });
    // BullMQ sets a connection up with INFO: the first one is cut as it is sent.
    proxy = await partitionable(server.port, { cutOnSend: '\r\n$4\r\nINFO\r\n' });
    const queue = await queueOn(proxy.url);
    await expect(queue.add('op', 1, 0)).rejects.toThrow();
    await queue.add('op', 2, 0);
    const worker = takes(queue);
    await worker.until(1);
    expect(worker.taken).toEqual(['op.2']);
  }, 30_000);

  it('after its worker is closed, Redis going away and back neither throws nor stops the queue', async () => {
    server = await ownRedis({ appendonly: false });
    const queue = await queueOn(server.url);
    const first = takes(queue);
    await queue.add('op', 1, 0);
    await first.until(1);
    await queue.stopServing();

    await server.stop();
    await server.start();
    // Were the closed worker's connection shared with the queue, the next error on it would be
    // thrown (uncaught: the run fails) and the connection would never reconnect.
    await queue.add('op', 2, 0);
    const second = takes(queue);
    await second.until(1);
    expect(second.taken).toEqual(['op.2']);
  }, 30_000);
});
