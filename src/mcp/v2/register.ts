// The adapter for MCP SDK v2 (@modelcontextprotocol/server 2.x), in both protocol eras: registers the
// generic tools and long-running tools (their logic in ../operation-tools.ts and ../long-running.ts)
// on a v2 McpServer, and says who each request comes from. A v2 server is built per connection
// (stdio) or per request (HTTP), so everything that must outlive one lives in the executor and in
// the OperationTools built once per factory.

import type {
  Implementation,
  McpRequestContext,
  McpServer,
  McpServerOptions,
  RegisteredTool,
  CallToolResult as SdkCallToolResult,
  ServerContext,
  StandardSchemaWithJSON,
  ToolAnnotations,
} from '@modelcontextprotocol/server';
import { McpServer as Server } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Executor, LogLevel } from '../../index.js';
import { atLeast, checkLogLevel, LIFECYCLE_EVENTS, type LifecycleEvent, logEntryOf } from '../../logging.js';
import { checkMilliseconds, checkOptions, describeValue } from '../../validate.js';
import { DEFAULT_POLL_INTERVAL_MS, ExtensionTasks } from '../extension-tasks.js';
import {
  type LongRunningContext,
  type LongRunningOptions,
  LongRunningTool,
  type OutputCheck,
  splitToolConfig,
  type ToolAnswer,
} from '../long-running.js';
import {
  OPERATION_TOOLS_KEYS,
  OperationTools,
  type OperationToolsOptions,
  type ToolCall,
  type ToolDefinition,
} from '../operation-tools.js';
import { ownerOfCaller } from '../owner.js';
import type { ProgressNotification } from '../progress-forwarder.js';
import type { CallToolResult, ToolNames } from '../tool-results.js';
import { rememberFactoryTasks, serveTasksExtension } from './tasks-extension.js';

/**
 * Decides who owns the operations a request starts and may see: a string, or `undefined` for
 * nobody (the operation id is then the only capability, and `list_operations` shows nothing).
 */
export type OwnerResolver = (ctx: ServerContext) => string | undefined;

/**
 * The default owner: the authenticated client (`ctx.http.authInfo.clientId`), else the transport
 * session (a 2025-era stateful session, where the app keeps one), else, over stdio, the local
 * client (`"stdio"`); else nobody (unauthenticated HTTP, every 2026-07-28 request among them): the
 * operation id is then the only capability.
 */
export function defaultOwner(ctx: ServerContext): string | undefined {
  return ownerOfCaller({
    clientId: ctx.http?.authInfo?.clientId,
    sessionId: ctx.sessionId,
    local: ctx.http === undefined,
  });
}

/** Options of {@link registerAsyncTools} and {@link serverFactory}. */
export interface AsyncToolsOptions extends OperationToolsOptions {
  /**
   * Who owns the operations a request starts and may see.
   * @defaultValue {@link defaultOwner}
   */
  owner?: OwnerResolver | undefined;
  /**
   * Also send, as MCP log messages on the request itself, the lifecycle of the operation a
   * `continue_operation` call waits on (its progress and its end, as they happen). Sent only where
   * the request asks for them: on 2026-07-28 when its `_meta` carries a
   * log level, on 2025-era connections from the level `logging/setLevel` chose. Needs a server
   * created with the `logging` capability. Off by default: 2026-07-28 deprecates log messages.
   * `true` sends from `info` up.
   * @defaultValue false
   */
  logging?:
    | boolean
    | {
        /** The least severe level sent (before the client's own). */
        level?: LogLevel | undefined;
      }
    | undefined;
  /**
   * Serve the MCP tasks extension (`io.modelcontextprotocol/tasks`): advertised in
   * `server/discover`, `tasks/get`, `tasks/cancel` and `tasks/update` answered, and a long-running
   * tool called by a client that declares the extension (on 2026-07-28) answers with a task where
   * it would answer "running" (task id = operation id). Every other client gets the
   * continue_operation flow. `pollIntervalMs` is the interval tasks suggest to clients.
   * @defaultValue true, with `pollIntervalMs` 1000
   */
  tasks?:
    | boolean
    | {
        /** @defaultValue 1000 */
        pollIntervalMs?: number | undefined;
      }
    | undefined;
}

/** The arguments a tool's handler receives, as its input schema describes them. */
export type ToolArgs<Args extends StandardSchemaWithJSON | undefined> = Args extends StandardSchemaWithJSON
  ? StandardSchemaWithJSON.InferOutput<Args>
  : undefined;

/** The handler of a long-running tool: `registerTool`'s callback, with a {@link LongRunningContext}. */
export type LongRunningToolHandler<Args extends StandardSchemaWithJSON | undefined> =
  Args extends StandardSchemaWithJSON
    ? (args: ToolArgs<Args>, context: LongRunningContext) => ToolAnswer<SdkCallToolResult>
    : (context: LongRunningContext) => ToolAnswer<SdkCallToolResult>;

/** The configuration of a long-running tool: `registerTool`'s, plus the wait options. */
export interface LongRunningToolConfig<
  InputArgs extends StandardSchemaWithJSON | undefined,
  OutputArgs extends StandardSchemaWithJSON,
> extends LongRunningOptions<ToolArgs<InputArgs>> {
  /** As in `registerTool`: a human-readable title. */
  title?: string | undefined;
  /** As in `registerTool`: what the tool does, for the model. */
  description?: string | undefined;
  /** As in `registerTool`: a Standard Schema of the arguments (`z.object({...})`). */
  inputSchema?: InputArgs | undefined;
  /** As in `registerTool`: a Standard Schema of `structuredContent`. */
  outputSchema?: OutputArgs | undefined;
  /** As in `registerTool`. */
  annotations?: ToolAnnotations | undefined;
  /** As in `registerTool`. */
  _meta?: Record<string, unknown> | undefined;
  /**
   * With the tasks extension on: `'optional'`, a call that outlives its wait answers with a task
   * when its client declared the extension (else "running", for continue_operation); `'required'`,
   * every call answers with a task at once, and a client that did not declare the extension gets
   * the extension's error -32021 (missing required client capability).
   * @defaultValue 'optional'
   */
  taskSupport?: 'optional' | 'required' | undefined;
}

/** The generic operation tools on a server, and the way to register long-running tools. */
export interface AsyncTools {
  /** The names the generic tools were registered under. */
  readonly toolNames: ToolNames;
  /**
   * Registers a tool whose handler runs through the executor. Same inputs as
   * `McpServer.registerTool`, plus `waitMs`, `background`, `estimate` and `cancelOnAbort`; a call
   * that outlives the wait budget answers "running" with an operation id for `continue_operation`,
   * and the request's signal (a client that goes away) ends the wait, not the work (unless
   * `cancelOnAbort`).
   */
  registerTool<
    OutputArgs extends StandardSchemaWithJSON,
    InputArgs extends StandardSchemaWithJSON | undefined = undefined,
  >(
    name: string,
    config: LongRunningToolConfig<InputArgs, OutputArgs>,
    handler: LongRunningToolHandler<InputArgs>,
  ): RegisteredTool;
}

const OPTION_KEYS = new Set([...OPERATION_TOOLS_KEYS, 'owner', 'logging', 'tasks']);
const SDK_TOOL_KEYS = [
  'title',
  'description',
  'inputSchema',
  'outputSchema',
  'annotations',
  'icons',
  '_meta',
];
const LOGGING_KEYS = new Set(['level']);
const TASKS_KEYS = new Set(['pollIntervalMs']);
const MCP_LEVEL = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' } as const;

/** What every server instance of one factory shares: the tools over the executor, and the options. */
interface Shared {
  readonly tools: OperationTools;
  readonly ownerOf: OwnerResolver;
  /** The least severe lifecycle level logged, when logging is on. */
  readonly logLevel: LogLevel | undefined;
  /** The tasks extension's methods, when it is on. */
  readonly tasks: ExtensionTasks | undefined;
}

/**
 * Registers `continue_operation`, `cancel_operation` and `list_operations` on `server` (an MCP SDK
 * v2 `McpServer`), backed by `executor`, and answers the {@link AsyncTools} with which to register
 * long-running tools. Call it inside the factory that builds a server per connection or request;
 * keep the executor outside it. {@link serverFactory} does both.
 */
export function registerAsyncTools(
  server: McpServer,
  executor: Executor,
  options?: AsyncToolsOptions,
): AsyncTools {
  return registerOn(server, share(executor, options));
}

/**
 * A factory for `serveStdio(factory)` or `createMcpHandler(factory)`: each connection (stdio) or
 * request (HTTP) gets a new `McpServer` with the generic tools and the long-running tools `setup`
 * registers, all on the one `executor`, which outlives them. The options are checked, and `setup`
 * run once, here, so that a mistake shows at start-up rather than at the first request.
 *
 * Build the executor and the tools' schemas outside `setup`, which runs per connection or request
 * (a zod object takes tens of microseconds to build).
 *
 * ```ts
 * const executor = new Executor();
 * const renderInput = z.object({ scene: z.string() });
 * const factory = serverFactory(executor, { name: 'renderer', version: '1.0.0' }, (tools) => {
 *   tools.registerTool('render', { inputSchema: renderInput }, async ({ scene }, { signal, progress }) => ({
 *     content: [{ type: 'text', text: await render(scene, { signal, progress }) }],
 *   }));
 * });
 * serveStdio(factory); // or: createServer(toNodeHandler(createMcpHandler(factory))).listen(3000)
 * ```
 */
export function serverFactory(
  executor: Executor,
  info: Implementation,
  setup: (tools: AsyncTools, server: McpServer, context: McpRequestContext) => void,
  options?: { server?: McpServerOptions | undefined; tools?: AsyncToolsOptions | undefined },
): (context: McpRequestContext) => McpServer {
  const o = checkOptions('the options of serverFactory()', options, new Set(['server', 'tools']));
  if (typeof setup !== 'function') {
    throw new TypeError(`Expected \`setup\` to be a function, got ${describeValue(setup)}`);
  }
  const shared = share(executor, o.tools);
  const serverOptions = o.server as McpServerOptions | undefined;
  const factory = (context: McpRequestContext): McpServer => {
    const server = new Server(info, serverOptions);
    setup(registerOn(server, shared), server, context);
    return server;
  };
  factory({ era: 'modern' }); // a dry run: a bad option or tool config throws now
  if (shared.tasks !== undefined) rememberFactoryTasks(factory, shared.tasks, shared.ownerOf);
  return factory;
}

function share(executor: Executor, options: unknown): Shared {
  const given = checkOptions('the options of registerAsyncTools()', options, OPTION_KEYS);
  const ownerOf = (given.owner ?? defaultOwner) as OwnerResolver;
  if (typeof ownerOf !== 'function') {
    throw new TypeError(`Expected \`owner\` to be a function, got ${describeValue(ownerOf)}`);
  }
  const logging = given.logging;
  if (
    logging !== undefined &&
    typeof logging !== 'boolean' &&
    (logging === null || typeof logging !== 'object')
  ) {
    throw new TypeError(`Expected \`logging\` to be a boolean or { level }, got ${describeValue(logging)}`);
  }
  let logLevel: LogLevel | undefined;
  if (logging === true) logLevel = 'info';
  else if (typeof logging === 'object') {
    const level = checkOptions('`logging` of registerAsyncTools()', logging, LOGGING_KEYS).level;
    logLevel = checkLogLevel('logging.level', level ?? 'info');
  }
  const tools = new OperationTools(executor, given);
  return { tools, ownerOf, logLevel, tasks: extensionTasksOf(tools.executor, given.tasks) };
}

function extensionTasksOf(executor: Executor, option: unknown): ExtensionTasks | undefined {
  if (option === false) return undefined;
  if (option !== undefined && option !== true && (option === null || typeof option !== 'object')) {
    throw new TypeError(
      `Expected \`tasks\` to be a boolean or { pollIntervalMs }, got ${describeValue(option)}`,
    );
  }
  const given =
    typeof option === 'object' ? checkOptions('`tasks` of registerAsyncTools()', option, TASKS_KEYS) : {};
  const pollIntervalMs = checkMilliseconds(
    'tasks.pollIntervalMs',
    given.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
  );
  return new ExtensionTasks(executor, Math.round(pollIntervalMs));
}

function registerOn(server: McpServer, shared: Shared): AsyncTools {
  const { tools } = shared;
  const callOf = (ctx: ServerContext): ToolCall => callOfContext(ctx, shared);
  const register = (
    definition: ToolDefinition,
    handle: (args: never, call: ToolCall) => Promise<CallToolResult>,
  ) =>
    server.registerTool(
      definition.name,
      {
        title: definition.title,
        description: definition.description,
        inputSchema: definition.inputSchema,
        annotations: definition.annotations,
      },
      (async (args: never, ctx: ServerContext) => handle(args, callOf(ctx))) as never,
    );
  register(tools.continueTool, (args, call) => tools.continue(args, call));
  register(tools.cancelTool, (args, call) => tools.cancel(args, call));
  register(tools.listTool, (args, call) => tools.list(args, call));
  // After the first tool: McpServer registers its tools/call handler with it.
  const extension =
    shared.tasks === undefined ? undefined : serveTasksExtension(server, shared.tasks, shared.ownerOf);
  return {
    toolNames: tools.names,
    registerTool(name, config, handler) {
      const { taskSupport = 'optional', ...rest } = (config ?? {}) as LongRunningToolConfig<never, never>;
      if (taskSupport !== 'optional' && taskSupport !== 'required') {
        throw new TypeError(
          `Expected \`taskSupport\` of tool ${name} to be "optional" or "required", got ${describeValue(taskSupport)}`,
        );
      }
      if (taskSupport === 'required' && extension === undefined) {
        throw new TypeError(
          `Tool ${name} has taskSupport "required", but the tasks extension is off (\`tasks: false\`)`,
        );
      }
      const { sdkConfig, options } = splitToolConfig(name, rest, handler, SDK_TOOL_KEYS);
      const hasInput = sdkConfig.inputSchema !== undefined;
      const call = handler as (...args: unknown[]) => ToolAnswer;
      const tool = new LongRunningTool(
        tools,
        name,
        options,
        (args, context) => (hasInput ? call(args, context) : call(context)),
        outputCheckOf(sdkConfig.outputSchema),
      );
      // The SDK calls a tool with (args, ctx), or (ctx) when it takes no input.
      const callback = (...params: unknown[]) => {
        const [args, ctx] = hasInput
          ? [params[0], params[1] as ServerContext]
          : [undefined, params[0] as ServerContext];
        const call = callOf(ctx);
        if (extension === undefined) return tool.answer(args, call);
        const task = extension.handOff(ctx, call.owner, taskSupport === 'required');
        if (task === undefined && taskSupport === 'required') return extension.refuse(ctx, name);
        return tool.answer(args, call, task);
      };
      return server.registerTool(name, sdkConfig as never, callback as never);
    },
  };
}

/** What the shared logic needs of one v2 request. */
function callOfContext(ctx: ServerContext, shared: Shared): ToolCall {
  const { mcpReq } = ctx;
  // On 2026-07-28 the SDK aborts it when the request's stream closes (a disconnect is a
  // cancellation); in the 2025 era when the connection is cut, or on notifications/cancelled where
  // the server that runs the request receives it (not a stateless one: that goes to a new server).
  const signal = mcpReq.signal;
  return {
    owner: shared.ownerOf(ctx),
    signal,
    progress: {
      progressToken: mcpReq._meta?.progressToken,
      // On the request's own stream, the only one 2026-07-28 has.
      sendNotification: (notification: ProgressNotification) => mcpReq.notify(notification),
      signal,
    },
    watch:
      shared.logLevel === undefined
        ? undefined
        : (operationId) => logLifecycle(shared.tools.executor, operationId, shared.logLevel!, mcpReq.log),
  };
}

/**
 * Sends the lifecycle events of one operation as log messages on a request, until the answered
 * function is called. The SDK sends them only where the request asks for logs (2026-07-28: a log
 * level in its `_meta`; 2025 era: the level set with `logging/setLevel`).
 */
function logLifecycle(
  executor: Executor,
  operationId: string,
  threshold: LogLevel,
  log: ServerContext['mcpReq']['log'],
): () => void {
  const detach = LIFECYCLE_EVENTS.map((event: LifecycleEvent) =>
    executor.on(event, (payload) => {
      if (payload.operation.id !== operationId) return;
      const entry = logEntryOf(event, payload);
      if (!atLeast(entry.level, threshold)) return;
      const data = {
        event,
        message: entry.message,
        operation_id: operationId,
        status: entry.operation.status,
      };
      log(MCP_LEVEL[entry.level], data, 'mcp-async').catch(() => undefined); // the request is over
    }),
  );
  return () => {
    for (const off of detach) off();
  };
}

/** The check of a tool's output schema: a Standard Schema, or a raw zod shape wrapped as the SDK does. */
function outputCheckOf(schema: unknown): OutputCheck | undefined {
  if (schema === undefined) return undefined;
  const standard = (
    isStandardSchema(schema) ? schema : z.object(schema as z.ZodRawShape)
  ) as StandardSchemaWithJSON;
  return async (structured) => {
    const outcome = await standard['~standard'].validate(structured);
    if (outcome.issues === undefined) return undefined;
    return outcome.issues
      .map((issue) => {
        const path = (issue.path ?? []).map((key) =>
          typeof key === 'object' ? String(key.key) : String(key),
        );
        return path.length === 0 ? issue.message : `${path.join('.')}: ${issue.message}`;
      })
      .join('; ');
  };
}

function isStandardSchema(value: unknown): value is StandardSchemaWithJSON {
  return value !== null && typeof value === 'object' && '~standard' in value;
}
