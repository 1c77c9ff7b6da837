// The adapter for @modelcontextprotocol/sdk 1.x: registers the generic tools and long-running tools
// (their logic in ../operation-tools.ts and ../long-running.ts) on a v1 McpServer, says who each
// request comes from, and adds what only v1 has: native tasks of spec revision 2025-11-25, and
// lifecycle log messages to the session.

import type { TaskRequestHandlerExtra } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  type AnySchema,
  getParseErrorMessage,
  normalizeObjectSchema,
  type SchemaOutput,
  type ShapeOutput,
  safeParseAsync,
  type ZodRawShapeCompat,
} from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CreateTaskResult,
  CallToolResult as SdkCallToolResult,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { Executor, LogLevel } from '../../index.js';
import { checkMilliseconds, checkOptions, describeValue } from '../../validate.js';
import {
  type LongRunningContext,
  type LongRunningOptions,
  LongRunningTool,
  splitToolConfig,
  type ToolAnswer,
} from '../long-running.js';
import {
  OPERATION_TOOLS_KEYS,
  OperationTools,
  type OperationToolsOptions,
  type ToolCall,
} from '../operation-tools.js';
import { ownerOfCaller } from '../owner.js';
import { checkProgressToken, ProgressForwarder } from '../progress-forwarder.js';
import type { CallToolResult, ToolNames } from '../tool-results.js';
import { LogSink } from './log-sink.js';
import { answerUntaskedCallsInline, serverCapabilities } from './sdk-internals.js';
import { installTaskHandlers, TaskFollower } from './task-handlers.js';
import { DEFAULT_TASK_POLL_INTERVAL_MS } from './task-store.js';
import { OperationTasks } from './tasks.js';

/** What an MCP tool handler receives besides its arguments (SDK 1.x's `RequestHandlerExtra`). */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Decides who owns the operations a request starts and may see: a string, or `undefined` for
 * nobody (the operation id is then the only capability, and `list_operations` shows nothing).
 */
export type OwnerResolver = (extra: ToolExtra) => string | undefined;

/** Options of {@link registerAsyncTools}. */
export interface AsyncToolsOptions extends OperationToolsOptions {
  /**
   * Who owns the operations a request starts and may see.
   * @defaultValue {@link defaultOwner}
   */
  owner?: OwnerResolver | undefined;
  /**
   * Also send the lifecycle of the caller's operations as MCP log messages
   * (`notifications/message`), honouring the client's `logging/setLevel`. Off by default: the
   * 2026-07-28 spec revision deprecates log notifications. `true` sends from `info` up.
   * @defaultValue false
   */
  logging?:
    | boolean
    | {
        /** The least severe level sent (before the client's own `logging/setLevel`). */
        level?: LogLevel | undefined;
      }
    | undefined;
  /**
   * Native MCP tasks, when the server was created with them (see {@link withTasks}): long-running
   * tools then declare `execution.taskSupport: 'optional'`, a call carrying `params.task` gets a
   * task at once, and tasks/get, tasks/result, tasks/list and tasks/cancel answer from the
   * executor, scoped like the generic tools. `false` leaves tasks off even so.
   * @defaultValue on when the server has the `tasks.requests.tools.call` capability
   */
  tasks?:
    | false
    | {
        /**
         * The `pollInterval` tasks suggest to clients (`tasks/result` needs none: it answers the
         * moment the work ends).
         * @defaultValue 1000
         */
        pollIntervalMs?: number | undefined;
      }
    | undefined;
}

/** The arguments a tool's handler receives, as its input schema describes them. */
export type ToolArgs<Args extends undefined | ZodRawShapeCompat | AnySchema> = Args extends ZodRawShapeCompat
  ? ShapeOutput<Args>
  : Args extends AnySchema
    ? SchemaOutput<Args>
    : undefined;

/** The handler of a long-running tool: `registerTool`'s callback, with a {@link LongRunningContext}. */
export type LongRunningToolHandler<Args extends undefined | ZodRawShapeCompat | AnySchema> = Args extends
  | ZodRawShapeCompat
  | AnySchema
  ? (args: ToolArgs<Args>, context: LongRunningContext) => ToolAnswer<SdkCallToolResult>
  : (context: LongRunningContext) => ToolAnswer<SdkCallToolResult>;

/** The configuration of a long-running tool: `registerTool`'s, plus the wait options. */
export interface LongRunningToolConfig<
  InputArgs extends undefined | ZodRawShapeCompat | AnySchema,
  OutputArgs extends ZodRawShapeCompat | AnySchema,
> extends LongRunningOptions<ToolArgs<InputArgs>> {
  /** As in `registerTool`: a human-readable title. */
  title?: string | undefined;
  /** As in `registerTool`: what the tool does, for the model. */
  description?: string | undefined;
  /** As in `registerTool`: a zod shape or schema of the arguments. */
  inputSchema?: InputArgs | undefined;
  /** As in `registerTool`: a zod shape or object schema of `structuredContent`. */
  outputSchema?: OutputArgs | undefined;
  /** As in `registerTool`. */
  annotations?: ToolAnnotations | undefined;
  /** As in `registerTool`. */
  _meta?: Record<string, unknown> | undefined;
}

/** The generic operation tools on a server, and the way to register long-running tools. */
export interface AsyncTools {
  /** The names the generic tools were registered under. */
  readonly toolNames: ToolNames;
  /** The registered `continue_operation`, `cancel_operation` and `list_operations` tools. */
  readonly tools: {
    /** `continue_operation`. */
    readonly continue: RegisteredTool;
    /** `cancel_operation`. */
    readonly cancel: RegisteredTool;
    /** `list_operations`. */
    readonly list: RegisteredTool;
  };
  /**
   * Registers a tool whose handler runs through the executor. Same inputs as
   * `McpServer.registerTool`, plus `waitMs`, `background`, `estimate` and `cancelOnAbort`; a call
   * that outlives the wait budget answers "running" with an operation id for `continue_operation`,
   * and the request's signal ends the wait, not the work (unless `cancelOnAbort`).
   */
  registerTool<
    OutputArgs extends ZodRawShapeCompat | AnySchema,
    InputArgs extends undefined | ZodRawShapeCompat | AnySchema = undefined,
  >(
    name: string,
    config: LongRunningToolConfig<InputArgs, OutputArgs>,
    handler: LongRunningToolHandler<InputArgs>,
  ): RegisteredTool;
}

/**
 * The default owner: the authenticated client (`authInfo.clientId`), else the transport session,
 * else, over stdio (a request without HTTP request info), the local client (`"stdio"`); else nobody
 * (unauthenticated stateless HTTP): the operation id is then the only capability.
 */
export function defaultOwner(extra: ToolExtra): string | undefined {
  return ownerOfCaller({
    clientId: extra.authInfo?.clientId,
    sessionId: extra.sessionId,
    local: extra.requestInfo === undefined,
  });
}

const OPTION_KEYS = new Set([...OPERATION_TOOLS_KEYS, 'owner', 'logging', 'tasks']);
const SDK_TOOL_KEYS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations', '_meta'];
const TASKS_KEYS = new Set(['pollIntervalMs']);
const LOGGING_KEYS = new Set(['level']);

/** What a long-running tool is registered with besides its own config. */
interface ToolSite {
  readonly server: McpServer;
  readonly tools: OperationTools;
  readonly ownerOf: OwnerResolver;
  /** Set when the server offers native tasks for tool calls. */
  readonly tasks: { readonly view: OperationTasks; readonly follower: TaskFollower } | undefined;
}

/**
 * Registers `continue_operation`, `cancel_operation` and `list_operations` on `server` (a
 * `@modelcontextprotocol/sdk` 1.x `McpServer`), backed by `executor`, and answers the
 * {@link AsyncTools} with which to register long-running tools.
 *
 * ```ts
 * const tools = registerAsyncTools(server, new Executor());
 * tools.registerTool('render', { inputSchema: { scene: z.string() } }, async ({ scene }, { signal, progress }) => ({
 *   content: [{ type: 'text', text: await render(scene, { signal, progress }) }],
 * }));
 * ```
 */
export function registerAsyncTools(
  server: McpServer,
  executor: Executor,
  options?: AsyncToolsOptions,
): AsyncTools {
  const given = checkOptions('the options of registerAsyncTools()', options, OPTION_KEYS);
  const tools = new OperationTools(executor, given);
  const resolveOwner = (given.owner ?? defaultOwner) as OwnerResolver;
  if (typeof resolveOwner !== 'function') {
    throw new TypeError(`Expected \`owner\` to be a function, got ${describeValue(resolveOwner)}`);
  }
  const logSink = resolveLogging(server, executor, given.logging);
  const ownerOf: OwnerResolver =
    logSink === undefined ? resolveOwner : (extra) => logSink.seen(extra, resolveOwner(extra));
  const site: ToolSite = {
    server,
    tools,
    ownerOf,
    tasks: resolveTasks(server, executor, ownerOf, given.tasks),
  };
  const callOf = (extra: ToolExtra): ToolCall => ({
    owner: ownerOf(extra),
    signal: extra.signal,
    progress: {
      progressToken: extra._meta?.progressToken,
      sendNotification: extra.sendNotification as ToolCall['progress']['sendNotification'],
      signal: extra.signal,
    },
  });
  const register = (
    definition: OperationTools['continueTool'],
    handle: (args: never, call: ToolCall) => Promise<CallToolResult>,
  ): RegisteredTool =>
    server.registerTool(
      definition.name,
      {
        title: definition.title,
        description: definition.description,
        inputSchema: definition.inputSchema,
        annotations: definition.annotations,
      },
      (async (args: never, extra: ToolExtra) => handle(args, callOf(extra))) as never,
    );

  return {
    toolNames: tools.names,
    tools: {
      continue: register(tools.continueTool, (args, call) => tools.continue(args, call)),
      cancel: register(tools.cancelTool, (args, call) => tools.cancel(args, call)),
      list: register(tools.listTool, (args, call) => tools.list(args, call)),
    },
    registerTool(name, config, handler) {
      return registerLongRunningTool(site, callOf, name, config, handler);
    },
  };
}

function resolveLogging(server: McpServer, executor: Executor, logging: unknown): LogSink | undefined {
  if (logging === undefined || logging === false) return undefined;
  if (logging !== true && (logging === null || typeof logging !== 'object')) {
    throw new TypeError(`Expected \`logging\` to be a boolean or { level }, got ${describeValue(logging)}`);
  }
  if (logging !== true) checkOptions('`logging` of registerAsyncTools()', logging, LOGGING_KEYS);
  return new LogSink(server, executor, logging as true | { level?: LogLevel });
}

/** Native tasks for this server, if it offers them and they were not turned off. */
function resolveTasks(
  server: McpServer,
  executor: Executor,
  ownerOf: OwnerResolver,
  given: unknown,
): ToolSite['tasks'] {
  if (given === false) return undefined;
  const o = checkOptions('`tasks` of registerAsyncTools()', given, TASKS_KEYS);
  const pollIntervalMs = checkMilliseconds(
    'tasks.pollIntervalMs',
    o.pollIntervalMs ?? DEFAULT_TASK_POLL_INTERVAL_MS,
  );
  if (serverCapabilities(server)?.tasks?.requests?.tools?.call === undefined) return undefined;
  const view = new OperationTasks(executor, pollIntervalMs);
  installTaskHandlers(server, view, ownerOf);
  return { view, follower: new TaskFollower(server, executor, view) };
}

function registerLongRunningTool<
  OutputArgs extends ZodRawShapeCompat | AnySchema,
  InputArgs extends undefined | ZodRawShapeCompat | AnySchema,
>(
  site: ToolSite,
  callOf: (extra: ToolExtra) => ToolCall,
  name: string,
  config: LongRunningToolConfig<InputArgs, OutputArgs>,
  handler: LongRunningToolHandler<InputArgs>,
): RegisteredTool {
  const { server, tools, ownerOf, tasks } = site;
  const { sdkConfig, options } = splitToolConfig(name, config, handler, SDK_TOOL_KEYS);
  const hasInput = sdkConfig.inputSchema !== undefined;
  const outputSchema = normalizeObjectSchema(
    sdkConfig.outputSchema as AnySchema | ZodRawShapeCompat | undefined,
  );
  const checkOutput =
    outputSchema === undefined
      ? undefined
      : async (structured: unknown) => {
          const parsed = await safeParseAsync(outputSchema, structured);
          return parsed.success ? undefined : getParseErrorMessage(parsed.error);
        };
  const call = handler as (...args: unknown[]) => ToolAnswer;
  const tool = new LongRunningTool(
    tools,
    name,
    options,
    (args, context) => (hasInput ? call(args, context) : call(context)),
    checkOutput,
  );
  // The SDK calls a tool with (args, extra), or (extra) when it takes no input.
  const argsAndExtra = (params: unknown[]): [unknown, ToolExtra] =>
    hasInput ? [params[0], params[1] as ToolExtra] : [undefined, params[0] as ToolExtra];
  const answer = (args: unknown, extra: ToolExtra) => tool.answer(args, callOf(extra));

  if (tasks === undefined) {
    return server.registerTool(
      name,
      sdkConfig as never,
      ((...params: unknown[]) => answer(...argsAndExtra(params))) as never,
    );
  }

  /** A call with params.task: the task at once, its progress to the call's token until it ends. */
  const createTask = async (args: unknown, extra: ToolExtra): Promise<CreateTaskResult> => {
    const owner = ownerOf(extra);
    const forwarder = new ProgressForwarder(
      {
        progressToken: checkProgressToken(extra._meta?.progressToken),
        // Not the request's channel: the request is answered long before the task ends.
        sendNotification: (notification) => server.server.notification(notification),
      },
      { ...tools.forwarding, heartbeatMs: 0 },
    );
    let started: Awaited<ReturnType<LongRunningTool['start']>>;
    try {
      started = await tool.start(args, owner, (progress) => forwarder.send(progress));
    } catch (error) {
      forwarder.close();
      throw error;
    }
    // With waitMs 0 the work (behind an await) is still running, or ended while its record was
    // written: an id either way.
    const taskId = started.id!;
    tasks.follower.follow(taskId, forwarder);
    const task = await tasks.view.get(taskId, owner);
    tasks.follower.settled(task);
    return { task };
  };
  const registered = server.experimental.tasks.registerToolTask(
    name,
    { ...sdkConfig, execution: { taskSupport: 'optional' } } as never,
    {
      createTask: (...params: unknown[]) => createTask(...argsAndExtra(params)),
      getTask: (...params: unknown[]) => {
        const extra = argsAndExtra(params)[1] as TaskRequestHandlerExtra;
        return tasks.view.get(extra.taskId, ownerOf(extra));
      },
      getTaskResult: (...params: unknown[]) => {
        const extra = argsAndExtra(params)[1] as TaskRequestHandlerExtra;
        return tasks.view.result(extra.taskId, ownerOf(extra), extra.signal);
      },
    } as never,
  );
  answerUntaskedCallsInline(server, registered, answer);
  return registered;
}
