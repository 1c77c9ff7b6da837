/**
 * What the executor learns of how long each operation type takes: the durations of its recent
 * completed runs, summarised as count, median and 90th percentile; and what it makes of them (the
 * ETA's fallback, `background: 'auto'`).
 *
 * @module
 */
import { formatDuration } from './results.js';

/** The learned duration of one operation type. */
export interface DurationEstimate {
  /** The operation type. */
  readonly type: string;
  /** How many recent completed runs the figures rest on (at most the window). */
  readonly count: number;
  /** Median duration of those runs, in milliseconds. */
  readonly p50Ms: number;
  /** 90th percentile, in milliseconds. */
  readonly p90Ms: number;
}

/** Runs remembered per type: recent enough to follow a change, enough for a p90. */
const WINDOW = 64;
/**
 * Types remembered at most; past it the type first seen longest ago is forgotten. (First seen, not
 * least recently used: keeping LRU order would cost a Map delete and insert on every completed
 * operation, which measurably slowed execute()'s fast path.)
 */
const MAX_TYPES = 1000;
/** Completed runs of a type needed before its median is trusted. */
const MIN_RUNS_TRUSTED = 3;

/** Recent completed durations per operation type, in fixed-size rings. */
export class DurationStats {
  readonly #rings = new Map<string, { readonly values: Float64Array; next: number; count: number }>();

  /** Records one completed run of `type` that took `ms`. */
  record(type: string, ms: number): void {
    let ring = this.#rings.get(type);
    if (ring === undefined) {
      if (this.#rings.size >= MAX_TYPES) this.#rings.delete(this.#rings.keys().next().value as string);
      ring = { values: new Float64Array(WINDOW), next: 0, count: 0 };
      this.#rings.set(type, ring);
    }
    ring.values[ring.next] = ms;
    ring.next = (ring.next + 1) % WINDOW;
    if (ring.count < WINDOW) ring.count++;
  }

  /** The estimate for `type`, or `undefined` if no run of it completed yet. */
  estimate(type: string): DurationEstimate | undefined {
    const ring = this.#rings.get(type);
    if (ring === undefined) return undefined;
    const sorted = ring.values.slice(0, ring.count).sort();
    const at = (p: number) => sorted[Math.min(ring.count - 1, Math.ceil(p * ring.count) - 1)]!;
    return { type, count: ring.count, p50Ms: at(0.5), p90Ms: at(0.9) };
  }

  /** Every type's estimate, in no particular order; or `type`'s alone (none if it never completed). */
  list(type?: string): DurationEstimate[] {
    const types = type === undefined ? [...this.#rings.keys()] : this.#rings.has(type) ? [type] : [];
    return types.map((name) => this.estimate(name)!);
  }

  /** The learned median of `type`, once enough runs completed to trust it. */
  expectedMs(type: string): number | undefined {
    return this.#trusted(type)?.p50Ms;
  }

  /**
   * Why an operation of `type` will outlive a wait of `waitMs` (so `background: 'auto'` answers at
   * once), by the caller's `estimateMs` or else the trusted median; `undefined` when it will not,
   * or nothing says.
   */
  backgroundReason(type: string, estimateMs: number | undefined, waitMs: number): string | undefined {
    if (estimateMs !== undefined) {
      if (estimateMs <= waitMs) return undefined;
      return `expected to take about ${formatDuration(estimateMs)} (the caller's estimate), longer than the ${formatDuration(waitMs)} wait`;
    }
    const learned = this.#trusted(type);
    if (learned === undefined || learned.p50Ms <= waitMs) return undefined;
    return `expected to take about ${formatDuration(learned.p50Ms)} (the median of the last ${learned.count} "${type}" runs), longer than the ${formatDuration(waitMs)} wait`;
  }

  #trusted(type: string): DurationEstimate | undefined {
    const learned = this.estimate(type);
    return learned !== undefined && learned.count >= MIN_RUNS_TRUSTED ? learned : undefined;
  }
}
