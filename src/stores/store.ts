/**
 * The seam between the executor and wherever operation records live.
 *
 * @module
 */
import type { Awaitable } from '../awaitable.js';
import type { OperationStatus, Progress, TerminalStatus } from '../types.js';

export type { Awaitable } from '../awaitable.js';

/**
 * One operation as a store keeps it. The executor creates records and never mutates one it has
 * handed to a store; a store may return the very object it was given (the memory store does) or an
 * equivalent copy (a store that serialises), so readers treat records as immutable.
 */
export interface OperationRecord {
  /** 128-bit URL-safe id, unique across every store and process. */
  readonly id: string;
  /** The operation type given to `execute()`. */
  readonly type: string;
  /** The owner given to `execute()`; `undefined` is itself an owner (the unowned one). */
  readonly owner: string | undefined;
  /** Where the operation stands; terminal statuses are final. */
  readonly status: OperationStatus;
  /** When the work started, epoch milliseconds: the order `list()` goes by (newest first). */
  readonly startedAt: number;
  /** Epoch milliseconds; set with the terminal status. */
  readonly finishedAt: number | undefined;
  /** Epoch milliseconds after which the record is gone; set with the terminal status. */
  readonly expiresAt: number | undefined;
  /** The work's return value, for `completed`. */
  readonly result: unknown;
  /**
   * For `completed`: the error the result reports of its own, as a message (see
   * `ExecuteOptions.resultError`); `undefined` when it reports none.
   */
  readonly resultError: string | undefined;
  /** Why, for `failed` and `cancelled`. */
  readonly error: Error | undefined;
  /** The latest progress reported. */
  readonly progress: Progress | undefined;
  /**
   * The input the work has asked for and nobody has answered yet, by key (see
   * {@link OperationStore.requestInput}); `undefined` or empty when it waits for none. Only a
   * running record has any.
   */
  readonly inputRequests?: Readonly<Record<string, unknown>> | undefined;
  /**
   * How the work can be run again elsewhere, for work declared redeliverable (see
   * `ExecuteOptions.redeliver`); `undefined` for any other.
   */
  readonly redelivery?: Redelivery | undefined;
  /** For redeliverable work: which run this is, from 1 (the first) up. */
  readonly attempt?: number | undefined;
}

/**
 * What a store needs to run a redeliverable operation again on another process: the job to run
 * (defined there by `Executor.defineJob`), its arguments, and how often and when.
 */
export interface Redelivery {
  /** The name of the job, as `defineJob` defined it on every process. */
  readonly job: string;
  /** The job's arguments, a JSON value. */
  readonly args: unknown;
  /** Runs in all, the first included, that a loss (its process died) may start. */
  readonly attempts: number;
  /** The wait before the first run again, doubled for each one after it, in milliseconds. */
  readonly backoffMs: number;
  /**
   * The work's lifetime from its first start (the executor's `maxLifetimeMs`; none when
   * unlimited): a store fails a run still queued past it, which no process would ever run.
   */
  readonly maxLifetimeMs?: number | undefined;
}

/** The terminal transition handed to {@link OperationStore.finish}. */
export interface TerminalUpdate {
  /** The terminal status to set. */
  readonly status: TerminalStatus;
  /** For `completed`. */
  readonly result?: unknown;
  /** For `completed`: the error the result reports of its own, if any. */
  readonly resultError?: string | undefined;
  /** For `failed` and `cancelled`. */
  readonly error?: Error | undefined;
  /** Epoch milliseconds. */
  readonly finishedAt: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /**
   * Written by the process running the work, as its end. A store that hands work between
   * processes (redelivery) applies it only while the record says this process runs it: a process
   * that lost the work (its lease ran out, another runs it now) changes nothing with its late end.
   */
  readonly runner?: boolean | undefined;
}

/**
 * What {@link OperationStore.watch} reports: a record became terminal, or (status `running`, with
 * `input`) its work asked for input or was answered.
 */
export interface StoreChange {
  /** The operation's id. */
  readonly id: string;
  /** Its terminal status; `running` for an input change. */
  readonly status: OperationStatus;
  /**
   * For a running record: `asked`, its work asked for input ({@link OperationStore.requestInput});
   * `answered`, input it asked for was answered ({@link OperationStore.answerInput}).
   */
  readonly input?: 'asked' | 'answered' | undefined;
  /**
   * The feed itself was cut and is back (its connection was lost): changes made meanwhile may have
   * been missed, so listeners read again whatever they wait on. `id` is empty then.
   */
  readonly resumed?: boolean | undefined;
  /**
   * This process could not renew its claim on its work in time (cut off from the store, or
   * frozen), so others may soon run its redeliverable work again: it stops running that work and
   * hands it back. The value names this process (its replica id). `id` is empty then.
   */
  readonly fenced?: string | undefined;
}

/** What {@link OperationStore.takeInput} answers: the answer to one input request. */
export interface InputAnswer {
  /** The response given, as {@link OperationStore.answerInput} took it. */
  readonly response: unknown;
}

/** A place in the listing order: a record's start time and id. */
export interface ListPosition {
  /** Epoch milliseconds. */
  readonly startedAt: number;
  /** The operation id. */
  readonly id: string;
}

/** Which records {@link OperationStore.list} returns. */
export interface RecordFilter {
  /** Only this owner's records (exact match; `undefined` selects the unowned ones). */
  readonly owner: string | undefined;
  /** Only records with this status. */
  readonly status?: OperationStatus | undefined;
  /** Only records of this type. */
  readonly type?: string | undefined;
  /**
   * Only records after this position in the listing order (the last record of the previous
   * page): started before `startedAt`, or at the same time with a smaller `id`.
   */
  readonly after?: ListPosition | undefined;
  /** At most this many records. */
  readonly limit: number;
}

/**
 * Where operation records live. The executor keeps the running work itself (its promise, its
 * AbortController, its waiters) in memory; a store keeps the records that `continue()`, `cancel()`,
 * `get()` and `list()` read, so that a durable or shared store can answer for operations this
 * process did not start or no longer remembers.
 *
 * Every method may answer synchronously or with a promise. A store must uphold:
 *
 * - **Owner scoping**: a record is only ever returned to a caller naming the same owner.
 * - **First terminal state wins**: {@link finish} is a compare-and-set from `running`; once a
 *   record is terminal nothing changes it, whichever process or caller tries.
 * - **Retention**: a record whose `expiresAt` has passed is never returned, whether or not
 *   {@link sweep} has dropped it yet.
 * - **Bounded work**: no method scans every record to do its job; {@link sweep} costs work
 *   proportional to what expires, and never holds the event loop for more than about a millisecond
 *   at a time.
 */
export interface OperationStore {
  /**
   * How many records the store holds, running and retained, read synchronously for the
   * executor's `maxOperations` check. A remote store may answer with a recent estimate.
   */
  readonly size: number;

  /**
   * Adds the record of an operation that has just been handed an id (status `running`).
   * Ids are unique, so an existing id is a bug in the caller: reject.
   */
  insert(record: OperationRecord): Awaitable<void>;

  /** The record of `id` if it exists, belongs to `owner` and has not expired; else `undefined`. */
  get(id: string, owner: string | undefined): Awaitable<OperationRecord | undefined>;

  /** Records the latest progress of a running operation; ignored once it is terminal or gone. */
  setProgress(id: string, owner: string | undefined, progress: Progress): Awaitable<void>;

  /**
   * Moves a running record to a terminal status, atomically and once. Answers the record as it
   * stands afterwards: with `update` applied if it was running, unchanged if another writer made it
   * terminal first (the caller must then adopt that outcome), `undefined` if it does not exist.
   * When `update` was applied, the answer carries `update.result` / `update.error` themselves, not
   * copies: that identity is how the executor tells its own write from another writer's.
   * A record made terminal keeps no input: its `inputRequests` and any answers not taken go.
   */
  finish(
    id: string,
    owner: string | undefined,
    update: TerminalUpdate,
  ): Awaitable<OperationRecord | undefined>;

  /**
   * The owner's records that match `filter`, newest first: by `startedAt` descending, then by `id`
   * descending (so that a page can resume after any record), expired ones left out. The records
   * need not carry `result` or `inputRequests` (listings show neither); everything else must be
   * there.
   */
  list(filter: RecordFilter): Awaitable<OperationRecord[]>;

  /**
   * Drops records whose `expiresAt` is at or before `now`, with work proportional to how many
   * that is, yielding to the event loop so that no other call waits more than about 1 ms on it,
   * and hands each dropped record to `onExpired` when given. Answers how many were dropped.
   * Stores whose backend expires records by itself may do nothing.
   */
  sweep(now: number, onExpired?: (record: OperationRecord) => void): Awaitable<number>;

  /**
   * Drops the finished record that finished longest ago, before its retention ends, and answers
   * it; `undefined` when no finished record is held. Used by the executor's
   * `whenFull: 'evict-oldest'`; a store without it cannot evict.
   */
  evictOldestFinished?(): Awaitable<OperationRecord | undefined>;

  /**
   * Input during the work (a question to the client, answered later, maybe on another replica):
   * adds the request `key` to a running record's `inputRequests`, and tells watchers (an `asked`
   * change). Answers `false`, changing nothing, when the record is not running or not found.
   * `request` and, later, its response are JSON values. A store has all three input methods or
   * none; without them the work's `input()` rejects with an `InputUnavailableError`.
   */
  requestInput?(id: string, owner: string | undefined, key: string, request: unknown): Awaitable<boolean>;

  /**
   * Answers input requests, atomically: each key of `responses` that is outstanding on the running
   * record leaves its `inputRequests`, and its response is kept for {@link takeInput}; every other
   * key (never asked, answered already, withdrawn) is ignored. Tells watchers (an `answered`
   * change) when it took any. Answers the keys it took, or `undefined` when the record is not
   * found (a terminal record takes none: `[]`).
   */
  answerInput?(
    id: string,
    owner: string | undefined,
    responses: Readonly<Record<string, unknown>>,
  ): Awaitable<readonly string[] | undefined>;

  /**
   * The answer to the input request `key`, if one was given, taken once (a second call answers
   * `undefined`); a request not answered yet stays outstanding, unless `withdraw` is set: then it
   * leaves `inputRequests` too (the work stopped waiting for it). The work calls it when it wakes
   * to a change, and to withdraw. A terminal record has no input left: `finish` drops it all.
   */
  takeInput?(
    id: string,
    owner: string | undefined,
    key: string,
    withdraw?: boolean,
  ): Awaitable<InputAnswer | undefined>;

  /**
   * A change feed, for stores shared by several processes: `listener` hears of every record made
   * terminal by any writer, this process included, so that the executor wakes its waiters on
   * operations that run elsewhere, and stops local work that was cancelled elsewhere. Answers a
   * function that unsubscribes. A store with the input methods reports input changes on it too.
   */
  watch?(listener: (change: StoreChange) => void): () => void;

  /**
   * Redelivery, for stores shared by several processes: `run` is called with the record of each
   * redeliverable operation handed to this process to run (its process died while running it, or
   * handed it back); by then the record says this process runs it (`attempt` counted). Answers a
   * function that stops taking more. A store without it never runs work again: work cut off by
   * its process's death ends with a `ReplicaLostError` (or `OperationInterruptedError`).
   */
  serveRedeliveries?(run: (record: OperationRecord) => void): () => Promise<void>;

  /**
   * A graceful drain: the running redeliverable operation `id`, run by this process, goes back to
   * be run again by another (without counting as an attempt). Answers whether it did; `false`
   * when it is no longer this process's to give (terminal, gone, or not redeliverable).
   */
  handBack?(id: string, owner: string | undefined): Awaitable<boolean>;

  /** Releases connections and timers. The executor calls it from `stop()` only for a store it created. */
  close?(): Awaitable<void>;
}
