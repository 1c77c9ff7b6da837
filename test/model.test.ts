// Model-based testing: fast-check draws random sequences of execute, settle, continue, cancel, get,
// list, stop and advancing (fake) time, runs them against a real Executor and against a reference
// model of a few lines, and checks after every step that the two agree:
// - a terminal state is final (a late settle changes nothing);
// - every wait wakes exactly when the model says: at the operation's end, else at its deadline,
//   never before and never lost;
// - no operation is in two states: get(), list() and cancel() answer the model's status, and
//   startedAt/finishedAt to the millisecond;
// - nothing is retained past retention: at the end, past retention, get/list/store hold nothing,
//   and after stop() no timer is left.
// The number of sequences and the seed are printed; FC_SEED / FC_RUNS replay or widen a run.
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  Executor,
  ExecutorStoppedError,
  MemoryStore,
  NonErrorThrownError,
  OperationLifetimeError,
  OperationNotFoundError,
  type OperationResult,
  type OperationStatus,
} from '../src/index.js';
import { type Deferred, deferred } from './helpers.js';

// Times are chosen so that no two kinds of event can fall on the same millisecond: steps and waits
// are multiples of 50 ms, the lifetime and the retention are not.
const LIFETIME = 10_007;
const RETENTION = 3_001;
const CLEANUP = 1_000;
const OWNERS = ['alice', 'bob'] as const;
type Owner = (typeof OWNERS)[number];

interface ModelOp {
  readonly id: string;
  readonly owner: Owner;
  readonly startedAt: number;
  readonly work: Deferred<unknown>;
  status: OperationStatus;
  finishedAt: number | undefined;
}

interface Wait {
  readonly op: ModelOp;
  readonly deadline: number;
  result: OperationResult | undefined;
  resolutions: number;
}

interface Model {
  now: number;
  ops: ModelOp[];
  waits: Wait[];
  stopped: boolean;
}

interface Real {
  executor: Executor;
  store: MemoryStore;
}

/** The model's view of an operation for `owner` at `now`: undefined when not visible. */
function visible(model: Model, op: ModelOp, owner: Owner): ModelOp | undefined {
  if (op.owner !== owner) return undefined;
  if (op.finishedAt !== undefined && op.finishedAt + RETENTION <= model.now) return undefined;
  return op;
}

/** The operation a command's drawn index picks among those started so far (commands check there is one). */
function opAt(model: Model, index: number): ModelOp {
  return model.ops[index % model.ops.length]!;
}

/** Runs every promise reaction queued (the memory store answers synchronously). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Moves the model's clock to `to`, applying lifetimes in time order. */
function advanceModel(model: Model, to: number): void {
  for (const op of model.ops) {
    const end = op.startedAt + LIFETIME;
    if (op.status === 'running' && end <= to) {
      op.status = 'failed';
      op.finishedAt = end;
    }
  }
  model.now = to;
}

/** Every wait has woken exactly when the model says, or is still waiting when it should be. */
function checkWaits(model: Model): void {
  for (const wait of model.waits) {
    const { op, deadline } = wait;
    const endedAt = op.finishedAt;
    if (endedAt !== undefined && endedAt <= deadline) {
      expect(wait.result?.status, `wait on ${op.id} after its end (${op.status})`).toBe(op.status);
    } else if (deadline <= model.now) {
      expect(wait.result?.status, `wait on ${op.id} past its deadline`).toBe('running');
    } else {
      expect(wait.result, `wait on ${op.id} before its end or deadline`).toBeUndefined();
    }
    expect(wait.resolutions).toBeLessThanOrEqual(1);
  }
  // Woken waits are done with.
  model.waits = model.waits.filter((wait) => wait.result === undefined);
}

async function expectStopped(call: () => Promise<unknown>): Promise<void> {
  await expect(call()).rejects.toBeInstanceOf(ExecutorStoppedError);
}

class Start implements fc.AsyncCommand<Model, Real> {
  constructor(readonly owner: Owner) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const work = deferred<unknown>();
    if (model.stopped) return expectStopped(() => real.executor.execute(() => work.promise));
    const result = await real.executor.execute(() => work.promise, { waitMs: 0, owner: this.owner });
    expect(result.status).toBe('running');
    model.ops.push({
      id: result.id!,
      owner: this.owner,
      startedAt: model.now,
      work,
      status: 'running',
      finishedAt: undefined,
    });
  }
  toString = () => `start(${this.owner})`;
}

class Inline implements fc.AsyncCommand<Model, Real> {
  constructor(readonly value: number) {}
  check = (model: Readonly<Model>) => !model.stopped;
  async run(_model: Model, real: Real): Promise<void> {
    // The fast path: done within the wait, answered inline, no id, nothing retained.
    const size = real.store.size;
    const result = await real.executor.execute(() => this.value, { waitMs: 100, owner: 'alice' });
    expect(result).toMatchObject({ status: 'completed', result: this.value, id: undefined });
    expect(real.store.size).toBe(size);
  }
  toString = () => `inline(${this.value})`;
}

class Settle implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly how: 'resolve' | 'reject' | 'throw-string',
  ) {}
  check = (model: Readonly<Model>) => model.ops.length > 0;
  async run(model: Model, _real: Real): Promise<void> {
    const op = opAt(model, this.index);
    if (this.how === 'resolve') op.work.resolve({ value: op.id });
    else op.work.reject(this.how === 'reject' ? new Error(`failed ${op.id}`) : `thrown ${op.id}`);
    await flush();
    // The first terminal state is final: a settle after a cancel, a lifetime or a stop is discarded.
    if (op.status === 'running') {
      op.status = this.how === 'resolve' ? 'completed' : 'failed';
      op.finishedAt = model.now;
    }
  }
  toString = () => `settle(#${this.index}, ${this.how})`;
}

class Continue implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly asOwner: Owner,
    readonly waitMs: number,
  ) {}
  check = (model: Readonly<Model>) => model.ops.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const op = opAt(model, this.index);
    if (model.stopped) return expectStopped(() => real.executor.continue(op.id, { waitMs: this.waitMs }));
    const seen = visible(model, op, this.asOwner);
    const answer = real.executor.continue(op.id, { waitMs: this.waitMs, owner: this.asOwner });
    if (seen === undefined) {
      await expect(answer).rejects.toBeInstanceOf(OperationNotFoundError);
      return;
    }
    const wait: Wait = { op, deadline: model.now + this.waitMs, result: undefined, resolutions: 0 };
    void answer.then((result) => {
      wait.resolutions++;
      wait.result = result;
    });
    await flush();
    if (op.status !== 'running' || this.waitMs === 0) {
      expect(wait.result?.status).toBe(op.status);
      if (op.status === 'failed') {
        const error = (wait.result as { error: Error }).error;
        if (op.finishedAt === op.startedAt + LIFETIME) expect(error).toBeInstanceOf(OperationLifetimeError);
        else if (!(error instanceof Error && error.message === `failed ${op.id}`)) {
          expect(error).toBeInstanceOf(NonErrorThrownError);
        }
      }
      return;
    }
    model.waits.push(wait);
  }
  toString = () => `continue(#${this.index}, as ${this.asOwner}, ${this.waitMs} ms)`;
}

class Cancel implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly asOwner: Owner,
  ) {}
  check = (model: Readonly<Model>) => model.ops.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const op = opAt(model, this.index);
    if (model.stopped) return expectStopped(() => real.executor.cancel(op.id));
    const seen = visible(model, op, this.asOwner);
    const answer = real.executor.cancel(op.id, { owner: this.asOwner });
    if (seen === undefined) {
      await expect(answer).rejects.toBeInstanceOf(OperationNotFoundError);
      return;
    }
    const snapshot = await answer;
    await flush();
    if (op.status === 'running') {
      op.status = 'cancelled';
      op.finishedAt = model.now;
    }
    expect(snapshot.operation.status).toBe(op.status);
    expect(snapshot.operation.finishedAt).toBe(op.finishedAt);
  }
  toString = () => `cancel(#${this.index}, as ${this.asOwner})`;
}

class Get implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly asOwner: Owner,
  ) {}
  check = (model: Readonly<Model>) => model.ops.length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const op = opAt(model, this.index);
    if (model.stopped) return expectStopped(() => real.executor.get(op.id));
    const seen = visible(model, op, this.asOwner);
    const snapshot = await real.executor.get(op.id, { owner: this.asOwner });
    if (seen === undefined) {
      expect(snapshot).toBeUndefined();
      return;
    }
    expect(snapshot).toMatchObject({
      id: op.id,
      owner: op.owner,
      status: op.status,
      startedAt: op.startedAt,
      finishedAt: op.finishedAt,
    });
  }
  toString = () => `get(#${this.index}, as ${this.asOwner})`;
}

class List implements fc.AsyncCommand<Model, Real> {
  constructor(readonly asOwner: Owner) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (model.stopped) return expectStopped(() => real.executor.list({ owner: this.asOwner }));
    const listed = await real.executor.list({ owner: this.asOwner });
    const expected = model.ops.filter((op) => visible(model, op, this.asOwner) !== undefined);
    expect(listed.operations.map((s) => [s.id, s.status]).sort()).toEqual(
      expected.map((op) => [op.id, op.status]).sort(),
    );
  }
  toString = () => `list(as ${this.asOwner})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, _real: Real): Promise<void> {
    await vi.advanceTimersByTimeAsync(this.ms);
    await flush();
    advanceModel(model, model.now + this.ms);
  }
  toString = () => `advance(${this.ms} ms)`;
}

class Stop implements fc.AsyncCommand<Model, Real> {
  check = (model: Readonly<Model>) => !model.stopped;
  async run(model: Model, real: Real): Promise<void> {
    await real.executor.stop();
    await flush();
    for (const op of model.ops) {
      if (op.status === 'running') {
        op.status = 'cancelled';
        op.finishedAt = model.now;
      }
    }
    model.stopped = true;
  }
  toString = () => 'stop()';
}

const owner = fc.constantFrom(...OWNERS);
// Few operations, so that calls meet on the same one (several waits on one operation, a cancel
// racing a settle); index picks among the operations started so far.
const index = fc.nat(3);
const settle = fc
  .tuple(index, fc.constantFrom('resolve', 'reject', 'throw-string') as fc.Arbitrary<Settle['how']>)
  .map(([i, how]) => new Settle(i, how));
const continuation = fc
  .tuple(
    index,
    owner,
    fc.integer({ min: 0, max: 40 }).map((n) => n * 50),
  )
  .map(([i, o, ms]) => new Continue(i, o, ms));
const commands = fc.commands(
  [
    owner.map((o) => new Start(o)),
    fc.integer({ min: 0, max: 9 }).map((v) => new Inline(v)),
    settle,
    continuation,
    continuation, // listed twice: waits are what most of the invariants are about
    fc.tuple(index, owner).map(([i, o]) => new Cancel(i, o)),
    fc.tuple(index, owner).map(([i, o]) => new Get(i, o)),
    owner.map((o) => new List(o)),
    fc.integer({ min: 1, max: 40 }).map((n) => new Advance(n * 50)),
    // stop() ends everything that follows: one draw in twenty, so that most sequences run long.
    fc.tuple(fc.nat(19), owner).map(([n, o]) => (n === 0 ? new Stop() : new List(o))),
  ],
  { maxCommands: 40, size: 'max' },
);

const RUNS = Number(process.env.FC_RUNS ?? 3000);
const SEED = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
let sequences = 0;

describe('the executor against its reference model', () => {
  afterAll(() => {
    console.log(
      `model-based: ${sequences} sequences of up to 40 steps passed, seed ${SEED} (replay: FC_SEED=${SEED})`,
    );
  });

  it('agrees with the model on every random sequence of calls and time', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        vi.useFakeTimers({ now: 1_000_000 });
        const store = new MemoryStore();
        const executor = new Executor({
          store,
          maxLifetimeMs: LIFETIME,
          retentionMs: RETENTION,
          sweepIntervalMs: CLEANUP,
          maxWaitMs: 60_000,
        });
        const model: Model = { now: Date.now(), ops: [], waits: [], stopped: false };
        try {
          await fc.asyncModelRun(
            () => ({ model, real: { executor, store } }),
            [...cmds].map((cmd) => ({
              check: (m: Readonly<Model>) => cmd.check(m),
              run: async (m: Model, r: Real) => {
                await cmd.run(m, r);
                checkWaits(m);
              },
              toString: () => cmd.toString(),
            })),
          );
          if (!model.stopped) {
            // Past every lifetime and retention, and a sweep: nothing is left anywhere.
            await vi.advanceTimersByTimeAsync(LIFETIME + RETENTION + CLEANUP + 50);
            await flush();
            advanceModel(model, model.now + LIFETIME + RETENTION + CLEANUP + 50);
            checkWaits(model);
            for (const o of OWNERS) expect((await executor.list({ owner: o })).operations).toEqual([]);
            expect(store.size).toBe(0);
          }
          await executor.stop();
          // Every wait woke (stop() ends them too); no timer is left to keep a process alive.
          await flush();
          for (const wait of model.waits) expect(wait.resolutions).toBe(1);
          expect(vi.getTimerCount()).toBe(0);
          sequences++;
        } finally {
          for (const op of model.ops) op.work.resolve(undefined);
          await executor.stop();
          vi.useRealTimers();
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  }, 600_000);
});
