// The Redis the tests use: REDIS_URL if set, else 127.0.0.1:6379, else a redis-server started from
// PATH on a free port. If none can be had the tests fail saying so: CI must always run them.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';

async function answers(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (client.isOpen) await client.quit().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface TestRedis {
  readonly url: string;
  stop(): Promise<void>;
}

export async function testRedis(): Promise<TestRedis> {
  const candidates = [process.env.REDIS_URL, 'redis://127.0.0.1:6379'].filter((url): url is string => !!url);
  for (const url of candidates) if (await answers(url)) return { url, stop: async () => undefined };
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const failed = new Promise<never>((_, reject) => proc.on('error', reject));
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await Promise.race([answers(url), failed]).catch(() => false)) {
      return { url, stop: async () => void proc.kill() };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  proc.kill();
  throw new Error(
    `No Redis for the tests: REDIS_URL is ${process.env.REDIS_URL ?? 'unset'}, nothing answers on 127.0.0.1:6379, ` +
      'and redis-server could not be started from PATH. Install Redis (apt-get install redis-server) or set REDIS_URL.',
  );
}

/** A prefix no other test run uses, and a way to delete every key under it. */
export function uniquePrefix(): string {
  return `mcp-async-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
}

function plainClient(url: string) {
  return createClient({ url });
}

/**
 * A plain client on the Redis at `url`, for `use`, closed after it: what a test reads or writes
 * behind the store's back (as another replica, or a fault, would). Its errors are the commands'.
 */
export async function withRedisClient<T>(
  url: string,
  use: (client: ReturnType<typeof plainClient>) => Promise<T>,
): Promise<T> {
  const client = plainClient(url);
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.quit();
  }
}

export async function deleteKeys(url: string, prefix: string): Promise<void> {
  await withRedisClient(url, async (client) => {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...batch);
    if (keys.length > 0) await client.del(keys);
  });
}

/** A redis-server of the test's own, which it may stop and start again on the same port. */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, which flushes the append-only file) and resolves once it exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and deletes its data directory. */
  close(): Promise<void>;
}

/**
 * Starts a redis-server on a free port, never the shared one, for tests that take Redis away.
 * With `appendonly`, records written before a stop are there after the restart; without it, a
 * restart comes back empty.
 */
export async function ownRedis(options: { appendonly: boolean }): Promise<OwnRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'mcp-async-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always');
  let proc: ChildProcess | undefined;
  const start = async () => {
    if (proc !== undefined) throw new Error(`the redis-server on port ${port} is already running`);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = child;
    let output = '';
    // The server says so once it accepts connections: an event to wait on, not a poll.
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`redis-server exited (${code}) on start: ${output}`)));
    });
    child.stdout!.resume();
  };
  const stop = async () => {
    const child = proc;
    if (child === undefined) return;
    proc = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  const close = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  return { url: `redis://127.0.0.1:${port}`, port, stop, start, close };
}

/**
 * Resolves once `count` clients are subscribed to `channel`: after a restart, once every replica's
 * change feed is back. Redis announces no such thing, so its count is asked for until it is reached.
 */
export async function subscribed(url: string, channel: string, count: number): Promise<void> {
  await withRedisClient(url, async (client) => {
    while (((await client.pubSubNumSub(channel))[channel] ?? 0) < count)
      await new Promise((resolve) => setTimeout(resolve, 10));
  });
}

/** A TCP proxy to a Redis, for one replica's connections: cut, it partitions that replica alone. */
export interface Partitionable {
  /** The Redis URL to give the replica. */
  readonly url: string;
  /** Cuts every connection through it and refuses new ones, for good. */
  cut(): Promise<void>;
}

/**
 * Starts a proxy on a free port to the Redis on `port`. With `cutOnSend`, the first connection
 * that sends a command holding that text is cut before the command reaches Redis, as if Redis
 * went away at that very moment (once; later connections and commands pass).
 */
export async function partitionable(port: number, options?: { cutOnSend?: string }): Promise<Partitionable> {
  const sockets = new Set<Socket>();
  let cutOnSend = options?.cutOnSend;
  const proxy = createServer((downstream) => {
    const upstream = connect(port, '127.0.0.1');
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.on('data', (chunk: Buffer) => {
      if (cutOnSend !== undefined && chunk.includes(cutOnSend)) {
        cutOnSend = undefined;
        downstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${address.port}`,
    async cut() {
      const closed = new Promise((resolve) => proxy.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
