// Stateful sessions of the example HTTP server expire when idle: each holds a transport and an
// McpServer, and clients cannot be trusted to end them. A request in flight (a continue_operation
// long-poll, an open GET SSE stream) keeps its session alive; the idle clock starts when the last
// one ends. Tests wait on onSessionClosed, never on sleeps; a short-lived "clock" session (a raw
// initialize, nothing in flight afterwards) shows that a full idle period has passed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoServer } from '../../example/v1/demo-server.js';
import { type RunningHttpServer, serveHttp } from '../../example/v1/http-server.js';
import { Executor } from '../../src/index.js';
import { type Deferred, deferred } from '../helpers.js';
import { call, stateOf, textOf } from './connect.js';

const IDLE_MS = 200;
/** How long a session may take to be reported closed before the test fails (generous, not a speed). */
const DEADLINE_MS = 10_000;

type Why = 'idle' | 'closed';

interface Harness {
  readonly http: RunningHttpServer;
  readonly executor: Executor;
  /** Every session end, in order, as `<sessionId> <why>`. */
  readonly log: string[];
  /** McpServers created, and how many of them have closed. */
  readonly servers: { created: number; closed: number };
  /** Resolves with why `sessionId` ended; fails loudly if it does not within the deadline. */
  closed(sessionId: string): Promise<Why>;
}

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

async function start(sessionIdleMs = IDLE_MS, maxSessions?: number): Promise<Harness> {
  const executor = new Executor({ defaultWaitMs: 50 });
  const log: string[] = [];
  const servers = { created: 0, closed: 0 };
  const ends = new Map<string, Deferred<Why>>();
  const endOf = (id: string) => {
    let end = ends.get(id);
    if (end === undefined) {
      end = deferred<Why>();
      ends.set(id, end);
    }
    return end;
  };
  const http = await serveHttp({
    createServer: () => {
      const server = createDemoServer(executor);
      servers.created++;
      server.server.onclose = () => {
        servers.closed++;
      };
      return server;
    },
    sessionIdleMs,
    ...(maxSessions === undefined ? {} : { maxSessions }),
    onSessionClosed: (id, why) => {
      log.push(`${id} ${why}`);
      endOf(id).resolve(why);
    },
  });
  cleanups.push(
    () => executor.stop(),
    () => http.close(),
  );
  return {
    http,
    executor,
    log,
    servers,
    closed: (id) => within(endOf(id).promise, DEADLINE_MS, `session ${id} to be closed`),
  };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface RawAnswer {
  readonly status: number;
  readonly sessionId: string | null;
  readonly body: string;
}

/** One JSON-RPC message POSTed by hand; the answer is read to its end. */
async function post(url: URL, message: unknown, sessionId?: string): Promise<RawAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
    },
    body: JSON.stringify(message),
  });
  return {
    status: response.status,
    sessionId: response.headers.get('mcp-session-id'),
    body: await response.text(),
  };
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'raw', version: '0' },
  },
};

/** Opens a session with a bare `initialize` and nothing after: its idle clock starts at once. */
async function rawSession(url: URL): Promise<string> {
  const answer = await post(url, INITIALIZE);
  expect(answer.status).toBe(200);
  expect(answer.sessionId).toEqual(expect.any(String));
  return answer.sessionId!;
}

const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
const SESSION_NOT_FOUND = { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null };

async function expectSessionNotFound(url: URL, sessionId: string): Promise<void> {
  const answer = await post(url, listTools, sessionId);
  expect(answer.status).toBe(404);
  expect(JSON.parse(answer.body)).toEqual(SESSION_NOT_FOUND);
}

interface ClientOptions {
  /** Without it the client opens no GET SSE stream (the fetch answers its GET with 405). */
  readonly sseStream?: boolean;
  /** Told when the headers of a request's answer arrive: `GET` or the JSON-RPC body sent. */
  readonly onAnswer?: (request: string, status: number) => void;
}

/** The SDK client over Streamable HTTP; closed after the test. */
async function connect(harness: Harness, options: ClientOptions = {}): Promise<Client> {
  const client = new Client({ name: 'session-expiry-test', version: '0' });
  const transport = new StreamableHTTPClientTransport(harness.http.url, {
    fetch: async (input, init) => {
      const request = init?.method === 'GET' ? 'GET' : String(init?.body ?? '');
      if (request === 'GET' && options.sseStream !== true) return new Response(null, { status: 405 });
      const response = await fetch(input, init);
      options.onAnswer?.(request, response.status);
      return response;
    },
  });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return client;
}

const sessionOf = (client: Client) => (client.transport as StreamableHTTPClientTransport).sessionId!;

describe('the example HTTP server, stateful, with sessionIdleMs', () => {
  it('closes idle sessions (transport and McpServer), forgets them, and answers their ids 404', async () => {
    const harness = await start();
    const { http } = harness;
    // Nothing of these stays in flight: the SDK clients here open no GET SSE stream (see connect).
    const clients = [await connect(harness), await connect(harness)];
    const ids = [...clients.map(sessionOf), await rawSession(http.url), await rawSession(http.url)];
    expect(new Set(ids).size).toBe(4);
    expect(http.sessions).toBe(4);

    expect(await Promise.all(ids.map((id) => harness.closed(id)))).toEqual(['idle', 'idle', 'idle', 'idle']);
    expect(http.sessions).toBe(0);
    expect(harness.log).toHaveLength(4); // each reported once
    expect(harness.servers).toEqual({ created: 4, closed: 4 });

    for (const id of ids) await expectSessionNotFound(http.url, id);
    // The SDK client of an expired session hears the same.
    await expect(clients[0]!.listTools()).rejects.toThrow(/Session not found/);
    expect(http.sessions).toBe(0);
  });

  it('keeps a session alive while a continue_operation long-poll is in flight; it expires once that ends', async () => {
    const harness = await start();
    const { http, executor } = harness;
    const waiting = deferred();
    const client = await connect(harness, {
      onAnswer: (request, status) => {
        if (request.includes('"continue_operation"') && status === 200) waiting.resolve();
      },
    });
    const session = sessionOf(client);
    // A render far longer than the test: it answers "still running" after the 50 ms budget.
    const operationId = stateOf(
      await call(client, 'render_video', { title: 'Long', frames: 10_000, frame_ms: 10_000 }),
    )!.operation_id;

    let answered = false;
    const continued = call(client, 'continue_operation', {
      operation_id: operationId,
      wait_seconds: 50,
    }).finally(() => {
      answered = true;
    });
    await within(waiting.promise, DEADLINE_MS, 'the continue_operation request to be in flight');
    // Another request of the session that starts and ends meanwhile does not start the clock.
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('render_video');

    // Two sessions opened after the long-poll began live their whole idle period and expire; the
    // one with the request in flight does not.
    for (let round = 0; round < 2; round++) {
      const clock = await rawSession(http.url);
      expect(await harness.closed(clock)).toBe('idle');
      expect(answered).toBe(false);
      expect(http.sessions).toBe(1);
      expect(harness.log).not.toContain(`${session} idle`);
    }

    // Ending the operation ends the long-poll; only then does the idle clock start.
    // Without authentication the operation belongs to the session (src/mcp/owner.ts).
    await executor.cancel(operationId, { owner: `session:${session}` });
    const result = await continued;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('was cancelled');
    expect(await harness.closed(session)).toBe('idle');
    expect(http.sessions).toBe(0);
    await expectSessionNotFound(http.url, session);
  });

  it('keeps a session alive while its GET SSE stream is open; it expires once the client goes away', async () => {
    const harness = await start();
    const { http } = harness;
    const streamOpen = deferred();
    const client = await connect(harness, {
      sseStream: true,
      onAnswer: (request, status) => {
        if (request === 'GET' && status === 200) streamOpen.resolve();
      },
    });
    const session = sessionOf(client);
    await within(streamOpen.promise, DEADLINE_MS, 'the GET SSE stream to open');

    const clock = await rawSession(http.url);
    expect(await harness.closed(clock)).toBe('idle');
    expect(http.sessions).toBe(1);
    expect(harness.log).toEqual([`${clock} idle`]);

    // The client vanishes without a DELETE: its stream drops, and the session expires.
    await client.close();
    expect(await harness.closed(session)).toBe('idle');
    expect(http.sessions).toBe(0);
    await expectSessionNotFound(http.url, session);
  });

  it("reports a client's DELETE and close() as 'closed', and keeps nothing of a request that opened no session", async () => {
    const harness = await start(60_000);
    const { http } = harness;
    const client = await connect(harness);
    const deleted = sessionOf(client);
    await (client.transport as StreamableHTTPClientTransport).terminateSession();
    expect(await harness.closed(deleted)).toBe('closed');
    expect(http.sessions).toBe(0);
    await expectSessionNotFound(http.url, deleted);

    // A first request that is not an initialize is refused, and its server closed at once.
    const refused = await post(http.url, listTools);
    expect(refused.status).toBe(400);
    expect(http.sessions).toBe(0);
    expect(harness.servers).toEqual({ created: 2, closed: 2 });

    const open = await rawSession(http.url);
    expect(http.sessions).toBe(1);
    await http.close();
    expect(await harness.closed(open)).toBe('closed');
    expect(http.sessions).toBe(0);
    expect(harness.servers).toEqual({ created: 3, closed: 3 });
    expect(harness.log).toEqual([`${deleted} closed`, `${open} closed`]);
  });

  it('refuses a session past maxSessions with 503 and Retry-After, until one expires', async () => {
    const harness = await start(IDLE_MS, 2);
    const first = await rawSession(harness.http.url);
    await rawSession(harness.http.url);
    const refused = await fetch(harness.http.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(JSON.parse(await refused.text())).toMatchObject({
      error: { message: 'Too many sessions (2); retry later' },
    });
    expect(harness.http.sessions).toBe(2);
    expect(harness.servers.created).toBe(2); // the refused request built no server
    await harness.closed(first);
    expect(await rawSession(harness.http.url)).toEqual(expect.any(String));
  });

  it('refuses a sessionIdleMs that no timer can hold, and a maxSessions below 1', async () => {
    const executor = new Executor();
    cleanups.push(() => executor.stop());
    for (const sessionIdleMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      await expect(
        serveHttp({ createServer: () => createDemoServer(executor), sessionIdleMs }),
      ).rejects.toThrow(RangeError);
    }
    for (const maxSessions of [0, 1.5, Number.NaN]) {
      await expect(
        serveHttp({ createServer: () => createDemoServer(executor), maxSessions }),
      ).rejects.toThrow(/maxSessions/);
    }
  });
});
