import { afterEach, describe, expect, it, vi } from 'vitest';
import { attachLogger, Executor, type Logger, type OperationSnapshot } from '../src/index.js';
import { expectStatus, never } from './helpers.js';

let executor: Executor;
afterEach(async () => {
  vi.useRealTimers();
  await executor?.stop();
});

function memoryLogger() {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { lines, logger };
}

describe('the expired event', () => {
  it('fires once per operation whose retention ended, with its last snapshot', async () => {
    vi.useFakeTimers();
    executor = new Executor({ retentionMs: 1000, sweepIntervalMs: 100 });
    const expired: OperationSnapshot[] = [];
    executor.on('expired', (event) => expired.push(event.operation));
    const running = expectStatus(
      await executor.execute(async () => 'kept a while', { waitMs: 0, type: 'job' }),
      'running',
    );
    await executor.continue(running.id, { waitMs: 1000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(101);
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ id: running.id, type: 'job', status: 'completed' });
  });
});

describe('attachLogger', () => {
  it('writes one line per lifecycle event from the given level up, at the matching severity', async () => {
    executor = new Executor();
    const { lines, logger } = memoryLogger();
    attachLogger(executor, logger, { level: 'debug' });
    await executor.execute(
      ({ progress }) => {
        progress(1, 2, 'half');
        return 'ok';
      },
      { type: 'report' },
    );
    await executor.execute(() => Promise.reject(new Error('disk full')), { type: 'backup' });
    const running = expectStatus(
      await executor.execute(() => never(), { waitMs: 0, type: 'crawl' }),
      'running',
    );
    await executor.cancel(running.id, { reason: 'user' });
    const shape = lines.map((line) =>
      line.replace(/operation \S+ /, 'operation <id> ').replace(/ (in|after) [\d.]+ m?s:?/, ''),
    );
    expect(shape).toEqual([
      'debug mcp-async: operation <id> (report) started',
      'debug mcp-async: operation <id> (report) progress 1/2: half',
      'info mcp-async: operation <id> (report) completed',
      'debug mcp-async: operation <id> (backup) started',
      'warn mcp-async: operation <id> (backup) failed disk full',
      'debug mcp-async: operation <id> (crawl) started',
      'info mcp-async: operation <id> (crawl) cancelled Operation cancelled: user',
    ]);
  });

  it('defaults to info and up, and stops when detached', async () => {
    executor = new Executor();
    const { lines, logger } = memoryLogger();
    const detach = attachLogger(executor, logger);
    await executor.execute(() => 1);
    detach();
    await executor.execute(() => 2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^info mcp-async: operation \S+ \(operation\) completed in \d+ ms$/);
  });

  it('refuses a logger without the four methods, or an unknown level', () => {
    executor = new Executor();
    expect(() => attachLogger(executor, { info() {} } as never)).toThrow(
      /`logger` to have a debug\(\) method/,
    );
    expect(() => attachLogger(executor, console, { level: 'verbose' as never })).toThrow(
      /`level` to be one of/,
    );
  });
});
