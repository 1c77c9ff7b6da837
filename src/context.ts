// What the work receives: its signal, its id, its progress reporter (each made on first use) and a
// way to ask for input.
// (most work never asks for an id, and a signal costs about 5 µs to create).

import type { LocalOperation } from './operation.js';
import { parseInput } from './options.js';
import { createProgressReporter, type ProgressReporter } from './progress.js';
import type { InputOptions, OperationContext } from './types.js';

/** What the context asks of the executor. */
export interface ContextHost {
  /** Makes the operation findable by id (reading `operationId` does). */
  publish(op: LocalOperation): void;
  /** Records a progress report, checking its values. */
  report(op: LocalOperation, current: unknown, total: unknown, message: unknown): void;
  /** Asks for input (see input.ts). */
  input(op: LocalOperation, request: unknown, signal: AbortSignal | undefined): Promise<unknown>;
}

/** The {@link OperationContext} of one operation. */
export class Context implements OperationContext {
  readonly #op: LocalOperation;
  readonly #host: ContextHost;
  #progress: ProgressReporter | undefined = undefined;
  #input: OperationContext['input'] | undefined = undefined;

  constructor(op: LocalOperation, host: ContextHost) {
    this.#op = op;
    this.#host = host;
  }

  get signal(): AbortSignal {
    return this.#op.signal;
  }

  get operationId(): string {
    this.#host.publish(this.#op);
    // An operation that ended before its id was asked for is not published, but still named.
    return this.#op.id!;
  }

  get progress(): ProgressReporter {
    this.#progress ??= createProgressReporter((current, total, message) =>
      this.#host.report(this.#op, current, total, message),
    );
    return this.#progress;
  }

  // A getter making a bound function, as `progress`: work destructures its context.
  get input(): OperationContext['input'] {
    this.#input ??= (request: Readonly<Record<string, unknown>>, options?: InputOptions) => {
      try {
        return this.#host.input(this.#op, request, parseInput(options).signal);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return this.#input;
  }
}
