// A replica of the Redis-backed Streamable HTTP test server (../fixtures/http-redis-replica.ts on
// SDK 1.x, ../fixtures/http-redis-replica-v2.ts on SDK v2) in a process of its own, so that a test
// or the bench can kill or freeze it; and a fetch that kills it the moment a continue_operation
// long-poll has the head of its response.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const scripts = {
  v1: fileURLToPath(new URL('../fixtures/http-redis-replica.ts', import.meta.url)),
  v2: fileURLToPath(new URL('../fixtures/http-redis-replica-v2.ts', import.meta.url)),
};

export interface ReplicaProcess {
  readonly proc: ChildProcess;
  /** Its MCP endpoint. */
  readonly url: URL;
}

/**
 * Starts a replica on `redisUrl` under `prefix` with a lease of `leaseMs`; resolves once it serves.
 * `track` gets the process at once, so that a caller can kill it even if it never serves. `sdk`
 * is the SDK line of the server it runs: the 1.x test server (the default) or the v2 test factory.
 */
export function startReplicaProcess(
  redisUrl: string,
  prefix: string,
  leaseMs: number,
  track?: (proc: ChildProcess) => void,
  sdk: 'v1' | 'v2' = 'v1',
): Promise<ReplicaProcess> {
  const script = scripts[sdk];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, redisUrl, prefix, String(leaseMs)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    track?.(proc);
    let out = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening (\S+) /.exec(out);
      if (match !== null) resolve({ proc, url: new URL(match[1]!) });
    });
    proc.on('exit', (code) => reject(new Error(`replica exited with ${code} before serving`)));
  });
}

/** A fetch that SIGKILLs `replica` once a continue_operation POST has its response head. */
export type KillingFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A fetch for a client of `replica` that kills it (SIGKILL) once a continue_operation POST has the
 * head of its response: the request is in the replica's hands, and no answer will ever come on
 * that stream. `killedAt` is when (performance.now()), once it has.
 */
export function killOnLongPoll(replica: ReplicaProcess): {
  fetch: KillingFetch;
  readonly killedAt: number | undefined;
} {
  let killedAt: number | undefined;
  const fetchThatKills: KillingFetch = async (url, init) => {
    const response = await fetch(url, init);
    if (killedAt === undefined && String(init?.body ?? '').includes('"continue_operation"')) {
      killedAt = performance.now();
      replica.proc.kill('SIGKILL');
      await once(replica.proc, 'exit');
    }
    return response;
  };
  return {
    fetch: fetchThatKills,
    get killedAt() {
      return killedAt;
    },
  };
}
