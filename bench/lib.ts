// Shared helpers for the benchmarks: the environment line, percentiles, and one printed line per
// figure with its method and its goal.
import { cpus, totalmem } from 'node:os';

export function environment(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `Node ${process.version} (V8 ${process.versions.v8}), ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}`;
}

/** Nanoseconds on the monotonic clock. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export interface Figure {
  /** The figure's number in DESIGN.md and its name. */
  readonly figure: string;
  /** The measured values, already formatted. */
  readonly value: string;
  /** The goal, as the issue states it. */
  readonly goal: string;
  /** The Go package's figure, the anchor. */
  readonly go: string;
  /** Whether the goal is met. */
  readonly met: boolean;
  /** How it was measured, in a sentence. */
  readonly method: string;
}

export function report(figure: Figure): void {
  const line = `${figure.met ? 'MET ' : 'MISS'} | ${figure.figure} | ${figure.value} | goal ${figure.goal} | Go ${figure.go}`;
  process.stdout.write(`${line}\n       method: ${figure.method}\n`);
  if (process.env.BENCH_JSON) process.stdout.write(`BENCH_JSON ${JSON.stringify(figure)}\n`);
}

export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run the benchmarks with node --expose-gc (npm run bench does)');
  collect();
  collect();
}

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
