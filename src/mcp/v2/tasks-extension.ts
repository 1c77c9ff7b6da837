// The tasks extension (io.modelcontextprotocol/tasks, SEP-2663) on an SDK v2 McpServer. SDK 2.4 has
// no extension hooks for it, so everything that leans on the SDK's seams for the extension is in
// this one file, to move onto the SDK's own hooks when they ship:
//
// - advertising: `registerCapabilities({ extensions })`, public;
// - tasks/get, tasks/cancel, tasks/update: `setRequestHandler(method, { params }, handler)`, public
//   (the SDK lets tasks/get and tasks/cancel through on 2026-07-28 when registered this way);
// - what the client declared: the request's `_meta` envelope (`ctx.mcpReq.envelope`), public but
//   typed `{}`;
// - answering tools/call with a task: McpServer's tools/call handler checks a result against the
//   tool's output schema and turns every throw into an `isError` result, so neither a task nor a
//   -32021 error can leave a tool callback. The callback leaves its answer here, keyed by request
//   id, and returns a placeholder; McpServer's own handler (read through the protected
//   `_getRequestHandler`) is moved behind `fallbackRequestHandler`, which swaps the placeholder for
//   the task or the error. The one use of a non-public member: test/mcp-v2/tasks-seam.test.ts fails
//   loudly should an SDK release change it.
//
// The answers themselves (task shapes, ttl, failures) are in ../extension-tasks.ts, free of the SDK.

import {
  type JSONRPCRequest,
  type McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type Result,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { type ExtensionTasks, TASKS_EXTENSION_ID } from '../extension-tasks.js';
import type { TaskHandOff } from '../long-running.js';
import type { CallToolResult } from '../tool-results.js';

/** The envelope key of the client capabilities a 2026-07-28 request declares. */
const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';

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
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const capabilities = envelope?.[CLIENT_CAPABILITIES_KEY] as
    | { extensions?: Record<string, unknown> }
    | undefined;
  const declared = capabilities?.extensions?.[TASKS_EXTENSION_ID];
  return declared !== null && typeof declared === 'object';
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
  // This library never asks for input (no task is ever input_required), so no response is for an
  // outstanding request: the extension says to ignore them and acknowledge.
  low.setRequestHandler('tasks/update', { params: taskId }, (params, ctx) =>
    checked('tasks/update', params, ctx, async (owner) =>
      (await tasks.exists(params.taskId, owner)) ? {} : undefined,
    ),
  );

  return {
    handOff(ctx, owner, atOnce) {
      if (!declaresTasks(ctx)) return undefined;
      const id = ctx.mcpReq.id;
      return {
        atOnce,
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
  const shown = taskId.length <= 256 ? taskId : `${taskId.slice(0, 32)}… (${taskId.length} characters)`;
  return new ProtocolError(ProtocolErrorCode.InvalidParams, `Task not found: ${shown}`);
}
