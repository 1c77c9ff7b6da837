// A long-running tool, written once for both SDK lines: its handler runs through the executor, a
// call answers the tool's own result within its wait budget or "still running" with an operation
// id, progress goes to the request while it waits, and the result is checked (shape, output
// schema, size) when the work ends, so that continue_operation hands out exactly what a synchronous
// call would have. An SDK adapter registers it and says who is calling (a ToolCall).

import {
  InputUnavailableError,
  type OperationContext,
  type OperationFunction,
  type OperationResult,
  type Progress,
  type ProgressReporter,
  type RedeliverOptions,
  type RunningResult,
} from '../index.js';
import { parseRedeliver } from '../options.js';
import { checkMilliseconds, checkOptions, describeValue } from '../validate.js';
import {
  checkToolInputRequest,
  type ElicitParams,
  type ElicitResult,
  type InputRequest,
} from './input-requests.js';
import { type OperationTools, refuseBadMeta, type ToolCall } from './operation-tools.js';
import { ProgressForwarder } from './progress-forwarder.js';
import {
  type CallToolResult,
  checkHandlerResult,
  errorToolResult,
  finishedToolResult,
  runningToolResult,
} from './tool-results.js';

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
  /**
   * The owner of the operation, as the owner resolver decided; `undefined` when the caller is
   * not identified (the operation id is then the only capability).
   */
  readonly owner: string | undefined;
  /**
   * The call's attempt: 1, or more for a tool declared `redeliver` that another replica runs again
   * after the one running it died (check what the earlier run did before doing it again). A run
   * handed back by a stopping replica keeps its number (it is not counted), though it is a run
   * again too.
   */
  readonly attempt: number;
  /**
   * Asks the client for input while the work runs (the tasks extension's `input_required`):
   * `elicitation/create`, `sampling/createMessage` or `roots/list`, with its params. The call is
   * answered with its task at once (if it has not been already), the task shows the request until
   * the client answers it with `tasks/update`, on whichever replica, and this resolves with the
   * client's response, checked to have that request's result shape.
   *
   * Rejects with an `InputUnavailableError` when this caller cannot answer: a client that did not
   * declare the tasks extension (so the call cannot become a task), or the capability the request
   * needs (`elicitation`, `sampling`, `roots`), or any caller of an SDK 1.x server. Work can take
   * that as "no answer" and go on with a safe default, or fail saying so. Rejects with the signal's
   * reason when the operation ends first.
   */
  input(request: InputRequest): Promise<Record<string, unknown>>;
  /**
   * `input({ method: 'elicitation/create', params })`: asks the user through the client, and
   * resolves with their answer (`action` `accept` with `content`, `decline` or `cancel`).
   */
  elicit(params: ElicitParams): Promise<ElicitResult>;
}

/** What a long-running tool returns: the tool result, exactly as a plain tool would. */
export type ToolAnswer<Result = CallToolResult> = Result | Promise<Result>;

/** The wait options a long-running tool takes besides the SDK's `registerTool` config. */
export interface LongRunningOptions<Args> {
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
  estimate?: ((args: Args) => number | undefined) | undefined;
  /**
   * Cancel the work, not just the wait, when the call's request is cancelled while it waits (the
   * client sent `notifications/cancelled`, timed out, or went away): for work nobody can use
   * without the caller who asked for it. Once the call has answered "running", the operation
   * belongs to its id and only `cancel_operation` (or its lifetime) ends it.
   * @defaultValue false
   */
  cancelOnAbort?: boolean | undefined;
  /**
   * Declares the tool idempotent: when the replica running a call dies (or hands it back while
   * stopping), another replica sharing the `RedisStore` runs the handler again with the same
   * arguments, under the same operation id, up to `attempts` runs in all, waiting `backoffMs`
   * (doubled each time) before each. `true` takes the defaults. A run again has no client to ask
   * for input (`input()` rejects with `InputUnavailableError`). Without it, a call cut off by its
   * replica's death ends "outcome unknown" and is never run again behind anyone's back.
   * @defaultValue off; `true` or `{}` is `{ attempts: 3, backoffMs: 1000 }`
   */
  redeliver?: true | Pick<RedeliverOptions, 'attempts' | 'backoffMs'> | undefined;
}

const LONG_RUNNING_KEYS = ['waitMs', 'background', 'estimate', 'cancelOnAbort', 'redeliver'] as const;

/** Checks a result's `structuredContent` against the tool's output schema: what is wrong, or `undefined`. */
export type OutputCheck = (structuredContent: unknown) => Promise<string | undefined>;

/**
 * Splits a long-running tool's config into what the SDK's `registerTool` takes (`sdkKeys`) and the
 * {@link LongRunningOptions}, refusing any other key, and checks the options and the handler.
 */
export function splitToolConfig(
  name: string,
  config: unknown,
  handler: unknown,
  sdkKeys: readonly string[],
): { sdkConfig: Record<string, unknown>; options: LongRunningOptions<never> } {
  const given = checkOptions(
    `the config of tool ${JSON.stringify(name).slice(0, 130)}`,
    config,
    new Set([...sdkKeys, ...LONG_RUNNING_KEYS]),
  );
  const { waitMs, background, estimate, cancelOnAbort, redeliver, ...sdkConfig } = given;
  if (redeliver !== undefined && redeliver !== true) {
    if (typeof redeliver !== 'object' || redeliver === null) {
      throw new TypeError(
        `Expected \`redeliver\` to be true or { attempts, backoffMs }, got ${describeValue(redeliver)}`,
      );
    }
    // Checked as execute() will check it, so that a bad value fails registration, not a call.
    parseRedeliver({ ...checkOptions('`redeliver`', redeliver, REDELIVER_TOOL_KEYS), job: name });
  }
  if (waitMs !== undefined) checkMilliseconds('waitMs', waitMs, Number.MAX_SAFE_INTEGER);
  if (background !== undefined && background !== 'auto') {
    throw new TypeError(`Expected \`background\` to be "auto", got ${describeValue(background)}`);
  }
  if (estimate !== undefined && typeof estimate !== 'function') {
    throw new TypeError(`Expected \`estimate\` to be a function, got ${describeValue(estimate)}`);
  }
  if (cancelOnAbort !== undefined && typeof cancelOnAbort !== 'boolean') {
    throw new TypeError(`Expected \`cancelOnAbort\` to be a boolean, got ${describeValue(cancelOnAbort)}`);
  }
  if (typeof handler !== 'function') {
    throw new TypeError(`Expected \`handler\` to be a function, got ${describeValue(handler)}`);
  }
  return {
    sdkConfig,
    options: { waitMs, background, estimate, cancelOnAbort, redeliver } as LongRunningOptions<never>,
  };
}

const REDELIVER_TOOL_KEYS = new Set(['attempts', 'backoffMs']);

/**
 * The redeliverable tools of each executor, by name: the latest registration of a name (each
 * session's server registers its tools again) is the one a run again calls. The job is defined
 * on the executor once per name.
 */
const toolJobs = new WeakMap<object, Map<string, LongRunningTool>>();

function defineToolJob(executor: OperationTools['executor'], tool: LongRunningTool): void {
  let tools = toolJobs.get(executor);
  if (tools === undefined) {
    tools = new Map();
    toolJobs.set(executor, tools);
  }
  if (!tools.has(tool.name)) {
    const byName = tools;
    executor.defineJob(
      tool.name,
      (args, context, run) => {
        const latest = byName.get(tool.name) ?? tool;
        return latest.work(args, run.owner, undefined, run.attempt)(context);
      },
      { resultError: toolErrorOf },
    );
  }
  // Once defined (a definition that threw leaves nothing behind, so the next registration tries again).
  tools.set(tool.name, tool);
}

/**
 * How a call may hand its work over as a task of the tasks extension (SDK v2, a 2026-07-28 request
 * whose client declared it) instead of answering "running" for continue_operation.
 */
export interface TaskHandOff {
  /** Hand over at once, without waiting (a tool that runs only as a task). */
  readonly atOnce: boolean;
  /**
   * The call's answer for work that outlived its wait: the task (stored before it is answered);
   * `undefined` to answer "running" after all (the store no longer has it).
   */
  answer(running: RunningResult): Promise<CallToolResult | undefined> /**
   * Why this call's client cannot answer an input request of `method` (it did not declare the
   * capability), or `undefined` when it can.
   */;
  inputRefusal(method: string): string | undefined;
}

/** One long-running tool: its work, and what a call to it answers. */
export class LongRunningTool {
  readonly name: string;
  readonly #tools: OperationTools;
  readonly #options: LongRunningOptions<never>;
  readonly #handler: (args: unknown, context: LongRunningContext) => ToolAnswer;
  readonly #checkOutput: OutputCheck | undefined;

  /**
   * @param handler - the tool's handler, called with its parsed arguments (`undefined` for a tool
   *   without input) and a {@link LongRunningContext}
   * @param checkOutput - the output schema's check, for a tool that has one
   */
  constructor(
    tools: OperationTools,
    name: string,
    options: LongRunningOptions<never>,
    handler: (args: unknown, context: LongRunningContext) => ToolAnswer,
    checkOutput: OutputCheck | undefined,
  ) {
    this.#tools = tools;
    this.name = name;
    this.#options = options;
    this.#handler = handler;
    this.#checkOutput = checkOutput;
    if (options.redeliver !== undefined) defineToolJob(tools.executor, this);
  }

  /** `execute()`'s `redeliver` for a call with `args`, for a redeliverable tool. */
  #redeliverOf(args: unknown): { redeliver?: RedeliverOptions } {
    const declared = this.#options.redeliver;
    if (declared === undefined) return {};
    return { redeliver: { ...(declared === true ? {} : declared), job: this.name, args } };
  }

  /**
   * A plain call: the tool's result within the wait budget, else "running" with the operation id,
   * or the task when the call may be handed over as one (`task`).
   */
  async answer(args: unknown, call: ToolCall, task?: TaskHandOff): Promise<CallToolResult> {
    const refused = refuseBadMeta(call);
    if (refused !== undefined) return refused;
    const forwarder = new ProgressForwarder(call.progress, this.#tools.forwarding);
    const { waitMs, background, estimate, cancelOnAbort } = this.#options;
    try {
      const result = await this.#tools.executor.execute(this.work(args, call.owner, task), {
        type: this.name,
        owner: call.owner,
        signal: call.signal,
        onProgress: (progress) => forwarder.send(progress),
        resultError: toolErrorOf,
        ...this.#redeliverOf(args),
        ...(task?.atOnce === true
          ? { waitMs: 0 }
          : {
              ...(background === undefined ? {} : { background, estimateMs: estimateOf(estimate, args) }),
              ...(waitMs === undefined ? {} : { waitMs }),
            }),
        ...(cancelOnAbort === true ? { cancelOnAbort } : {}),
      });
      if (result.status !== 'running') return finishedToolResult(result);
      // The work runs under its id whatever happens now: a task that cannot be answered (its read
      // back failed) is answered "running" instead, never "could not start".
      const asTask = await task?.answer(result).catch(() => undefined);
      return asTask ?? runningToolResult(result, this.#tools.names, this.#checkOutput === undefined);
    } catch (error) {
      return errorToolResult(
        `Tool ${this.name} could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      forwarder.close();
    }
  }

  /**
   * Starts the work in the background at once (a native task's creation), reporting progress to
   * `onProgress`. Rejects only when the executor refuses the work.
   */
  start(
    args: unknown,
    owner: string | undefined,
    onProgress: (progress: Progress) => void,
  ): Promise<OperationResult<CallToolResult>> {
    return this.#tools.executor.execute(this.work(args, owner), {
      type: this.name,
      owner,
      waitMs: 0,
      onProgress,
      resultError: toolErrorOf,
      ...this.#redeliverOf(args),
    });
  }

  /**
   * The work of one call, as an operation: the handler, its result checked. Its input goes to the
   * client through the task `task` hands the call over as; without one, no input can be had.
   * `attempt` is which run it is (a redeliverable tool's run again on another replica: 2 and up).
   */
  work(
    args: unknown,
    owner: string | undefined,
    task?: TaskHandOff,
    attempt = 1,
  ): OperationFunction<CallToolResult> {
    return async (context: OperationContext): Promise<CallToolResult> => {
      const input = async (request: InputRequest): Promise<Record<string, unknown>> => {
        const checked = checkToolInputRequest(request);
        const refusal = task === undefined ? NO_TASK_INPUT : task.inputRefusal(checked.method);
        if (refusal !== undefined) throw new InputUnavailableError(refusal);
        return (await context.input({ ...checked })) as Record<string, unknown>;
      };
      const toolContext: LongRunningContext = {
        get signal() {
          return context.signal;
        },
        get operationId() {
          return context.operationId;
        },
        progress: context.progress,
        owner,
        attempt,
        input,
        elicit: (params) => input({ method: 'elicitation/create', params }) as Promise<ElicitResult>,
      };
      const answer = checkHandlerResult(this.name, await this.#handler(args, toolContext));
      return this.#checkSize(await this.#checkStructured(answer));
    };
  }

  /**
   * What a synchronous call would have answered for a tool with an output schema: the SDKs refuse
   * a successful result without matching `structuredContent`. Checked when the work completes, so
   * that `continue_operation` hands out exactly that answer too.
   */
  async #checkStructured(result: CallToolResult): Promise<CallToolResult> {
    if (this.#checkOutput === undefined || result.isError === true) return result;
    if (result.structuredContent === undefined) {
      return errorToolResult(
        `Output validation error: Tool ${this.name} has an output schema but no structured content was provided`,
      );
    }
    const problem = await this.#checkOutput(result.structuredContent);
    if (problem === undefined) return result;
    return errorToolResult(
      `Output validation error: Invalid structured content for tool ${this.name}: ${problem}`,
    );
  }

  /** A result past `maxResultBytes` (in JSON, as it is kept and sent) becomes an error naming both sizes. */
  #checkSize(result: CallToolResult): CallToolResult {
    const max = this.#tools.maxResultBytes;
    if (max === Number.POSITIVE_INFINITY) return result;
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(result));
    } catch (error) {
      return errorToolResult(
        `Tool ${this.name} returned a result that cannot be sent as JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return bytes <= max
      ? result
      : errorToolResult(
          `Tool ${this.name} returned ${bytes} bytes, more than the ${max} allowed (maxResultBytes); the result was dropped`,
        );
  }
}

/** Why a call that cannot become a task of the tasks extension has no way to answer input. */
const NO_TASK_INPUT =
  'the client that called this tool cannot answer input during the work: that takes the tasks extension (io.modelcontextprotocol/tasks), declared by the request on protocol 2026-07-28';

/** The error a tool result reports (`isError`): its text, for the record to keep; else undefined. */
function toolErrorOf(result: CallToolResult): string | undefined {
  if (result.isError !== true) return undefined;
  const text = result.content.find((block) => block.type === 'text');
  return typeof text?.text === 'string' ? text.text : 'The tool reported an error.';
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
