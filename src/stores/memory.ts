import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Progress } from '../types.js';
import { ExpiryQueue } from './expiry-queue.js';
import { ShardedMap } from './sharded-map.js';
import type {
  InputAnswer,
  ListPosition,
  OperationRecord,
  OperationStore,
  RecordFilter,
  TerminalUpdate,
} from './store.js';

/** How long one slice of a sweep may hold the event loop before it yields. */
const SWEEP_SLICE_MS = 0.25;

/**
 * The default store: records in this process's memory, gone when it exits.
 *
 * Records are kept per owner (`Map<owner, ShardedMap<id, record>>`), so a lookup under the wrong
 * owner finds nothing by construction and `list()` reads only the caller's records. Finished records
 * queue in the order they finished, which, with one retention period for all, is the order they
 * expire in: a sweep pops expired records off the head and never looks at the rest.
 *
 * One instance serves one executor.
 */
export class MemoryStore implements OperationStore {
  readonly #byOwner = new Map<string | undefined, ShardedMap<OperationRecord>>();
  readonly #expiring = new ExpiryQueue<OperationRecord>();
  /** Answers to input requests not yet taken by the work, by operation id then key. */
  readonly #answers = new Map<string, Map<string, unknown>>();
  #size = 0;

  /** Records held, running and retained (expired ones not yet swept included). */
  get size(): number {
    return this.#size;
  }

  /** Adds a running record; throws on a duplicate id. */
  insert(record: OperationRecord): void {
    let records = this.#byOwner.get(record.owner);
    if (records === undefined) {
      records = new ShardedMap();
      this.#byOwner.set(record.owner, records);
    } else if (records.has(record.id)) {
      throw new Error(`MemoryStore: operation "${record.id}" already exists`);
    }
    records.set(record.id, record);
    this.#size++;
  }

  /** The owner's record of `id`, unless unknown or expired. */
  get(id: string, owner: string | undefined): OperationRecord | undefined {
    const record = this.#byOwner.get(owner)?.get(id);
    if (record === undefined || isExpired(record, Date.now())) return undefined;
    return record;
  }

  /** Replaces the progress of a running record. */
  setProgress(id: string, owner: string | undefined, progress: Progress): void {
    const records = this.#byOwner.get(owner);
    const record = records?.get(id);
    if (record === undefined || record.status !== 'running') return;
    records!.set(id, { ...record, progress });
  }

  /** Makes a running record terminal, once; a terminal record is answered unchanged. */
  finish(id: string, owner: string | undefined, update: TerminalUpdate): OperationRecord | undefined {
    const records = this.#byOwner.get(owner);
    const record = records?.get(id);
    if (record === undefined || record.status !== 'running') return record;
    const finished: OperationRecord = {
      ...(record.inputRequests === undefined ? record : withoutInput(record)),
      status: update.status,
      result: update.result,
      resultError: update.resultError,
      error: update.error,
      finishedAt: update.finishedAt,
      expiresAt: update.expiresAt,
    };
    records!.set(id, finished);
    this.#expiring.push(finished);
    if (this.#answers.size > 0) this.#answers.delete(id);
    return finished;
  }

  /** Adds an outstanding input request to a running record. */
  requestInput(id: string, owner: string | undefined, key: string, request: unknown): boolean {
    const records = this.#byOwner.get(owner);
    const record = records?.get(id);
    if (record === undefined || record.status !== 'running') return false;
    records!.set(id, {
      ...record,
      inputRequests: Object.freeze({ ...record.inputRequests, [key]: request }),
    });
    return true;
  }

  /** Takes the responses to outstanding requests; the others are ignored. */
  answerInput(
    id: string,
    owner: string | undefined,
    responses: Readonly<Record<string, unknown>>,
  ): readonly string[] | undefined {
    const records = this.#byOwner.get(owner);
    const record = records?.get(id);
    if (record === undefined || isExpired(record, Date.now())) return undefined;
    const outstanding = record.inputRequests;
    if (record.status !== 'running' || outstanding === undefined) return [];
    const taken = Object.keys(responses).filter((key) => Object.hasOwn(outstanding, key));
    if (taken.length === 0) return taken;
    const left = { ...outstanding };
    let answers = this.#answers.get(id);
    if (answers === undefined) {
      answers = new Map();
      this.#answers.set(id, answers);
    }
    for (const key of taken) {
      delete left[key];
      answers.set(key, responses[key]);
    }
    records!.set(id, {
      ...record,
      inputRequests: Object.keys(left).length === 0 ? undefined : Object.freeze(left),
    });
    return taken;
  }

  /** The answer to an input request, once; with `withdraw`, an unanswered request goes too. */
  takeInput(id: string, owner: string | undefined, key: string, withdraw = false): InputAnswer | undefined {
    const records = this.#byOwner.get(owner);
    const record = records?.get(id);
    if (record === undefined) return undefined;
    const answers = this.#answers.get(id);
    if (answers?.has(key)) {
      const response = answers.get(key);
      answers.delete(key);
      if (answers.size === 0) this.#answers.delete(id);
      return { response };
    }
    if (withdraw && record.inputRequests !== undefined && Object.hasOwn(record.inputRequests, key)) {
      const { [key]: _withdrawn, ...left } = record.inputRequests;
      records!.set(id, {
        ...record,
        inputRequests: Object.keys(left).length === 0 ? undefined : Object.freeze(left),
      });
    }
    return undefined;
  }

  /**
   * The owner's matching records, newest first. Reads every record of that owner: cheap for the
   * few thousand a client has at a time, a scan for an owner holding far more.
   */
  list(filter: RecordFilter): OperationRecord[] {
    const records = this.#byOwner.get(filter.owner);
    if (records === undefined || filter.limit === 0) return [];
    const now = Date.now();
    const after = filter.after;
    const out: OperationRecord[] = [];
    for (const record of records.values()) {
      if (isExpired(record, now)) continue;
      if (filter.status !== undefined && record.status !== filter.status) continue;
      if (filter.type !== undefined && record.type !== filter.type) continue;
      if (after !== undefined && compareListed(record, after) >= 0) continue; // not older than the last page
      out.push(record);
    }
    out.sort((a, b) => compareListed(b, a));
    if (out.length > filter.limit) out.length = filter.limit;
    return out;
  }

  /** Drops expired records from the head of the expiry queue, yielding every half millisecond. */
  async sweep(now: number, onExpired?: (record: OperationRecord) => void): Promise<number> {
    let dropped = 0;
    let sliceStart = performance.now();
    for (
      let head = this.#expiring.peek();
      head !== undefined && isExpired(head, now);
      head = this.#expiring.peek()
    ) {
      this.#expiring.shift();
      if (this.#delete(head)) {
        dropped++;
        onExpired?.(head);
      }
      if ((dropped & 255) === 0 && performance.now() - sliceStart > SWEEP_SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    return dropped;
  }

  /** Drops the oldest finished record (the head of the expiry queue) and answers it. */
  evictOldestFinished(): OperationRecord | undefined {
    for (let head = this.#expiring.shift(); head !== undefined; head = this.#expiring.shift()) {
      if (this.#delete(head)) return head;
    }
    return undefined;
  }

  #delete(record: OperationRecord): boolean {
    const records = this.#byOwner.get(record.owner);
    if (records === undefined || !records.delete(record.id)) return false;
    this.#size--;
    if (this.#answers.size > 0) this.#answers.delete(record.id);
    if (records.size === 0) this.#byOwner.delete(record.owner);
    return true;
  }
}

/** Where `a` stands against `b` in time: started later, or at the same time with a larger id, is after. */
function compareListed(a: ListPosition, b: ListPosition): number {
  if (a.startedAt !== b.startedAt) return a.startedAt - b.startedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The record without its input (a terminal record keeps none; most never had any, and get no such field). */
function withoutInput(record: OperationRecord): OperationRecord {
  const { inputRequests: _dropped, ...rest } = record;
  return rest;
}

function isExpired(record: OperationRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}
