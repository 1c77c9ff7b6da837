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
import type {
  CallToolResult,
  CreateTaskResult,
  ServerCapabilities,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  type Executor,
  type LogLevel,
  type OperationContext,
  OperationNotFoundError,
  type OperationResult,
  type OperationStatus,
  type ProgressReporter,
} from '../index.js';
import { checkCount, checkMilliseconds, checkOptions, describeValue } from '../validate.js';
import { LogSink } from './log-sink.js';
import { defaultOwner, type OwnerResolver, type ToolExtra } from './owner.js';
import {
  checkProgressToken,
  ProgressForwarder,
  type ProgressForwardingOptions,
  ProgressRouter,
  type ResolvedForwarding,
  requestSink,
  resolveForwarding,
} from './progress-forwarder.js';
import { answerUntaskedCallsInline, installTaskHandlers, TaskFollower } from './task-handlers.js';
import { DEFAULT_TASK_POLL_INTERVAL_MS } from './task-store.js';
import { OperationTasks } from './tasks.js';
import {
  checkHandlerResult,
  describeSnapshot,
  errorToolResult,
  finishedToolResult,
  runningToolResult,
  snapshotJson,
  type ToolNames,
} from './tool-results.js';

/** The longest `wait_seconds` accepted; longer waits are refused, shorter ones capped by `maxWaitMs`. */
const MAX_WAIT_SECONDS = 3600;
/** The default {@link AsyncToolsOptions.maxResultBytes}: 4 MiB. */
const DEFAULT_MAX_RESULT_BYTES = 4 * 1024 * 1024;
/** How many operations one page of `list_operations` shows. */
const LIST_PAGE_SIZE = 20;
const OPTION_KEYS = new Set([
  'owner',
  'toolNames',
  'defaultWaitMs',
  'progress',
  'maxResultBytes',
  'logging',
  'tasks',
]);
const TOOL_CONFIG_KEYS = new Set([
  'title',
  'description',
  'inputSchema',
  'outputSchema',
  'annotations',
  '_meta',
  'waitMs',
  'background',
  'estimate',
]);

/** Options of {@link registerAsyncTools}. */
export interface AsyncToolsOptions {
  /**
   * Who owns the operations a request starts and may see.
   * @defaultValue {@link defaultOwner}: the authenticated client, else the session, else `"anonymous"`
   */
  owner?: OwnerResolver | undefined;
  /**
   * Names of the generic tools.
   * @defaultValue `{ continue: 'continue_operation', cancel: 'cancel_operation', list: 'list_operations' }`
   */
  toolNames?: Partial<ToolNames> | undefined;
  /**
   * How long `continue_operation` waits when the call gives no `wait_seconds`; always capped by the
   * executor's `maxWaitMs`. (The model reads and writes its waits in seconds, `wait_seconds`.)
   * @defaultValue 30_000
   */
  defaultWaitMs?: number | undefined;
  /** How progress is forwarded to clients: throttling and heartbeat. */
  progress?: ProgressForwardingOptions | undefined;
  /**
   * The largest tool result a long-running tool may leave, in bytes of JSON: a result is kept until
   * its retention ends, so one client must not pin unbounded memory. A larger one is replaced by
   * an `isError` result that says so, as is one JSON cannot carry. `Infinity` for no cap (and no
   * check).
   * @defaultValue 4 MiB (4_194_304)
   */
  maxResultBytes?: number | undefined;
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

/** What a long-running tool's handler receives besides its arguments. */
export interface LongRunningContext {
  /** Fires when the operation is cancelled, outlives `maxLifetimeMs`, or the executor stops. */
  readonly signal: AbortSignal;
  /** The operation's id (reading it makes the operation reachable by `continue_operation` at once). */
  readonly operationId: string;
  /**
   * Reports progress, in phases if you like: kept for `continue_operation` and
   * `list_operations`, and sent to the client as `notifications/progress` while a request that
   * carried a `progressToken` waits on the operation (the original call, or a continuation).
   */
  readonly progress: ProgressReporter;
  /** The owner of the operation, as the owner resolver decided. */
  readonly owner: string;
}

/** What a long-running tool returns: the tool result, exactly as a plain tool would. */
export type ToolAnswer = CallToolResult | Promise<CallToolResult>;

/** The handler of a long-running tool: `registerTool`'s callback, with a {@link LongRunningContext}. */
export type LongRunningToolHandler<Args extends undefined | ZodRawShapeCompat | AnySchema> =
  Args extends ZodRawShapeCompat
    ? (args: ShapeOutput<Args>, context: LongRunningContext) => ToolAnswer
    : Args extends AnySchema
      ? (args: SchemaOutput<Args>, context: LongRunningContext) => ToolAnswer
      : (context: LongRunningContext) => ToolAnswer;

/** The arguments a tool's handler receives, as its input schema describes them. */
export type ToolArgs<Args extends undefined | ZodRawShapeCompat | AnySchema> = Args extends ZodRawShapeCompat
  ? ShapeOutput<Args>
  : Args extends AnySchema
    ? SchemaOutput<Args>
    : undefined;

/** The configuration of a long-running tool: `registerTool`'s, plus the wait budget. */
export interface LongRunningToolConfig<
  InputArgs extends undefined | ZodRawShapeCompat | AnySchema,
  OutputArgs extends ZodRawShapeCompat | AnySchema,
> {
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
  /**
   * How long a call waits for the work before answering "running".
   * @defaultValue the executor's `defaultWaitMs`
   */
  waitMs?: number | undefined;
  /**
   * `'auto'`: a call expected to outlive the wait (by `estimate`, else by the median of the tool's
   * recent runs) answers "running" at once instead of holding the client for the whole wait,
   * saying why.
   */
  background?: 'auto' | undefined;
  /**
   * The tool author's prior for `background: 'auto'`: how long a call with these arguments will
   * take, in milliseconds (from an input size, an item count...), or `undefined` to go by the
   * learned median. A hook that throws or answers something else than a number of milliseconds
   * counts as `undefined`.
   */
  estimate?: ((args: ToolArgs<InputArgs>) => number | undefined) | undefined;
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
   * `McpServer.registerTool`; a call that outlives the wait budget answers "running" with an
   * operation id for `continue_operation`, and the request's signal ends the wait, not the work.
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
 * Registers `continue_operation`, `cancel_operation` and `list_operations` on `server`, backed by
 * `executor`, and answers the {@link AsyncTools} with which to register long-running tools.
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
  const resolveOwner = (given.owner ?? defaultOwner) as OwnerResolver;
  if (typeof resolveOwner !== 'function') {
    throw new TypeError(`Expected \`owner\` to be a function, got ${describeValue(resolveOwner)}`);
  }
  const names = resolveToolNames(given.toolNames);
  const defaultWaitMs =
    given.defaultWaitMs === undefined
      ? 30_000
      : checkMilliseconds('defaultWaitMs', given.defaultWaitMs, MAX_WAIT_SECONDS * 1000);
  // What a call without wait_seconds waits, and the longest any call waits, as the model reads them.
  const capSeconds = executor.options.maxWaitMs / 1000;
  const defaultSeconds = Math.min(defaultWaitMs, executor.options.maxWaitMs) / 1000;
  const forwarding = resolveForwarding(given.progress);
  const maxResultBytes = checkCount(
    'maxResultBytes',
    given.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
    1,
    true,
  );
  const router = new ProgressRouter(executor);
  const logging = given.logging;
  if (
    logging !== undefined &&
    typeof logging !== 'boolean' &&
    (logging === null || typeof logging !== 'object')
  ) {
    throw new TypeError(`Expected \`logging\` to be a boolean or { level }, got ${describeValue(logging)}`);
  }
  if (typeof logging === 'object') checkOptions('`logging` of registerAsyncTools()', logging, LOGGING_KEYS);
  const logSink =
    logging === undefined || logging === false
      ? undefined
      : new LogSink(server, executor, logging as true | { level?: LogLevel });
  const ownerOf: OwnerResolver =
    logSink === undefined ? resolveOwner : (extra) => logSink.seen(extra, resolveOwner(extra));
  const site: ToolSite = {
    server,
    executor,
    ownerOf,
    names,
    forwarding,
    maxResultBytes,
    tasks: resolveTasks(server, executor, ownerOf, given.tasks),
  };

  const continueTool = server.registerTool(
    names.continue,
    {
      title: 'Continue a long-running operation',
      description:
        'Wait for the result of a long-running operation that answered "still running". Returns the ' +
        "operation's own result as soon as it finishes, or says it is still running: then call this tool again. " +
        `Each call waits up to wait_seconds (default ${defaultSeconds}); this server ends any one wait after ` +
        `${capSeconds} seconds, so that the call answers before a client's timeout. A longer wait_seconds is ` +
        `accepted (up to ${MAX_WAIT_SECONDS}) and waits ${capSeconds} seconds.`,
      inputSchema: z.strictObject({
        operation_id: z
          .string()
          .min(1)
          .max(256)
          .describe('The operation_id from the "still running" answer.'),
        wait_seconds: z
          .number()
          .min(0)
          .max(MAX_WAIT_SECONDS)
          .optional()
          .describe(
            `How long to wait for the result, in seconds (default ${defaultSeconds}; one wait lasts at most ${capSeconds}).`,
          ),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ operation_id, wait_seconds }, extra) => {
      const refused = refuseBadMeta(extra);
      if (refused !== undefined) return refused;
      const waitMs = wait_seconds === undefined ? defaultWaitMs : wait_seconds * 1000;
      const owner = ownerOf(extra);
      const forwarder = new ProgressForwarder(requestSink(extra), forwarding);
      // A continuation with a progressToken hears the operation's progress while it waits: where
      // it stands now, then every move.
      const unwatch = forwarder.active ? router.watch(operation_id, forwarder) : undefined;
      try {
        if (unwatch !== undefined) {
          const progress = (await executor.get(operation_id, { owner }))?.progress;
          if (progress !== undefined) forwarder.send(progress);
        }
        const result = await executor.continue(operation_id, { waitMs, owner, signal: extra.signal });
        return result.status === 'running'
          ? runningToolResult(result, names, true)
          : finishedToolResult(result);
      } catch (error) {
        return operationError(error, operation_id, names);
      } finally {
        unwatch?.();
        forwarder.close();
      }
    },
  );

  const cancelTool = server.registerTool(
    names.cancel,
    {
      title: 'Cancel a long-running operation',
      description:
        'Stop a long-running operation. Harmless if it already finished: the answer then says how it ended.',
      inputSchema: z.strictObject({
        operation_id: z.string().min(1).max(256).describe('The id of the operation to cancel.'),
      }),
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ operation_id }, extra) => {
      try {
        const { cancelled, operation } = await executor.cancel(operation_id, {
          owner: ownerOf(extra),
          reason: `${names.cancel} was called`,
        });
        const name = `Operation ${operation.id} (${operation.type})`;
        const text = cancelled
          ? `${name} is cancelled.`
          : operation.status === 'cancelled'
            ? `${name} was already cancelled; nothing changed.`
            : `${name} had already ended (${operation.status}); nothing was cancelled.`;
        return {
          content: [{ type: 'text', text }],
          structuredContent: { ...snapshotJson(operation), cancelled },
        };
      } catch (error) {
        return operationError(error, operation_id, names);
      }
    },
  );

  const listTool = server.registerTool(
    names.list,
    {
      title: 'List your long-running operations',
      description:
        'List the long-running operations you started that are still running or recently finished, newest first, ' +
        `${LIST_PAGE_SIZE} at a time, with their operation_id: use it to find work whose id you lost, then call ` +
        `${names.continue} or ${names.cancel}. When there are more, the answer gives a cursor for the next page.`,
      inputSchema: z.strictObject({
        status: z
          .enum(['running', 'completed', 'failed', 'cancelled'])
          .optional()
          .describe('Only operations with this status.'),
        cursor: z
          .string()
          .max(512)
          .optional()
          .describe('The next_cursor of the previous page; leave it out for the first page.'),
      }),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ status, cursor }, extra) => {
      try {
        const page = await executor.list({
          owner: ownerOf(extra),
          status: status as OperationStatus | undefined,
          limit: LIST_PAGE_SIZE,
          cursor,
        });
        const which = status === undefined ? '' : `${status} `;
        const lines =
          page.operations.length === 0
            ? [cursor === undefined ? `You have no ${which}operations.` : `No more ${which}operations.`]
            : [
                `Your ${which}operations, newest first${cursor === undefined ? '' : ' (continued)'}:`,
                ...page.operations.map(describeSnapshot),
              ];
        if (page.nextCursor !== undefined) {
          lines.push(
            `There are more: call ${names.list} with cursor "${page.nextCursor}" for the next page.`,
          );
        }
        return {
          content: [{ type: 'text', text: lines.join('\n') }],
          structuredContent: {
            operations: page.operations.map(snapshotJson),
            ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }),
          },
        };
      } catch (error) {
        return errorToolResult(error instanceof Error ? error.message : String(error));
      }
    },
  );

  return {
    toolNames: names,
    tools: { continue: continueTool, cancel: cancelTool, list: listTool },
    registerTool(name, config, handler) {
      return registerLongRunningTool(site, name, config, handler);
    },
  };
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
  if (!offersToolTasks(server)) return undefined;
  const view = new OperationTasks(executor, pollIntervalMs);
  installTaskHandlers(server, view, ownerOf);
  return { view, follower: new TaskFollower(server, executor, view) };
}

/**
 * Whether the server was created with the tasks capability for tool calls. `Server` keeps its own
 * capabilities behind a method the SDK's types mark private (it has been there since 1.0); without
 * it, tasks stay off.
 */
function offersToolTasks(server: McpServer): boolean {
  const protocol = server.server as unknown as { getCapabilities?: () => ServerCapabilities | undefined };
  if (typeof protocol.getCapabilities !== 'function') return false;
  return protocol.getCapabilities.call(server.server)?.tasks?.requests?.tools?.call !== undefined;
}

const TASKS_KEYS = new Set(['pollIntervalMs']);
const LOGGING_KEYS = new Set(['level']);
const TOOL_NAME_KEYS = new Set(['continue', 'cancel', 'list']);

function resolveToolNames(given: unknown): ToolNames {
  const names = checkOptions('`toolNames` of registerAsyncTools()', given, TOOL_NAME_KEYS);
  const resolved = {
    continue: names.continue ?? 'continue_operation',
    cancel: names.cancel ?? 'cancel_operation',
    list: names.list ?? 'list_operations',
  };
  for (const [key, value] of Object.entries(resolved)) {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(value)) {
      throw new TypeError(
        `Expected \`toolNames.${key}\` to be 1-128 letters, digits, "_", "-" or ".", got ${describeValue(value)}`,
      );
    }
  }
  return resolved as ToolNames;
}

function operationError(error: unknown, operationId: string, names: ToolNames): CallToolResult {
  if (error instanceof OperationNotFoundError) {
    return errorToolResult(
      `No operation "${operationId}" was found: the id is wrong, its result expired, or it is not yours. ` +
        `Call \`${names.list}\` to see your operations.`,
    );
  }
  return errorToolResult(error instanceof Error ? error.message : String(error));
}

/** What a long-running tool is registered with: the server, the executor, and their settings. */
interface ToolSite {
  readonly server: McpServer;
  readonly executor: Executor;
  readonly ownerOf: OwnerResolver;
  readonly names: ToolNames;
  readonly forwarding: ResolvedForwarding;
  readonly maxResultBytes: number;
  /** Set when the server offers native tasks for tool calls. */
  readonly tasks: { readonly view: OperationTasks; readonly follower: TaskFollower } | undefined;
}

function registerLongRunningTool<
  OutputArgs extends ZodRawShapeCompat | AnySchema,
  InputArgs extends undefined | ZodRawShapeCompat | AnySchema,
>(
  site: ToolSite,
  name: string,
  config: LongRunningToolConfig<InputArgs, OutputArgs>,
  handler: LongRunningToolHandler<InputArgs>,
): RegisteredTool {
  const { server, executor, ownerOf, names, forwarding, maxResultBytes, tasks } = site;
  const { waitMs, background, estimate, ...toolConfig } = checkOptions(
    `the config of tool ${JSON.stringify(name).slice(0, 130)}`,
    config,
    TOOL_CONFIG_KEYS,
  ) as LongRunningToolConfig<InputArgs, OutputArgs>;
  if (waitMs !== undefined) checkMilliseconds('waitMs', waitMs, Number.MAX_SAFE_INTEGER);
  if (background !== undefined && background !== 'auto') {
    throw new TypeError(`Expected \`background\` to be "auto", got ${describeValue(background)}`);
  }
  if (estimate !== undefined && typeof estimate !== 'function') {
    throw new TypeError(`Expected \`estimate\` to be a function, got ${describeValue(estimate)}`);
  }
  if (typeof handler !== 'function') {
    throw new TypeError(`Expected \`handler\` to be a function, got ${describeValue(handler)}`);
  }
  const hasInput = toolConfig.inputSchema !== undefined;
  const outputSchema = normalizeObjectSchema(toolConfig.outputSchema);
  const call = handler as (...args: unknown[]) => ToolAnswer;
  // The SDK calls a tool with (args, extra), or (extra) when it takes no input.
  const argsAndExtra = (params: unknown[]): [unknown, ToolExtra] =>
    hasInput ? [params[0], params[1] as ToolExtra] : [undefined, params[0] as ToolExtra];

  /** The work of one call, as an operation. */
  const work =
    (args: unknown, owner: string) =>
    async (context: OperationContext): Promise<CallToolResult> => {
      const toolContext: LongRunningContext = {
        get signal() {
          return context.signal;
        },
        get operationId() {
          return context.operationId;
        },
        progress: context.progress,
        owner,
      };
      const answer = await (hasInput ? call(args, toolContext) : call(toolContext));
      return checkSize(
        name,
        await checkOutput(name, checkHandlerResult(name, answer), outputSchema),
        maxResultBytes,
      );
    };

  /** A plain call: the tool's result within the wait budget, else "running" with the operation id. */
  const answer = async (args: unknown, extra: ToolExtra): Promise<CallToolResult> => {
    const refused = refuseBadMeta(extra);
    if (refused !== undefined) return refused;
    const owner = ownerOf(extra);
    const forwarder = new ProgressForwarder(requestSink(extra), forwarding);
    try {
      const result = await executor.execute(work(args, owner), {
        type: name,
        owner,
        signal: extra.signal,
        onProgress: (progress) => forwarder.send(progress),
        resultError: toolErrorOf,
        ...(background === undefined ? {} : { background, estimateMs: estimateOf(estimate, args) }),
        ...(waitMs === undefined ? {} : { waitMs }),
      });
      return result.status === 'running'
        ? runningToolResult(result, names, outputSchema === undefined)
        : finishedToolResult(result);
    } catch (error) {
      return errorToolResult(
        `Tool ${name} could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      forwarder.close();
    }
  };

  if (tasks === undefined) {
    return server.registerTool(
      name,
      toolConfig as never,
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
      { ...forwarding, heartbeatMs: 0 },
    );
    let result: OperationResult<CallToolResult>;
    try {
      result = await executor.execute(work(args, owner), {
        type: name,
        owner,
        waitMs: 0,
        onProgress: (progress) => forwarder.send(progress),
        resultError: toolErrorOf,
      });
    } catch (error) {
      forwarder.close();
      throw error;
    }
    // With timeout 0 the work (behind an await) is still running, or ended while its record was
    // written: an id either way.
    const taskId = result.id!;
    tasks.follower.follow(taskId, forwarder);
    const task = await tasks.view.get(taskId, owner);
    tasks.follower.settled(task);
    return { task };
  };
  const registered = server.experimental.tasks.registerToolTask(
    name,
    { ...toolConfig, execution: { taskSupport: 'optional' } } as never,
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

/** A result past `maxResultBytes` (in JSON, as it is kept and sent) becomes an error naming both sizes. */
function checkSize(name: string, result: CallToolResult, maxResultBytes: number): CallToolResult {
  if (maxResultBytes === Number.POSITIVE_INFINITY) return result;
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(result));
  } catch (error) {
    return errorToolResult(
      `Tool ${name} returned a result that cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return bytes <= maxResultBytes
    ? result
    : errorToolResult(
        `Tool ${name} returned ${bytes} bytes, more than the ${maxResultBytes} allowed (maxResultBytes); the result was dropped`,
      );
}

/** The error a tool result reports (`isError`): its text, for the record to keep; else undefined. */
function toolErrorOf(result: CallToolResult): string | undefined {
  if (result.isError !== true) return undefined;
  const text = result.content.find((block) => block.type === 'text');
  return text?.type === 'text' ? text.text : 'The tool reported an error.';
}

/** An `isError` answer for a request whose metadata cannot be served (an oversized progressToken). */
function refuseBadMeta(extra: ToolExtra): CallToolResult | undefined {
  try {
    checkProgressToken(extra._meta?.progressToken);
    return undefined;
  } catch (error) {
    return errorToolResult(error instanceof Error ? error.message : String(error));
  }
}

/** The tool's estimate for these arguments; a hook that throws or answers nonsense counts as none. */
function estimateOf(
  estimate: ((args: never) => number | undefined) | undefined,
  args: unknown,
): number | undefined {
  if (estimate === undefined) return undefined;
  try {
    const ms = estimate(args as never);
    return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a synchronous call would have answered for a tool with an `outputSchema`: the SDK refuses
 * a successful result without matching `structuredContent`. Checked when the work completes, so
 * that `continue_operation` hands out exactly that answer too.
 */
async function checkOutput(
  name: string,
  result: CallToolResult,
  outputSchema: ReturnType<typeof normalizeObjectSchema>,
): Promise<CallToolResult> {
  if (outputSchema === undefined || result.isError === true) return result;
  if (result.structuredContent === undefined) {
    return errorToolResult(
      `Output validation error: Tool ${name} has an output schema but no structured content was provided`,
    );
  }
  const parsed = await safeParseAsync(outputSchema, result.structuredContent);
  if (parsed.success) return result;
  return errorToolResult(
    `Output validation error: Invalid structured content for tool ${name}: ${getParseErrorMessage(parsed.error)}`,
  );
}
