// The generic tools, continue_operation, cancel_operation and list_operations, written once for
// both SDK lines: their names, descriptions and input schemas, and what each answers to one call.
// An SDK adapter registers them on its McpServer and says who is calling (a ToolCall).

import { z } from 'zod';
import { type Executor, OperationNotFoundError, type OperationStatus } from '../index.js';
import { checkCount, checkMilliseconds, checkOptions, describeValue } from '../validate.js';
import {
  checkProgressToken,
  ProgressForwarder,
  type ProgressForwardingOptions,
  ProgressRouter,
  type ProgressSink,
  type ResolvedForwarding,
  resolveForwarding,
} from './progress-forwarder.js';
import {
  type CallToolResult,
  describeSnapshot,
  errorToolResult,
  finishedToolResult,
  runningToolResult,
  snapshotJson,
  type ToolNames,
} from './tool-results.js';

/** The longest `wait_seconds` accepted; longer waits are refused, shorter ones capped by `maxWaitMs`. */
const MAX_WAIT_SECONDS = 3600;
/** The default `maxResultBytes`: 4 MiB. */
const DEFAULT_MAX_RESULT_BYTES = 4 * 1024 * 1024;
/** How many operations one page of `list_operations` shows. */
const LIST_PAGE_SIZE = 20;
/** The keys of {@link OperationToolsOptions}. */
export const OPERATION_TOOLS_KEYS = ['toolNames', 'defaultWaitMs', 'progress', 'maxResultBytes'] as const;
const TOOL_NAME_KEYS = new Set(['continue', 'cancel', 'list']);

/** Options of `registerAsyncTools` that both SDK lines share. */
export interface OperationToolsOptions {
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
}

/** What the shared logic needs of one tool call, whatever the SDK line and protocol era. */
export interface ToolCall {
  /**
   * Who owns the operations this call starts, and which it may see. `undefined`: nobody; the
   * operation id is then the only capability, and nothing is listed (see `ownerOfCaller`).
   */
  readonly owner: string | undefined;
  /** The request's signal: it ends a wait, never the work. */
  readonly signal: AbortSignal;
  /** Where the request's progress notifications go. */
  readonly progress: ProgressSink;
  /**
   * Called with the id of the operation the call waits on, for as long as it waits; answers a
   * function that ends the watch. An adapter uses it to send that operation's lifecycle on the
   * request (as log messages, where the request asks for them).
   */
  readonly watch?: ((operationId: string) => () => void) | undefined;
}

/** A tool's registration as both SDK lines take it (the input schema is a zod object). */
export interface ToolDefinition {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: z.ZodObject;
  readonly annotations: {
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
}

/** The generic tools over one executor, and what the long-running tools share with them. */
export class OperationTools {
  readonly executor: Executor;
  readonly names: ToolNames;
  readonly forwarding: ResolvedForwarding;
  readonly maxResultBytes: number;
  readonly continueTool: ToolDefinition;
  readonly cancelTool: ToolDefinition;
  readonly listTool: ToolDefinition;
  readonly #defaultWaitMs: number;
  readonly #router: ProgressRouter;

  /** @param given - the shared options, already checked for unknown keys by the adapter */
  constructor(executor: Executor, given: Readonly<Record<string, unknown>>) {
    this.executor = executor;
    this.names = resolveToolNames(given.toolNames);
    this.#defaultWaitMs =
      given.defaultWaitMs === undefined
        ? 30_000
        : checkMilliseconds('defaultWaitMs', given.defaultWaitMs, MAX_WAIT_SECONDS * 1000);
    this.forwarding = resolveForwarding(given.progress);
    this.maxResultBytes = checkCount(
      'maxResultBytes',
      given.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
      1,
      true,
    );
    this.#router = new ProgressRouter(executor);
    const names = this.names;
    // What a call without wait_seconds waits, and the longest any call waits, as the model reads them.
    const capSeconds = executor.options.maxWaitMs / 1000;
    const defaultSeconds = Math.min(this.#defaultWaitMs, executor.options.maxWaitMs) / 1000;
    this.continueTool = {
      name: names.continue,
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
    };
    this.cancelTool = {
      name: names.cancel,
      title: 'Cancel a long-running operation',
      description:
        'Stop a long-running operation. Harmless if it already finished: the answer then says how it ended.',
      inputSchema: z.strictObject({
        operation_id: z.string().min(1).max(256).describe('The id of the operation to cancel.'),
      }),
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    };
    this.listTool = {
      name: names.list,
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
    };
  }

  /** `continue_operation`: the operation's own result once finished, else where it stands. */
  async continue(
    args: { operation_id: string; wait_seconds?: number | undefined },
    call: ToolCall,
  ): Promise<CallToolResult> {
    const refused = refuseBadMeta(call);
    if (refused !== undefined) return refused;
    const { operation_id: id, wait_seconds } = args;
    const waitMs = wait_seconds === undefined ? this.#defaultWaitMs : wait_seconds * 1000;
    const owner = call.owner;
    const forwarder = new ProgressForwarder(call.progress, this.forwarding);
    // A continuation with a progressToken hears the operation's progress while it waits: where
    // it stands now, then every move.
    const unroute = forwarder.active ? this.#router.watch(id, forwarder) : undefined;
    const unwatch = call.watch?.(id);
    try {
      if (unroute !== undefined) {
        const progress = (await this.executor.get(id, { owner }))?.progress;
        if (progress !== undefined) forwarder.send(progress);
      }
      const result = await this.executor.continue(id, { waitMs, owner, signal: call.signal });
      return result.status === 'running'
        ? runningToolResult(result, this.names, true)
        : finishedToolResult(result);
    } catch (error) {
      return this.operationError(error, id);
    } finally {
      unwatch?.();
      unroute?.();
      forwarder.close();
    }
  }

  /** `cancel_operation`: whether this call cancelled it, and the operation as it stands after. */
  async cancel(args: { operation_id: string }, call: ToolCall): Promise<CallToolResult> {
    const id = args.operation_id;
    try {
      const { cancelled, operation } = await this.executor.cancel(id, {
        owner: call.owner,
        reason: `${this.names.cancel} was called`,
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
      return this.operationError(error, id);
    }
  }

  /** `list_operations`: the caller's operations, newest first, a page at a time. */
  async list(
    args: { status?: OperationStatus | undefined; cursor?: string | undefined },
    call: ToolCall,
  ): Promise<CallToolResult> {
    const { status, cursor } = args;
    if (call.owner === undefined) {
      // Every unauthenticated caller's operations are unowned together: listing them would hand
      // out one caller's ids to another. The id alone reaches an operation.
      return {
        content: [
          {
            type: 'text',
            text:
              'Operations started without an authenticated client (and outside a session) are reachable only by their ' +
              `operation_id: ${this.names.list} cannot show them. Use the operation_id from the "still running" answer.`,
          },
        ],
        structuredContent: { operations: [] },
      };
    }
    try {
      const page = await this.executor.list({ owner: call.owner, status, limit: LIST_PAGE_SIZE, cursor });
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
          `There are more: call ${this.names.list} with cursor "${page.nextCursor}" for the next page.`,
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
  }

  /** An error answer about an operation: an unknown (or not yours) one points to list_operations. */
  operationError(error: unknown, operationId: string): CallToolResult {
    if (error instanceof OperationNotFoundError) {
      return errorToolResult(
        `No operation "${operationId}" was found: the id is wrong, its result expired, or it is not yours. ` +
          `Call \`${this.names.list}\` to see your operations.`,
      );
    }
    return errorToolResult(error instanceof Error ? error.message : String(error));
  }
}

/** An `isError` answer for a request whose metadata cannot be served (an oversized progressToken). */
export function refuseBadMeta(call: ToolCall): CallToolResult | undefined {
  try {
    checkProgressToken(call.progress.progressToken);
    return undefined;
  } catch (error) {
    return errorToolResult(error instanceof Error ? error.message : String(error));
  }
}

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
