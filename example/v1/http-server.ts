// The SDK 1.x demo server over Streamable HTTP, stateful (a session per client) or stateless (a
// server per request). `serveHttp()` is reused by the tests; run this file to serve the demo:
//   npx tsx example/v1/http-server.ts [--port 3000] [--stateless]
//
// Stateful sessions expire when idle. Each one holds a transport and a whole McpServer in memory,
// anyone can open one with an unauthenticated `initialize`, and clients cannot be trusted to say
// goodbye (DELETE): they crash, lose the network, or never try. So a session with no request in
// flight for `sessionIdleMs` (10 minutes by default) is closed and forgotten; its id then gets the
// same 404 "Session not found" as an unknown one, and the client starts a new session. A request
// still in flight (a long `continue_operation` wait, an open GET SSE stream) keeps its session alive.
// And there are at most `maxSessions` at once: past it a new session is refused (503), so that a
// flood of `initialize` calls cannot take the memory before any of them expires.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createDemoExecutor, createDemoServer } from './demo-server.js';

export interface HttpServerOptions {
  /** Builds the McpServer for a new session (stateful) or a request (stateless). */
  readonly createServer: () => McpServer;
  /** Port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  /** One server and transport per request, no sessions. */
  readonly stateless?: boolean;
  /**
   * Maps a request to the authenticated client, if any. The demo's stand-in for real OAuth:
   * whatever it answers becomes the request's `authInfo`.
   */
  readonly authenticate?: (request: IncomingMessage) => AuthInfo | undefined;
  /**
   * Stateful mode: how long a session may go with no request in flight before it is closed (its
   * transport and McpServer closed, its id forgotten, so that the id then answers 404 "Session not
   * found"). Every session costs a transport and a whole McpServer in memory, anyone may open one,
   * and clients cannot be trusted to end theirs with a DELETE, so sessions must expire. The clock
   * starts when the session's last request in flight ends: a long `continue_operation` wait or an
   * open GET SSE stream keeps the session alive however long it lasts. Without `authenticate`,
   * operations belong to the session that started them: once it expires, a client that comes back
   * in a new session cannot follow them, so keep this well above the gaps between a client's
   * calls. A positive number of milliseconds, at most 2^31 - 1 (about 24.8 days). Ignored in
   * stateless mode.
   * @defaultValue 600_000 (10 minutes)
   */
  readonly sessionIdleMs?: number;
  /**
   * Called once when a stateful session ends: `'idle'` when it expired (see `sessionIdleMs`),
   * `'closed'` when it ended otherwise (the client's DELETE, or `close()` of the server).
   */
  readonly onSessionClosed?: (sessionId: string, why: 'idle' | 'closed') => void;
  /**
   * Stateful mode: the most sessions open at once. Past it, a request that would open one gets
   * HTTP 503 with `Retry-After` (and a JSON-RPC error saying why) until some end or expire.
   * @defaultValue 1000
   */
  readonly maxSessions?: number;
}

export interface RunningHttpServer {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: URL;
  readonly server: Server;
  /** How many stateful sessions are open now (always 0 in stateless mode). */
  readonly sessions: number;
  /** Closes every session (reported as `'closed'`), then the HTTP server. */
  close(): Promise<void>;
}

/** The default {@link HttpServerOptions.sessionIdleMs}: 10 minutes. */
export const DEFAULT_SESSION_IDLE_MS = 10 * 60 * 1000;
/** The default {@link HttpServerOptions.maxSessions}. */
export const DEFAULT_MAX_SESSIONS = 1000;
// setTimeout fires at once (with a warning) for a longer delay.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A stateful session: its transport and server, and what decides when it expires. */
interface Session {
  readonly transport: StreamableHTTPServerTransport;
  readonly server: McpServer;
  /** Set once the transport has a session id (after `initialize`), when it enters the map. */
  id: string | undefined;
  /** Requests of this session whose response has not closed yet. */
  inFlight: number;
  /** The expiry, armed while nothing is in flight. */
  idleTimer: NodeJS.Timeout | undefined;
  /** Why it ended, once it has. */
  ended: 'idle' | 'closed' | undefined;
}

/** `Authorization: Bearer <name>` names the client `<name>`. For demos and tests only. */
export function bearerNameAuthenticator(request: IncomingMessage): AuthInfo | undefined {
  const match = /^Bearer ([A-Za-z0-9_-]{1,64})$/.exec(request.headers.authorization ?? '');
  return match === null ? undefined : { token: match[1]!, clientId: match[1]!, scopes: [] };
}

export async function serveHttp(options: HttpServerOptions): Promise<RunningHttpServer> {
  const idleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  if (!(idleMs > 0 && idleMs <= MAX_TIMER_MS)) {
    throw new RangeError(`sessionIdleMs must be a positive number of milliseconds up to ${MAX_TIMER_MS}`);
  }
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!(Number.isSafeInteger(maxSessions) && maxSessions >= 1)) {
    throw new RangeError('maxSessions must be a whole number from 1 up');
  }
  const sessions = new Map<string, Session>();
  /** Sessions being opened (their `initialize` in flight): they count against maxSessions too. */
  let opening = 0;

  let stopping = false;

  // Once per session, however it ends: forget it, stop its clock, close its transport and server.
  const end = async (session: Session, why: 'idle' | 'closed') => {
    if (session.ended !== undefined) return;
    session.ended = why;
    clearTimeout(session.idleTimer);
    session.idleTimer = undefined;
    if (session.id !== undefined) sessions.delete(session.id);
    const closing = Promise.all([session.transport.close(), session.server.close()]);
    if (session.id !== undefined) options.onSessionClosed?.(session.id, why);
    await closing;
  };

  // A request of `session` is in flight until its response closes (answered, or the client went
  // away); the idle clock runs only while none is.
  const track = (session: Session, response: ServerResponse) => {
    session.inFlight++;
    clearTimeout(session.idleTimer);
    session.idleTimer = undefined;
    response.on('close', () => {
      session.inFlight--;
      if (session.inFlight > 0 || session.ended !== undefined) return;
      // A transport that never got a session id (its first request was not a valid initialize)
      // can never be reached again; nor can anything once close() has begun.
      if (session.id === undefined || stopping) return void end(session, 'closed');
      session.idleTimer = setTimeout(() => void end(session, 'idle'), idleMs).unref();
    });
  };

  const handle = async (request: IncomingMessage & { auth?: AuthInfo }, response: ServerResponse) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== '/mcp') {
      response.writeHead(404).end('not found');
      return;
    }
    const auth = options.authenticate?.(request);
    if (auth !== undefined) request.auth = auth;

    if (options.stateless === true) {
      const server = options.createServer();
      // No sessionIdGenerator: stateless mode.
      const transport = new StreamableHTTPServerTransport({});
      response.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request, response);
      return;
    }

    const sessionId = request.headers['mcp-session-id'];
    let session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (session === undefined) {
      if (typeof sessionId === 'string') {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }),
        );
        return;
      }
      if (sessions.size + opening >= maxSessions) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '60' });
        response.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32000, message: `Too many sessions (${maxSessions}); retry later` },
            id: null,
          }),
        );
        return;
      }
      opening++;
      response.on('close', () => opening--);
      const created: Session = {
        server: options.createServer(),
        transport: new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            created.id = id;
            sessions.set(id, created);
          },
        }),
        id: undefined,
        inFlight: 0,
        idleTimer: undefined,
        ended: undefined,
      };
      // The client's DELETE, or close(): the transport closes itself.
      created.transport.onclose = () => void end(created, 'closed');
      // Counted before the first await, so that the session cannot expire under this request.
      track(created, response);
      await created.server.connect(created.transport);
      session = created;
    } else {
      track(session, response);
    }
    await session.transport.handleRequest(request, response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    server,
    get sessions() {
      return sessions.size;
    },
    async close() {
      stopping = true;
      await Promise.all([...sessions.values()].map((session) => end(session, 'closed')));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const portFlag = process.argv.indexOf('--port');
  const executor = createDemoExecutor();
  const running = await serveHttp({
    createServer: () => createDemoServer(executor),
    port: portFlag === -1 ? 3000 : Number(process.argv[portFlag + 1]),
    stateless: process.argv.includes('--stateless'),
    authenticate: bearerNameAuthenticator,
  });
  process.stderr.write(`mcp-async demo server on ${running.url.href}\n`);
  const shutdown = async () => {
    await executor.stop();
    await running.close();
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}
