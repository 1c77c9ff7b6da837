/**
 * Progress reporters with phases: `progress.phase('download', 30)` answers a reporter whose own
 * 0..100% maps onto the next 30% of its parent, and phases nest.
 *
 * @module
 */
import { checkProgressValues, describeValue } from './validate.js';

/**
 * Reports progress from inside an operation: `progress(3, 10, 'rendering frame 3')`. A value below
 * the last one reported is ignored (progress never goes backwards), as is any report after the
 * operation finished.
 */
export interface ProgressReporter {
  /**
   * Reports `current` units done out of `total` (when known), with a note on what is happening.
   * @throws TypeError when `current` or `total` is not a finite number >= 0
   */
  (current: number, total?: number, message?: string): void;
  /**
   * A reporter for the next part of this one's work: `weight` percent of it (0 < weight <= 100),
   * starting where the previous phase ended. Its own `(current, total)` maps into that slice, so
   * `phase('frames', 60)` called with `(30, 120)` puts this reporter 15% further. From the first
   * phase on, the operation's progress reads as a percentage (`total` 100) and its message as
   * `phase: message`. Phases nest.
   * @throws RangeError when the phases of one reporter add up to more than 100%
   */
  phase(name: string, weight: number): ProgressReporter;
}

/** Where a report goes: the operation's own progress. */
export type ProgressSink = (current: number, total: number | undefined, message: string | undefined) => void;

/** The root reporter of an operation; `sink` receives what it and its phases report. */
export function createProgressReporter(sink: ProgressSink): ProgressReporter {
  const report = ((current: number, total?: number, message?: string) =>
    sink(current, total, message)) as ProgressReporter;
  report.phase = phaseOf(sink, 0, 1, '');
  return report;
}

/** `phase()` for a reporter covering [start, end] of the root's 0..1, with `prefix` for messages. */
function phaseOf(sink: ProgressSink, start: number, end: number, prefix: string): ProgressReporter['phase'] {
  let used = 0; // percent of this reporter's range already given to phases
  return (name: string, weight: number): ProgressReporter => {
    if (typeof name !== 'string') {
      throw new TypeError(`Expected phase \`name\` to be a string, got ${describeValue(name)}`);
    }
    if (typeof weight !== 'number' || !(weight > 0 && weight <= 100)) {
      throw new RangeError(
        `Expected phase \`weight\` to be a percentage above 0 and at most 100, got ${describeValue(weight)}`,
      );
    }
    if (used + weight > 100 + 1e-9) {
      throw new RangeError(
        `Phase "${name}" (${weight}%) does not fit: earlier phases of this reporter already take ${used}% of 100%`,
      );
    }
    const span = end - start;
    const phaseStart = start + (span * used) / 100;
    const phaseEnd = start + (span * (used + weight)) / 100;
    used += weight;
    const label = prefix === '' ? name : `${prefix}: ${name}`;
    const emit = (fraction: number, message: string | undefined) =>
      sink(
        round(100 * (phaseStart + fraction * (phaseEnd - phaseStart))),
        100,
        message === undefined ? label : `${label}: ${message}`,
      );

    const child = ((current: number, total?: number, message?: string) => {
      checkProgressValues(current, total);
      // Without a total the phase cannot say how far it is: it stays at its start.
      const fraction = total === undefined || total === 0 ? 0 : Math.min(1, current / total);
      emit(fraction, message);
    }) as ProgressReporter;
    child.phase = phaseOf(sink, phaseStart, phaseEnd, label);
    emit(0, undefined); // entering the phase moves the parent to its start
    return child;
  };
}

/** Percentages to 1/1000 of a percent: no binary noise like 14.999999999999998. */
function round(percent: number): number {
  return Math.round(percent * 1000) / 1000;
}
