// What a failed Redis command means for the one who asked. node-redis queues a command while its
// connection is down and, when the command timeout passes, rejects it with a `TimeoutError` whose
// message is empty: on its own it says neither that Redis was unreachable nor why. The client's
// 'error' events say why (connection refused, reset, lost), so the last one is kept and put in
// the message, with the server's address and the timeout.

import {
  ClientClosedError,
  ConnectionTimeoutError,
  type RedisClientType,
  SocketClosedUnexpectedlyError,
  TimeoutError,
} from '@redis/client';

/** Short names of the socket errors a client meets while Redis is away. */
const WHY: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connect timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

/** The state of one node-redis client's connection, as far as explaining a failure needs it. */
export class ConnectionState {
  /** `host:port`, never the credentials the URL may hold. */
  readonly address: string;
  readonly #client: RedisClientType;
  readonly #commandTimeoutMs: number;
  /** The last connection error since the client was last ready. */
  #lastError: unknown;

  constructor(client: RedisClientType, url: string, commandTimeoutMs: number) {
    this.#client = client;
    this.#commandTimeoutMs = commandTimeoutMs;
    const parsed = new URL(url);
    this.address = `${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
    // The client reconnects by itself; a failed command rejects its caller, explained here.
    client.on('error', (error: unknown) => {
      this.#lastError = error;
    });
    client.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  /**
   * `error`, as node-redis rejected a command with it, explained: what failed and why, with the
   * original as `cause`. An error Redis itself answered (a reply error) has its own message and
   * is left as it is.
   */
  explain(error: unknown): unknown {
    if (error instanceof TimeoutError) {
      const timedOut = `the command timed out after ${this.#commandTimeoutMs} ms`;
      if (this.#client.isReady)
        return new Error(`Redis at ${this.address} did not answer: ${timedOut}`, { cause: error });
      return new Error(`store unreachable (${this.#why()} to ${this.address}); ${timedOut}`, {
        cause: error,
      });
    }
    if (error instanceof SocketClosedUnexpectedlyError) {
      return new Error(`store unreachable (connection to ${this.address} lost before the answer came)`, {
        cause: error,
      });
    }
    if (error instanceof ClientClosedError)
      return new Error(`the RedisStore's connection to ${this.address} is closed`, { cause: error });
    return error;
  }

  /** Why the client is not connected, from the last connection error. */
  #why(): string {
    const last = this.#lastError;
    if (last instanceof ConnectionTimeoutError) return 'connect timed out';
    if (last instanceof SocketClosedUnexpectedlyError || last === undefined) return 'connection lost';
    const code = (last as { code?: unknown }).code;
    if (typeof code === 'string') return WHY[code] ?? `connection failed: ${code}`;
    return last instanceof Error && last.message !== ''
      ? `connection failed: ${last.message}`
      : 'connection lost';
  }
}
