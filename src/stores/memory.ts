import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Progress } from '../types.js';
import { ExpiryQueue } from './expiry-queue.js';
import { ShardedMap } from './sharded-map.js';
import type { ListPosition, OperationRecord, OperationStore, RecordFilter, TerminalUpdate } from './store.js';

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
      ...record,
      status: update.status,
      result: update.result,
      resultError: update.resultError,
      error: update.error,
      finishedAt: update.finishedAt,
      expiresAt: update.expiresAt,
    };
    records!.set(id, finished);
    this.#expiring.push(finished);
    return finished;
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
    if (records.size === 0) this.#byOwner.delete(record.owner);
    return true;
  }
}

/** Where `a` stands against `b` in time: started later, or at the same time with a larger id, is after. */
function compareListed(a: ListPosition, b: ListPosition): number {
  if (a.startedAt !== b.startedAt) return a.startedAt - b.startedAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function isExpired(record: OperationRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}
