// The queue that hands redeliverable operations to a live replica: BullMQ, on the same Redis.
//
// RedisStore keeps the records and watches the replicas (its lease and reaper: one liveness design
// for every operation, closures included, which no queue can run again). When a replica dies
// running redeliverable work, or hands it back while stopping, the store marks the record queued
// and adds a job here; BullMQ hands each job to exactly one worker, after its backoff delay, and
// hands it to another if that worker dies before taking it (BullMQ's stalled-job check). Taking it
// is the store's compare-and-set (a record queued for this very run): from then on the replica's
// lease watches the work, as for any operation. A job is only the message "run <id> again", so it
// completes as soon as a replica has taken it.

import { createClient, type RedisClientType } from '@redis/client';
import type { Job, Queue, Worker } from 'bullmq';
import pTimeout from 'p-timeout';

/** What a job carries: which operation, and which run of it (so that a stale job takes nothing). */
interface RedeliveryJob {
  readonly id: string;
  readonly run: number;
}

/** BullMQ's queue, and the one kind of job in it. */
const QUEUE_NAME = 'redeliveries';
const JOB_NAME = 'run';
/** How many jobs a replica takes at once (each is one compare-and-set, the work then runs apart). */
const CONCURRENCY = 8;
/** How long the worker waits after a connection error before it asks for jobs again. */
const RETRY_AFTER_ERROR_MS = 1000;
/** Tries to deliver one job (a failed take: Redis unreachable), with a backoff from 500 ms. */
const DELIVERY_TRIES = 20;

/** A BullMQ queue or worker, with the connection that is its alone. */
interface Part<P extends Queue<RedeliveryJob> | Worker<RedeliveryJob>> {
  readonly part: P;
  readonly client: RedisClientType;
}

/**
 * BullMQ's queue of operations to run again, and this replica's worker taking them. The queue is
 * opened on first use (a store whose work is never redeliverable never opens it), the worker when
 * this replica starts serving.
 *
 * The queue and the worker each have a node-redis connection of their own, made for them and
 * ended with them, for three reasons, each seen with BullMQ 6.7 on node-redis 6:
 * - BullMQ's blocking reads must not share the store's command timeout; each call here is bounded
 *   by `timeoutMs` instead.
 * - A queue or worker closed leaves a listener on the connection it was given that throws the
 *   connection's next error (an uncaught exception: the process would crash, and the connection
 *   never reconnects). So a connection lives no longer than its part: see {@link release}.
 * - A part sets its connection up once, with a command of its own (INFO): should Redis go away
 *   before it answers, the part keeps that failure for good and fails every later call with it,
 *   the connection back or not (a worker then asks again at once, over and over, spinning a
 *   core). So a part is checked ready before use ({@link RedeliveryQueue.#ready}), and made anew
 *   if it is not.
 */
export class RedeliveryQueue {
  readonly #bullmq: typeof import('bullmq');
  readonly #url: string;
  readonly #prefix: string;
  readonly #stalledMs: number;
  readonly #timeoutMs: number;
  #queue: Promise<Part<Queue<RedeliveryJob>>> | undefined = undefined;
  /** What the worker calls for each job, while serving. */
  #take: ((id: string, run: number) => Promise<void>) | undefined = undefined;
  #worker: Promise<Part<Worker<RedeliveryJob>> | undefined> | undefined = undefined;
  #closed = false;

  private constructor(
    bullmq: typeof import('bullmq'),
    url: string,
    prefix: string,
    stalledMs: number,
    timeoutMs: number,
  ) {
    this.#bullmq = bullmq;
    this.#url = url;
    this.#prefix = `${prefix}bull`;
    this.#stalledMs = stalledMs;
    this.#timeoutMs = timeoutMs;
  }

  /** The queue, or why there can be none: the `bullmq` package is not installed. */
  static async load(
    url: string,
    prefix: string,
    stalledMs: number,
    timeoutMs: number,
  ): Promise<RedeliveryQueue | string> {
    try {
      const bullmq = await import('bullmq');
      return new RedeliveryQueue(bullmq, url, prefix, stalledMs, timeoutMs);
    } catch (error) {
      return `redelivery takes the bullmq package, which could not be loaded (npm install bullmq): ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /**
   * Queues run `run` of operation `id`, to be taken after `delayMs`. Adding the same run twice
   * queues it once (the job id is the operation id and the run).
   */
  async add(id: string, run: number, delayMs: number): Promise<void> {
    const adding = this.#openQueue().then(({ part: queue }) =>
      queue.add(
        JOB_NAME,
        { id, run },
        {
          jobId: `${id}.${run}`,
          delay: delayMs,
          attempts: DELIVERY_TRIES,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: true,
          removeOnFail: { age: 86_400 },
        },
      ),
    );
    await pTimeout(adding, {
      milliseconds: this.#timeoutMs,
      message: `queueing operation ${id} to run again timed out after ${this.#timeoutMs} ms`,
    });
  }

  /**
   * Makes sure run `run` of operation `id` is on its way: queued again at once unless BullMQ holds
   * its job still waiting, delayed or being taken (a job failed for good, or gone, is replaced).
   */
  async ensure(id: string, run: number): Promise<void> {
    const checking = this.#openQueue().then(async ({ part: queue }) => {
      const job = await queue.getJob(`${id}.${run}`);
      if (job === undefined) return true;
      const state = await job.getState();
      if (state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized')
        return false;
      await job.remove();
      return true;
    });
    const lost = await pTimeout(checking, {
      milliseconds: this.#timeoutMs,
      message: `checking the queued run of operation ${id} timed out after ${this.#timeoutMs} ms`,
    });
    if (lost) await this.add(id, run, 0);
  }

  /**
   * Takes jobs from now on: `take(id, run)` for each, once this replica's worker has it (made anew
   * every `stalledMs` while Redis cannot be reached). One executor per store serves: a second one
   * is refused.
   */
  serve(take: (id: string, run: number) => Promise<void>): void {
    if (this.#take !== undefined) {
      throw new Error('RedisStore: one executor per store runs redelivered work, and one already does');
    }
    this.#take = take;
    this.#startWorker();
  }

  /**
   * Takes no more jobs: a job being taken is finished first, unless Redis does not answer within
   * the time limit (an outage): then the worker is closed without waiting, its job left to the
   * stalled-job check of another replica.
   */
  async stopServing(): Promise<void> {
    this.#take = undefined;
    const worker = await this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) await this.#end(worker, false);
  }

  /** Closes the worker, the queue and their connections, waiting no longer than the time limit for Redis. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.stopServing();
    const queue = await this.#queue?.catch(() => undefined);
    this.#queue = undefined;
    if (queue !== undefined) await this.#end(queue, false);
  }

  /** The BullMQ queue, opened once (and again on the next use, if that failed). */
  #openQueue(): Promise<Part<Queue<RedeliveryJob>>> {
    // A requeue or hand-back still under way when the store closed: no new connection for it.
    if (this.#closed) return Promise.reject(new Error('RedisStore: the store is closed'));
    this.#queue ??= this.#make(
      (connection) => new this.#bullmq.Queue<RedeliveryJob>(QUEUE_NAME, connection),
    ).catch((error: unknown) => {
      this.#queue = undefined;
      throw error;
    });
    return this.#queue;
  }

  #startWorker(): void {
    const take = this.#take;
    if (take === undefined || this.#closed) return;
    const making = this.#make(
      (connection) =>
        new this.#bullmq.Worker<RedeliveryJob>(
          QUEUE_NAME,
          (job: Job<RedeliveryJob>) => {
            // A job that reaches a worker being stopped fails, so that BullMQ hands it to another.
            if (this.#take !== take) throw new Error('this replica no longer takes redelivered work');
            return take(job.data.id, job.data.run);
          },
          {
            ...connection,
            autorun: false, // run once its connections are set up (see #ready)
            concurrency: CONCURRENCY,
            // A worker that died holding a job (before taking the operation): the job goes to
            // another within about this long.
            lockDuration: this.#stalledMs,
            stalledInterval: this.#stalledMs,
            maxStalledCount: DELIVERY_TRIES,
            // After a connection error BullMQ waits this long before it asks for jobs again (15 s by
            // default): Redis back, a queued run would sit out the rest of it.
            runRetryDelay: RETRY_AFTER_ERROR_MS,
          },
        ),
    );
    this.#worker = making.then(
      (worker) => {
        if (this.#take !== take) {
          void this.#end(worker, true); // stopped meanwhile
          return undefined;
        }
        // run() ends with close() only; should it end otherwise, a new worker takes over.
        const ended = () => {
          if (this.#take !== take) return;
          void this.#end(worker, true);
          this.#startLater(take);
        };
        void worker.part.run().then(ended, ended);
        return worker;
      },
      () => {
        this.#startLater(take); // Redis unreachable, most likely
        return undefined;
      },
    );
  }

  /** A new worker in a while, if this replica still serves. */
  #startLater(take: (id: string, run: number) => Promise<void>): void {
    setTimeout(() => {
      if (this.#take === take && !this.#closed) this.#startWorker();
    }, this.#stalledMs).unref();
  }

  /** A connection of its own, and `build` on it: ready (see {@link #ready}), or ended and rejected. */
  async #make<P extends Queue<RedeliveryJob> | Worker<RedeliveryJob>>(
    build: (connection: { connection: never; prefix: string }) => P,
  ): Promise<Part<P>> {
    const client = createClient({ url: this.#url }) as RedisClientType;
    client.on('error', () => undefined); // reconnects by itself; a call that fails rejects
    let made: Part<P> | undefined;
    try {
      await pTimeout(client.connect(), { milliseconds: this.#timeoutMs });
      const part = build({ connection: client as never, prefix: this.#prefix });
      (part as Queue<RedeliveryJob>).on('error', () => undefined); // connection errors: BullMQ reconnects; a failed call rejects
      made = { part, client };
      await this.#ready(part);
      return made;
    } catch (error) {
      if (made !== undefined) await this.#end(made, true);
      else release(client, 0);
      throw error;
    }
  }

  /** Resolves once `part` has set its connections up, within the time limit. */
  async #ready(part: Queue<RedeliveryJob> | Worker<RedeliveryJob>): Promise<void> {
    await pTimeout(part.waitUntilReady(), {
      milliseconds: this.#timeoutMs,
      message: `BullMQ's connection to Redis was not set up within ${this.#timeoutMs} ms`,
    });
  }

  /**
   * Closes `part` (a worker finishes the job it is taking, unless `force`), within the time limit,
   * then its connection.
   */
  async #end(made: Part<Queue<RedeliveryJob> | Worker<RedeliveryJob>>, force: boolean): Promise<void> {
    const { part, client } = made;
    const forced = () => void part.close(true).catch(() => undefined);
    await pTimeout(part.close(force), { milliseconds: this.#timeoutMs, fallback: forced }).catch(
      () => undefined,
    );
    await release(client, this.#timeoutMs);
  }
}

/**
 * Ends a connection that a BullMQ part had: the listeners the part left on it go first (one of
 * them throws the connection's next error), then QUIT within `timeoutMs` when connected, else
 * the connection is dropped.
 */
async function release(client: RedisClientType, timeoutMs: number): Promise<void> {
  client.removeAllListeners('error');
  client.on('error', () => undefined);
  if (!client.isReady) return client.destroy();
  const quit = client.quit().catch(() => undefined);
  await pTimeout(quit, { milliseconds: timeoutMs, fallback: () => client.destroy() });
}
