import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { OperationContext, OperationFunction } from '../index.js';
import { checkCount, checkOptions, describeValue } from '../validate.js';

const OPTION_KEYS = new Set(['maxThreads', 'minThreads', 'idleTimeoutMs']);
const TASK_KEYS = new Set(['module', 'exportName']);

/**
 * What a worker module's export receives besides its input: `progress(current, total?, message?)`
 * is forwarded to the operation on the main thread.
 */
export interface WorkerContext {
  /** Reports progress; it crosses to the main thread and lands in the operation's progress. */
  progress(current: number, total?: number, message?: string): void;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /**
   * Most worker threads at once.
   * @defaultValue the number of CPUs (Piscina's default)
   */
  maxThreads?: number | undefined;
  /**
   * Threads kept ready even when idle.
   * @defaultValue 0
   */
  minThreads?: number | undefined;
  /**
   * How long an idle thread above `minThreads` lives.
   * @defaultValue 10_000
   */
  idleTimeoutMs?: number | undefined;
}

/** Where the work of an operation is, in a worker: a module and one of its exports. */
export interface WorkerTask {
  /** The module, as a `file:` URL or an absolute path. Plain JavaScript, or whatever the worker can load. */
  readonly module: URL | string;
  /** The export to call: `(input, { progress }) => result`, sync or async. */
  readonly exportName: string;
}

/**
 * Runs CPU-bound operations in worker threads, through a Piscina pool, so that the event loop
 * keeps answering `continue`, `cancel` and `list` while they compute. Cancelling the operation
 * (its AbortSignal) terminates the worker thread running it.
 *
 * ```ts
 * const pool = new WorkerPool();
 * await executor.execute(pool.task({ module: new URL('./hash.mjs', import.meta.url), exportName: 'hashFile' }, path), { type: 'hash' });
 * ```
 */
export class WorkerPool {
  readonly #piscina: Piscina;

  /** @param options - see {@link WorkerPoolOptions} */
  constructor(options?: WorkerPoolOptions) {
    const o = checkOptions('the options of new WorkerPool()', options, OPTION_KEYS);
    const settings: Record<string, number> = { idleTimeout: 10_000, minThreads: 0 };
    for (const name of ['maxThreads', 'minThreads'] as const) {
      if (o[name] !== undefined) settings[name] = checkCount(name, o[name], name === 'maxThreads' ? 1 : 0);
    }
    if (o.idleTimeoutMs !== undefined) settings.idleTimeout = checkCount('idleTimeoutMs', o.idleTimeoutMs, 0);
    this.#piscina = new Piscina({
      filename: new URL('./worker-entry.mjs', import.meta.url).href,
      ...settings,
    });
  }

  /**
   * Runs `task` with `input` in a worker. `context.signal` terminates it; progress it reports goes
   * to `context.progress`. Answers (or throws) what the export returned (or threw); the input and
   * the result cross threads by structured clone.
   */
  async run<T>(
    task: WorkerTask,
    input: unknown,
    context?: Partial<Pick<OperationContext, 'signal' | 'progress'>>,
  ): Promise<T> {
    const moduleUrl = moduleUrlOf(task);
    const exportName = checkExportName(task.exportName);
    const { port1, port2 } = new MessageChannel();
    const progress = context?.progress;
    if (progress !== undefined) {
      port1.on(
        'message',
        ({ current, total, message }: { current: number; total?: number; message?: string }) => {
          try {
            progress(current, total, message);
          } catch {
            // a bad progress value from the worker is dropped, not fatal to the work
          }
        },
      );
    }
    try {
      return (await this.#piscina.run(
        { moduleUrl, exportName, input, port: port2 },
        { transferList: [port2], ...(context?.signal === undefined ? {} : { signal: context.signal }) },
      )) as T;
    } finally {
      port1.close();
    }
  }

  /** The operation function for `executor.execute()` that runs `task` with `input` in a worker. */
  task<T>(task: WorkerTask, input: unknown): OperationFunction<T> {
    moduleUrlOf(task);
    checkExportName(task.exportName);
    return (context) => this.run<T>(task, input, context);
  }

  /** Threads running now. */
  get threads(): number {
    return this.#piscina.threads.length;
  }

  /** Stops every worker thread; running tasks are rejected. */
  async close(): Promise<void> {
    await this.#piscina.close({ force: true });
  }
}

function moduleUrlOf(task: WorkerTask): string {
  checkOptions('`task` (a WorkerTask)', task, TASK_KEYS);
  const module = task.module;
  if (module instanceof URL) return module.href;
  if (typeof module === 'string' && module.startsWith('file:')) return module;
  if (typeof module === 'string' && module.startsWith('/')) return pathToFileURL(module).href;
  throw new TypeError(
    `Expected \`task.module\` to be a file: URL or an absolute path, got ${describeValue(module)}`,
  );
}

function checkExportName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`Expected \`task.exportName\` to be a non-empty string, got ${describeValue(name)}`);
  }
  return name;
}
