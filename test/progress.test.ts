import { afterEach, describe, expect, it, vi } from 'vitest';
import { Executor, type Progress } from '../src/index.js';
import { createProgressReporter } from '../src/progress.js';
import { expectStatus, never } from './helpers.js';

function recorder() {
  const seen: [number, number | undefined, string | undefined][] = [];
  const report = createProgressReporter((current, total, message) => seen.push([current, total, message]));
  return { seen, report };
}

describe('progress phases', () => {
  it("map a phase's own 0..100% into its slice of the parent, one after the other", () => {
    const { seen, report } = recorder();
    const download = report.phase('download', 30);
    download(5, 10, 'file 5');
    download(10, 10);
    const render = report.phase('render', 70);
    render(1, 4, 'frame 1');
    render(4, 4);
    expect(seen).toEqual([
      [0, 100, 'download'],
      [15, 100, 'download: file 5'],
      [30, 100, 'download'],
      [30, 100, 'render'],
      [47.5, 100, 'render: frame 1'],
      [100, 100, 'render'],
    ]);
  });

  it('nest: a phase of a phase maps into its slice of its parent', () => {
    const { seen, report } = recorder();
    report.phase('prepare', 20)(1, 1);
    const render = report.phase('render', 80);
    const frames = render.phase('frames', 50);
    frames(50, 100, 'half the frames');
    const encode = render.phase('encode', 50);
    encode(1, 2);
    // render spans 20..100; frames is its first half (20..60), encode its second (60..100)
    expect(seen.slice(-4)).toEqual([
      [20, 100, 'render: frames'],
      [40, 100, 'render: frames: half the frames'],
      [60, 100, 'render: encode'],
      [80, 100, 'render: encode'],
    ]);
  });

  it('a direct report on the root passes through as given; a phase without a total stays at its start', () => {
    const { seen, report } = recorder();
    report(3, 10, 'raw');
    report.phase('open-ended', 50)(7);
    expect(seen).toEqual([
      [3, 10, 'raw'],
      [0, 100, 'open-ended'],
      [0, 100, 'open-ended'],
    ]);
  });

  it('refuses phases that add up to more than 100%, and bad weights or values, naming them', () => {
    const { report } = recorder();
    report.phase('a', 60);
    expect(() => report.phase('b', 50)).toThrow(
      /Phase "b" \(50%\) does not fit: earlier phases of this reporter already take 60%/,
    );
    expect(() => report.phase('c', 0)).toThrow(/phase `weight`.*got `0`/);
    expect(() => report.phase('c', Number.NaN)).toThrow(/phase `weight`.*`NaN`/);
    expect(() => report.phase(5 as never, 10)).toThrow(/phase `name` to be a string/);
    expect(() => report.phase('d', 40)(Number.POSITIVE_INFINITY)).toThrow(/progress `current`.*`Infinity`/);
  });
});

describe('progress through the executor', () => {
  let executor: Executor;
  afterEach(async () => {
    vi.useRealTimers();
    await executor?.stop();
  });

  it('onProgress hears every move of the operation, after phases and never backwards', async () => {
    executor = new Executor();
    const heard: Progress[] = [];
    await executor.execute(
      ({ progress }) => {
        const a = progress.phase('a', 50);
        a(1, 2);
        progress(10, 100); // below 25%: dropped back to 25
        progress.phase('b', 50)(1, 1);
      },
      { onProgress: (p) => heard.push(p) },
    );
    expect(heard.map((p) => [p.current, p.total, p.message])).toEqual([
      [0, 100, 'a'],
      [25, 100, 'a'],
      [25, 100, undefined],
      [50, 100, 'b'],
      [100, 100, 'b'],
    ]);
  });

  it('an onProgress that throws is reported as listenerError and the work goes on', async () => {
    executor = new Executor();
    const errors: unknown[] = [];
    executor.on('listenerError', (e) => errors.push(e.error));
    const result = await executor.execute(
      ({ progress }) => {
        progress(1, 2);
        return 'done';
      },
      {
        onProgress: () => {
          throw new Error('observer bug');
        },
      },
    );
    expect(expectStatus(result, 'completed').result).toBe('done');
    expect((errors[0] as Error).message).toBe('observer bug');
  });

  it('refuses an onProgress that is not a function', async () => {
    executor = new Executor();
    await expect(executor.execute(() => 1, { onProgress: 5 as never })).rejects.toThrow(
      /`onProgress` to be a function/,
    );
  });

  it('running answers and snapshots carry an ETA from the pace so far', async () => {
    vi.useFakeTimers({ now: 0 });
    executor = new Executor();
    let report: ((c: number, t?: number) => void) | undefined;
    const running = expectStatus(
      await executor.execute(
        ({ progress }) => {
          report = progress;
          return never();
        },
        { waitMs: 0 },
      ),
      'running',
    );
    expect(running.etaMs).toBeUndefined(); // no progress yet
    await vi.advanceTimersByTimeAsync(4000);
    report?.(1, 5); // 1/5 in 4 s: 16 s to go
    await vi.advanceTimersByTimeAsync(1000);
    const later = expectStatus(await executor.continue(running.id, { waitMs: 0 }), 'running');
    expect(later.etaMs).toBe(15_000);
    expect(later.message).toContain('about 15.0 s to go');
    expect((await executor.get(running.id))?.etaMs).toBe(15_000);
  });
});
