// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663) on an SDK v2 McpServer. SDK 2.4 has
// no extension hooks for it, so everything that leans on the SDK's seams for the extension is in
// this one file, to move onto the SDK's own hooks when they ship:
//
// - advertising: `registerCapabilities({ extensions })`, public;
// - tasks/get, tasks/cancel, tasks/update: `setRequestHandler(method, { params }, handler)`, public
//   (the SDK lets tasks/get and tasks/cancel through on 2026-07-28 when registered this way);
// - what the client declared: the request's `_meta` envelope (`ctx.mcpReq.envelope`), public but
//   typed `{}`;
// - the client's answers to input_required: the SDK lifts a request's `inputResponses` (a params
//   name 2026-07-28 reserves for MRTR) into `ctx.mcpReq.inputResponses` and
//   `ctx.mcpReq.droppedInputResponseKeys`, read here through a cast;
// - answering tools/call with a task: McpServer's tools/call handler checks a result against the
//   tool's output schema and turns every throw into an `isError` result, so neither a task nor a
//   -32021 error can leave a tool callback. The callback leaves its answer here, keyed by request
//   id, and returns a placeholder; McpServer's own handler (read through the protected
//   `_getRequestHandler`) is moved behind `fallbackRequestHandler`, which swaps the placeholder for
//   the task or the error. The one use of a non-public member: test/mcp-v2/tasks-seam.test.ts fails
//   loudly should an SDK release change it.
//
// - notifications/tasks: both serving entries (createMcpHandler, serveStdio) answer
//   subscriptions/listen themselves, before any server code, and drop a `taskIds` filter. So a
//   listen request that names task ids is taken in front of them: `withTaskNotifications` wraps
//   the HTTP handler's fetch, `taskNotificationsTransport` the transport serveStdio is given (both
//   public shapes); every other message goes on to the SDK untouched.
//
// The answers themselves (task shapes, ttl, failures, the listen stream) are in
// ../extension-tasks.ts and ../task-subscriptions.ts, free of the SDK.

import {
  type JSONRPCMessage,
  type JSONRPCRequest,
  type McpHandlerRequestOptions,
  type McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type Result,
  type ServerContext,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { shownId } from '../../validate.js';
import { declaresTasksIn, type ExtensionTasks, TASKS_EXTENSION_ID } from '../extension-tasks.js';
import { inputRefusal } from '../input-requests.js';
import type { TaskHandOff } from '../long-running.js';
import { asksForTasksOnly, type ListenMessage, listenRefusal, TaskListens } from '../task-subscriptions.js';
import type { CallToolResult } from '../tool-results.js';

/** What the extension's methods answer a request whose client did not declare it. */
const REQUIRED_CAPABILITIES = { extensions: { [TASKS_EXTENSION_ID]: {} } };

type RequestHandler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>;

/** What a tool call hands to the tools/call wrapper: a task to answer, or the -32021 refusal. */
type PendingAnswer = { task: Record<string, unknown> } | { refusal: string };

/**
 * The placeholder a tool callback returns when its real answer waits in the pending map (`isError`,
 * so that McpServer does not hold it against the tool's output schema).
 */
const PLACEHOLDER: CallToolResult = Object.freeze({ content: [], isError: true }) as CallToolResult;

/** The tasks extension on one server instance: what a long-running tool's callback asks of it. */
export interface TasksOnServer {
  /**
   * How this request may hand its work over as a task: `undefined` unless its client declared the
   * extension (on 2026-07-28; a 2025-era request never may, per the extension).
   */
  handOff(ctx: ServerContext, owner: string | undefined, atOnce: boolean): TaskHandOff | undefined;
  /** The answer of a tool that runs only as a task to a request that cannot take one: -32021. */
  refuse(ctx: ServerContext, tool: string): CallToolResult;
}

/** Whether the request's client declared the extension (only a 2026-07-28 request can). */
export function declaresTasks(ctx: ServerContext): boolean {
  return declaresTasksIn(ctx.mcpReq.envelope as Record<string, unknown> | undefined);
}

/**
 * Serves the extension on `server`: advertises it, answers tasks/get, tasks/cancel and tasks/update
 * for the owner `ownerOf` names, and lets long-running tools answer with a task. Call it before
 * the server connects, after McpServer has a tool (it registers its tools/call handler with the
 * first one).
 */
export function serveTasksExtension(
  server: McpServer,
  tasks: ExtensionTasks,
  ownerOf: (ctx: ServerContext) => string | undefined,
): TasksOnServer {
  const low = server.server;
  low.registerCapabilities({ extensions: { [TASKS_EXTENSION_ID]: {} } });

  const pending = new Map<ServerContext['mcpReq']['id'], PendingAnswer>();
  const original = toolsCallHandlerOf(server);
  const fallback = low.fallbackRequestHandler;
  low.removeRequestHandler('tools/call');
  low.fallbackRequestHandler = async (request, ctx) => {
    if (request.method !== 'tools/call') {
      if (fallback !== undefined) return fallback(request, ctx);
      throw new ProtocolError(ProtocolErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    }
    const id = ctx.mcpReq.id;
    try {
      const result = await original(request, ctx as ServerContext);
      const answer = pending.get(id);
      if (answer === undefined) return result;
      if ('refusal' in answer) {
        throw new MissingRequiredClientCapabilityError(
          { requiredCapabilities: REQUIRED_CAPABILITIES },
          answer.refusal,
        );
      }
      return { resultType: 'task', ...answer.task } as Result;
    } finally {
      pending.delete(id);
    }
  };

  const taskId = z.object({ taskId: z.string() });
  const checked = async <T>(
    method: string,
    params: { taskId: string },
    ctx: ServerContext,
    handle: (owner: string | undefined) => Promise<T | undefined>,
  ): Promise<T> => {
    if (!declaresTasks(ctx)) {
      throw new MissingRequiredClientCapabilityError(
        { requiredCapabilities: REQUIRED_CAPABILITIES },
        `${method} needs the client to declare the ${TASKS_EXTENSION_ID} extension in the request's client capabilities (protocol 2026-07-28)`,
      );
    }
    const answer = await handle(ownerOf(ctx));
    if (answer === undefined) throw taskNotFound(params.taskId);
    return answer;
  };
  low.setRequestHandler('tasks/get', { params: taskId }, (params, ctx) =>
    checked(
      'tasks/get',
      params,
      ctx,
      (owner) => tasks.get(params.taskId, owner) as Promise<Result | undefined>,
    ),
  );
  low.setRequestHandler('tasks/cancel', { params: taskId }, (params, ctx) =>
    checked('tasks/cancel', params, ctx, async (owner) =>
      (await tasks.cancel(params.taskId, owner)) ? {} : undefined,
    ),
  );
  // The client's answers to input_required, each to its outstanding request (others are ignored).
  // The SDK lifts `inputResponses` out of the params (a name 2026-07-28 reserves on every request)
  // into the context: the response objects, and the keys of entries that are not one.
  low.setRequestHandler('tasks/update', { params: taskId }, (params, ctx) =>
    checked('tasks/update', params, ctx, async (owner) => {
      const { inputResponses, droppedInputResponseKeys } = ctx.mcpReq as {
        inputResponses?: Record<string, unknown>;
        droppedInputResponseKeys?: string[];
      };
      if (inputResponses === undefined) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          'Invalid params: tasks/update needs inputResponses, an object of responses by input request key',
        );
      }
      const taken = await tasks.update(params.taskId, inputResponses, owner, droppedInputResponseKeys);
      if (typeof taken === 'string') throw new ProtocolError(ProtocolErrorCode.InvalidParams, taken);
      return taken === undefined ? undefined : {};
    }),
  );

  return {
    handOff(ctx, owner, atOnce) {
      if (!declaresTasks(ctx)) return undefined;
      const id = ctx.mcpReq.id;
      const capabilities = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[
        'io.modelcontextprotocol/clientCapabilities'
      ] as Record<string, unknown> | undefined;
      return {
        atOnce,
        inputRefusal: (method) => inputRefusal(capabilities, method),
        async answer(running) {
          const task = await tasks.created(running, owner);
          if (task === undefined) return undefined;
          pending.set(id, { task: { ...task } });
          return PLACEHOLDER;
        },
      };
    },
    refuse(ctx, tool) {
      pending.set(ctx.mcpReq.id, {
        refusal: `Tool ${tool} runs only as a task: the client must declare the ${TASKS_EXTENSION_ID} extension in the request's client capabilities (protocol 2026-07-28)`,
      });
      return PLACEHOLDER;
    },
  };
}

/**
 * McpServer's own tools/call handler, read through the protected `Protocol._getRequestHandler`
 * (test/mcp-v2/tasks-seam.test.ts guards it).
 */
export function toolsCallHandlerOf(server: McpServer): RequestHandler {
  const low = server.server as unknown as {
    _getRequestHandler?: (method: string) => RequestHandler | undefined;
  };
  if (typeof low._getRequestHandler !== 'function') {
    throw new Error(
      'This @modelcontextprotocol/server has no Protocol._getRequestHandler, which the tasks extension of mcp-async needs (tested with 2.4): pin the SDK, or turn the extension off (`tasks: false`)',
    );
  }
  const handler = low._getRequestHandler('tools/call');
  if (handler === undefined) {
    throw new Error(
      'The tasks extension needs a McpServer with a tool registered (its tools/call handler comes with the first)',
    );
  }
  return handler;
}

/** The extension's answer for an unknown, expired or another principal's task: -32602, the id shortened. */
function taskNotFound(taskId: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `Task not found: ${shownId(taskId)}`);
}

/** What the listen glue needs of a factory: its listen streams, and how it names a request's owner. */
interface FactoryTasks {
  readonly listens: TaskListens;
  readonly ownerOf: (ctx: ServerContext) => string | undefined;
}

const factoryTasks = new WeakMap<object, FactoryTasks>();

/** Records what `factory` serves the extension with, for the listen glue to find. */
export function rememberFactoryTasks(
  factory: object,
  tasks: ExtensionTasks,
  ownerOf: (ctx: ServerContext) => string | undefined,
): void {
  factoryTasks.set(factory, { listens: new TaskListens(tasks), ownerOf });
}

function tasksOfFactory(factory: unknown, caller: string): FactoryTasks {
  const found = typeof factory === 'function' ? factoryTasks.get(factory) : undefined;
  if (found === undefined) {
    throw new TypeError(
      `${caller} takes the factory serverFactory() made, with the tasks extension on (not \`tasks: false\`)`,
    );
  }
  return found;
}

/**
 * The owner of a listen request, which no McpServer sees: `ownerOf` gets the context it can be
 * given this early (the request's `_meta`, and over HTTP the Web Request and its authInfo).
 */
function listenOwner(
  found: FactoryTasks,
  id: string | number,
  params: Record<string, unknown> | undefined,
  http: { req: Request; authInfo: McpHandlerRequestOptions['authInfo'] } | undefined,
): string | undefined {
  const meta = params?._meta as Record<string, unknown> | undefined;
  const ctx = { sessionId: undefined, http, mcpReq: { id, _meta: meta, envelope: meta } };
  return found.ownerOf(ctx as unknown as ServerContext);
}

/** Whether a JSON-RPC message is a 2026-07-28 subscriptions/listen that names task ids. */
function isTaskListen(message: unknown): message is { id: string | number; params: Record<string, unknown> } {
  const m = message as {
    jsonrpc?: unknown;
    id?: unknown;
    method?: unknown;
    params?: Record<string, unknown>;
  };
  return (
    m !== null &&
    typeof m === 'object' &&
    m.jsonrpc === '2.0' &&
    m.method === 'subscriptions/listen' &&
    (typeof m.id === 'string' || typeof m.id === 'number') &&
    asksForTasksOnly(m.params) &&
    (m.params?._meta as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/protocolVersion'] ===
      '2026-07-28'
  );
}

/** The web-standard face of an MCP HTTP handler: what `createMcpHandler` answers, among others. */
export interface FetchHandler {
  /** Serves one HTTP request. */
  fetch: (request: Request, options?: McpHandlerRequestOptions) => Promise<Response>;
}

/** How often an idle listen stream sends an SSE comment, so that proxies keep it open. */
const KEEP_ALIVE_MS = 15_000;

/**
 * `handler` (from `createMcpHandler(factory)`) with `notifications/tasks`: a 2026-07-28
 * `subscriptions/listen` whose filter names `taskIds` gets a stream of its own (the acknowledgement
 * of the tasks the caller may see, each one's DetailedTask the moment it ends, then the request's
 * result); every other request goes to `handler`. Mount the answer where `handler` was:
 * `toNodeHandler(withTaskNotifications(createMcpHandler(factory), factory))`.
 */
export function withTaskNotifications<Handler extends FetchHandler>(
  handler: Handler,
  factory: unknown,
): Handler {
  const found = tasksOfFactory(factory, 'withTaskNotifications()');
  const open = new Set<AbortController>();
  const fetch = async (request: Request, options?: McpHandlerRequestOptions): Promise<Response> => {
    if (request.method !== 'POST' || request.headers.get('mcp-method') !== 'subscriptions/listen') {
      return handler.fetch(request, options);
    }
    let body = options?.parsedBody;
    if (body === undefined) {
      try {
        body = await request.clone().json();
      } catch {
        return handler.fetch(request, options); // the SDK answers a body that is not JSON
      }
    }
    if (!isTaskListen(body)) return handler.fetch(request, { ...options, parsedBody: body });
    const listen = body;
    const refusal = listenRefusal(listen.params);
    if (refusal !== undefined) {
      // Before any stream, with the status the SDK gives the same errors (400 for -32021).
      const status = refusal.code === -32021 ? 400 : 200;
      return Response.json({ jsonrpc: '2.0', id: listen.id, error: refusal }, { status });
    }
    const owner = listenOwner(found, listen.id, listen.params, { req: request, authInfo: options?.authInfo });
    const closed = new AbortController();
    request.signal.addEventListener('abort', () => closed.abort(), { once: true });
    open.add(closed);
    closed.signal.addEventListener('abort', () => open.delete(closed), { once: true });
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const write = (text: string) => {
          if (!closed.signal.aborted) controller.enqueue(encoder.encode(text));
        };
        const keepAlive = setInterval(() => write(': keep-alive\n\n'), KEEP_ALIVE_MS);
        const send = async (message: ListenMessage) =>
          write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
        found.listens
          .serve(listen, owner, send, closed.signal)
          .catch((error: unknown) =>
            send({ jsonrpc: '2.0', id: listen.id, error: { code: -32603, message: errorMessage(error) } }),
          )
          .finally(() => {
            clearInterval(keepAlive);
            open.delete(closed);
            try {
              controller.close();
            } catch {
              // already closed: the client cancelled the stream
            }
          });
      },
      cancel() {
        closed.abort();
      },
    });
    return new Response(stream, {
      status: 200,
      // no-transform and X-Accel-Buffering: proxies must pass each event on as it comes.
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      },
    });
  };
  // close() ends the listen streams too, as the handler's own close ends its exchanges.
  const close = async () => {
    for (const stream of open) stream.abort();
    open.clear();
    await (handler as { close?: () => Promise<void> }).close?.();
  };
  return { ...handler, fetch, close };
}

/**
 * `transport` (the one `serveStdio(factory, { transport })` serves, a `StdioServerTransport` most
 * often) with `notifications/tasks`: a 2026-07-28 `subscriptions/listen` whose filter names
 * `taskIds` is served here (see {@link withTaskNotifications}); `notifications/cancelled` for it
 * ends it; every other message goes on to serveStdio.
 */
export function taskNotificationsTransport(factory: unknown, transport: Transport): Transport {
  const found = tasksOfFactory(factory, 'taskNotificationsTransport()');
  if (transport === null || typeof transport !== 'object' || typeof transport.send !== 'function') {
    throw new TypeError(
      'taskNotificationsTransport() needs the transport to wrap, a StdioServerTransport say',
    );
  }
  const listening = new Map<string | number, AbortController>();
  const stopAll = () => {
    for (const controller of listening.values()) controller.abort();
    listening.clear();
  };
  const wrapper: Transport = {
    async start() {
      transport.onmessage = (message, extra) => {
        if (isTaskListen(message)) {
          const closed = new AbortController();
          listening.get(message.id)?.abort();
          listening.set(message.id, closed);
          const owner = listenOwner(found, message.id, message.params, undefined);
          const send = (reply: ListenMessage) => transport.send(reply as JSONRPCMessage);
          void found.listens
            .serve(message, owner, send, closed.signal)
            .catch((error: unknown) =>
              send({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: errorMessage(error) } }),
            )
            .catch((error: unknown) =>
              wrapper.onerror?.(error instanceof Error ? error : new Error(String(error))),
            )
            .finally(() => {
              if (listening.get(message.id) === closed) listening.delete(message.id);
            });
          return;
        }
        const cancelled = message as { method?: unknown; params?: { requestId?: unknown } };
        const requestId = cancelled.params?.requestId as string | number | undefined;
        if (
          cancelled.method === 'notifications/cancelled' &&
          requestId !== undefined &&
          listening.has(requestId)
        ) {
          listening.get(requestId)?.abort();
          listening.delete(requestId);
          return;
        }
        wrapper.onmessage?.(message, extra);
      };
      transport.onclose = () => {
        stopAll();
        wrapper.onclose?.();
      };
      transport.onerror = (error) => wrapper.onerror?.(error);
      await transport.start();
    },
    send(message: JSONRPCMessage, options?: TransportSendOptions) {
      return transport.send(message, options);
    },
    async close() {
      stopAll();
      await transport.close();
    },
  };
  return wrapper;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
