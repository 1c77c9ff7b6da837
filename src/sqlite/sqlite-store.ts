import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { OperationInterruptedError } from '../errors.js';
import {
  answerOwnUpdate,
  deserializeError,
  deserializeResult,
  serializeError,
  serializeUpdate,
} from '../stores/serialization.js';
import type {
  InputAnswer,
  OperationRecord,
  OperationStore,
  RecordFilter,
  TerminalUpdate,
} from '../stores/store.js';
import type { OperationStatus, Progress } from '../types.js';
import { checkCount, checkMilliseconds, checkOptions, describeValue } from '../validate.js';

const OPTION_KEYS = new Set(['path', 'retentionMs', 'maxResultBytes', 'table']);

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file (created if missing), or `':memory:'`. */
  path: string;
  /**
   * How long operations found interrupted at start-up stay readable. Give it the executor's
   * `retentionMs`.
   * @defaultValue 300_000
   */
  retentionMs?: number | undefined;
  /**
   * The largest result kept, in bytes of JSON; a larger one fails its operation with a
   * `ResultNotStorableError`.
   * @defaultValue 1_048_576 (1 MiB)
   */
  maxResultBytes?: number | undefined;
  /**
   * The table's name, so that several apps can share one file.
   * @defaultValue "mcp_async_operations"
   */
  table?: string | undefined;
}

interface Row {
  id: string;
  owner: string | null;
  type: string;
  status: OperationStatus;
  started_at: number;
  finished_at: number | null;
  expires_at: number | null;
  result: string | null;
  result_error: string | null;
  error: string | null;
  progress: string | null;
  input?: string | null;
}

/** The `input` column of a running record: what its work asked for and the answers not taken yet. */
interface InputColumn {
  requests: Record<string, unknown>;
  answers: Record<string, unknown>;
}

/** Rows deleted per transaction during a sweep, between yields to the event loop. */
const SWEEP_BATCH = 256;

/**
 * A durable store for one process: operation records in a SQLite file (WAL mode), so that finished
 * results survive a restart and are served until retention drops them. Operations that were running
 * when the process died are reported, on the next start, as failed with an
 * {@link OperationInterruptedError}: never "running" forever, never "not found" within retention.
 *
 * Results and errors are stored as JSON; a result JSON cannot keep (a BigInt, a cycle, a function)
 * or over `maxResultBytes` fails its operation with a `ResultNotStorableError` at once. Retention
 * goes through an index on the expiry time. One process uses a file at a time: on opening, every
 * operation left running in it is taken to be interrupted.
 */
export class SqliteStore implements OperationStore {
  readonly #db: Database.Database;
  readonly #maxResultBytes: number;
  readonly #statements: ReturnType<typeof prepare>;
  #size: number;

  /** @param options - see {@link SqliteStoreOptions} */
  constructor(options: SqliteStoreOptions) {
    const o = checkOptions('the options of new SqliteStore()', options, OPTION_KEYS);
    if (typeof o.path !== 'string' || o.path.length === 0) {
      throw new TypeError(`Expected \`path\` to be a file path or ":memory:", got ${describeValue(o.path)}`);
    }
    const table = o.table ?? 'mcp_async_operations';
    if (typeof table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
      throw new TypeError(
        `Expected \`table\` to be a SQL identifier (letters, digits, _), got ${describeValue(table)}`,
      );
    }
    const retentionMs = checkMilliseconds('retentionMs', o.retentionMs ?? 300_000, Number.MAX_SAFE_INTEGER);
    this.#maxResultBytes = checkCount('maxResultBytes', o.maxResultBytes ?? 1_048_576, 1);

    this.#db = new Database(o.path);
    this.#db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives the process being killed (not a power cut).
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS ${table} (
        id TEXT PRIMARY KEY,
        owner TEXT,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        expires_at INTEGER,
        result TEXT,
        result_error TEXT,
        error TEXT,
        progress TEXT,
        input TEXT
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS ${table}_expiry ON ${table} (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS ${table}_owner ON ${table} (owner, started_at, id);
      CREATE INDEX IF NOT EXISTS ${table}_running ON ${table} (id) WHERE status = 'running';
    `);
    checkLayout(this.#db, table);
    addInputColumn(this.#db, table);
    this.#statements = prepare(this.#db, table);
    const now = Date.now();
    this.#statements.interrupt.run(serializeError(new OperationInterruptedError()), now, now + retentionMs);
    this.#size = (this.#statements.count.get() as { n: number }).n;
  }

  /** Records held, running and retained (expired ones not yet swept included). */
  get size(): number {
    return this.#size;
  }

  insert(record: OperationRecord): void {
    this.#statements.insert.run({
      id: record.id,
      owner: record.owner ?? null,
      type: record.type,
      status: record.status,
      started_at: record.startedAt,
      progress: record.progress === undefined ? null : JSON.stringify(record.progress),
    });
    this.#size++;
  }

  get(id: string, owner: string | undefined): OperationRecord | undefined {
    const row = this.#statements.get.get(id, owner ?? null, Date.now()) as Row | undefined;
    return row === undefined ? undefined : recordOf(row);
  }

  setProgress(id: string, owner: string | undefined, progress: Progress): void {
    this.#statements.progress.run(JSON.stringify(progress), id, owner ?? null);
  }

  requestInput(id: string, owner: string | undefined, key: string, request: unknown): boolean {
    return (
      this.#changeInput(id, owner, (input) => {
        input.requests[key] = request;
        return true;
      }) ?? false
    );
  }

  answerInput(
    id: string,
    owner: string | undefined,
    responses: Readonly<Record<string, unknown>>,
  ): readonly string[] | undefined {
    const taken = this.#changeInput(id, owner, (input) => {
      const keys = Object.keys(responses).filter((key) => Object.hasOwn(input.requests, key));
      for (const key of keys) {
        delete input.requests[key];
        input.answers[key] = responses[key];
      }
      return keys;
    });
    if (taken !== undefined) return taken;
    // Not running: a terminal record takes nothing; an unknown or expired one is not found.
    return this.get(id, owner) === undefined ? undefined : [];
  }

  takeInput(id: string, owner: string | undefined, key: string, withdraw = false): InputAnswer | undefined {
    return this.#changeInput(id, owner, (input) => {
      if (Object.hasOwn(input.answers, key)) {
        const response = input.answers[key];
        delete input.answers[key];
        return { response };
      }
      if (withdraw) delete input.requests[key];
      return undefined;
    });
  }

  /**
   * Makes a running record terminal, once. A completed result that cannot be stored makes the
   * record failed with a `ResultNotStorableError` instead, and that record is answered: the
   * executor then takes on that outcome.
   */
  finish(id: string, owner: string | undefined, update: TerminalUpdate): OperationRecord | undefined {
    const written = serializeUpdate(update, this.#maxResultBytes);
    const changed = this.#statements.finish.run({
      id,
      owner: owner ?? null,
      status: written.status,
      finished_at: update.finishedAt,
      expires_at: update.expiresAt,
      result: written.result,
      result_error: written.resultError,
      error: written.error,
    }).changes;
    if (changed === 1) {
      // This update applied: its result and error are the caller's own objects, so the row is read
      // back without them (not a result's JSON read and parsed only to be thrown away).
      const row = this.#statements.getWritten.get(id, owner ?? null) as Row;
      return answerOwnUpdate(recordOf(row), update, written);
    }
    // Unchanged: unknown, or already terminal (the first terminal state stays).
    const row = this.#statements.getAny.get(id, owner ?? null) as Row | undefined;
    return row === undefined ? undefined : recordOf(row);
  }

  /** Newest first, without their results (a listing shows none). */
  list(filter: RecordFilter): OperationRecord[] {
    const rows = this.#statements.list.all({
      owner: filter.owner ?? null,
      now: Date.now(),
      status: filter.status ?? null,
      type: filter.type ?? null,
      after_started: filter.after?.startedAt ?? null,
      after_id: filter.after?.id ?? null,
      limit: filter.limit,
    }) as Row[];
    return rows.map(recordOf);
  }

  /** Deletes expired records in batches through the expiry index, yielding between batches. */
  async sweep(now: number, onExpired?: (record: OperationRecord) => void): Promise<number> {
    let dropped = 0;
    for (;;) {
      const rows = this.#statements.expired.all(now, SWEEP_BATCH) as Row[];
      if (rows.length === 0) return dropped;
      this.#statements.deleteMany(rows.map((row) => row.id));
      dropped += rows.length;
      this.#size -= rows.length;
      if (onExpired !== undefined) for (const row of rows) onExpired(recordOf(row));
      if (rows.length < SWEEP_BATCH) return dropped;
      await yieldToEventLoop();
    }
  }

  evictOldestFinished(): OperationRecord | undefined {
    const row = this.#statements.oldestFinished.get() as Row | undefined;
    if (row === undefined) return undefined;
    this.#statements.deleteMany([row.id]);
    this.#size--;
    return recordOf(row);
  }

  /** Edits a running record's input in one transaction: `change`'s answer, or `undefined` when not running. */
  #changeInput<R>(id: string, owner: string | undefined, change: (input: InputColumn) => R): R | undefined {
    return this.#statements.changeInput(id, owner ?? null, change) as R | undefined;
  }

  /** Closes the database file. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

/** Every column but the result's JSON (read back as NULL) and the error. */
const WITHOUT_RESULT =
  'id, owner, type, status, started_at, finished_at, expires_at, progress, result_error, NULL AS result';

/** Adds the `input` column to a table made before input was kept (its running records had none). */
function addInputColumn(db: Database.Database, table: string): void {
  const columns = (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
  if (!columns.includes('input')) db.exec(`ALTER TABLE ${table} ADD COLUMN input TEXT`);
}

/** Refuses a table an earlier mcp-async made with another layout, rather than failing at the first query. */
function checkLayout(db: Database.Database, table: string): void {
  const columns = new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
  const missing = ['started_at', 'result_error'].filter((name) => !columns.has(name));
  if (missing.length > 0 || columns.has('created_at')) {
    throw new Error(
      `SqliteStore: table "${table}" has the layout of an earlier mcp-async 0.x (${missing.length > 0 ? `no ${missing.join(', ')}` : 'a created_at column'}); ` +
        'drop it (its records are from before the upgrade) or give another `table`',
    );
  }
}

function prepare(db: Database.Database, table: string) {
  const deleteOne = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
  const readInput = db.prepare(
    `SELECT input FROM ${table} WHERE id = ? AND owner IS ? AND status = 'running'`,
  );
  const writeInput = db.prepare(`UPDATE ${table} SET input = ? WHERE id = ? AND owner IS ?`);

  return {
    count: db.prepare(`SELECT COUNT(*) AS n FROM ${table}`),
    interrupt: db.prepare(
      `UPDATE ${table} SET status = 'failed', error = ?, finished_at = ?, expires_at = ?, input = NULL WHERE status = 'running'`,
    ),
    insert: db.prepare(
      `INSERT INTO ${table} (id, owner, type, status, started_at, progress)
       VALUES (@id, @owner, @type, @status, @started_at, @progress)`,
    ),
    get: db.prepare(
      `SELECT * FROM ${table} WHERE id = ? AND owner IS ? AND (expires_at IS NULL OR expires_at > ?)`,
    ),
    getAny: db.prepare(`SELECT * FROM ${table} WHERE id = ? AND owner IS ?`),
    getWritten: db.prepare(
      `SELECT ${WITHOUT_RESULT}, NULL AS error FROM ${table} WHERE id = ? AND owner IS ?`,
    ),
    progress: db.prepare(
      `UPDATE ${table} SET progress = ? WHERE id = ? AND owner IS ? AND status = 'running'`,
    ),
    finish: db.prepare(
      `UPDATE ${table} SET status = @status, finished_at = @finished_at, expires_at = @expires_at,
         result = @result, result_error = @result_error, error = @error, input = NULL
       WHERE id = @id AND owner IS @owner AND status = 'running'`,
    ),
    list: db.prepare(
      `SELECT ${WITHOUT_RESULT}, error FROM ${table}
       WHERE owner IS @owner AND (expires_at IS NULL OR expires_at > @now)
         AND (@status IS NULL OR status = @status) AND (@type IS NULL OR type = @type)
         AND (@after_started IS NULL OR started_at < @after_started
              OR (started_at = @after_started AND id < @after_id))
       ORDER BY started_at DESC, id DESC LIMIT @limit`,
    ),
    expired: db.prepare(
      `SELECT * FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
    ),
    oldestFinished: db.prepare(
      `SELECT * FROM ${table} WHERE expires_at IS NOT NULL ORDER BY expires_at LIMIT 1`,
    ),
    deleteMany: db.transaction((ids: string[]) => {
      for (const id of ids) deleteOne.run(id);
    }),
    /**
     * Reads a running record's input, lets `change` edit it, and writes it back, in one
     * transaction; `undefined` (nothing written) when the record is not running.
     */
    changeInput: db.transaction(
      (id: string, owner: string | null, change: (input: InputColumn) => unknown): unknown => {
        const row = readInput.get(id, owner) as { input: string | null } | undefined;
        if (row === undefined) return undefined;
        const input: InputColumn =
          row.input === null ? { requests: {}, answers: {} } : (JSON.parse(row.input) as InputColumn);
        const answer = change(input);
        const empty = Object.keys(input.requests).length === 0 && Object.keys(input.answers).length === 0;
        writeInput.run(empty ? null : JSON.stringify(input), id, owner);
        return answer;
      },
    ),
  };
}

function recordOf(row: Row): OperationRecord {
  return {
    id: row.id,
    type: row.type,
    owner: row.owner ?? undefined,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at ?? undefined,
    expiresAt: row.expires_at ?? undefined,
    result: row.status === 'completed' ? deserializeResult(row.result) : undefined,
    resultError: row.result_error ?? undefined,
    error: row.error === null ? undefined : deserializeError(row.error),
    progress: row.progress === null ? undefined : (JSON.parse(row.progress) as Progress),
    inputRequests: inputRequestsOf(row.input),
  };
}

/** The outstanding requests of an `input` column, `undefined` for none (or a listing, which reads no input). */
function inputRequestsOf(input: string | null | undefined): Record<string, unknown> | undefined {
  if (input === null || input === undefined) return undefined;
  const { requests } = JSON.parse(input) as InputColumn;
  return Object.keys(requests).length === 0 ? undefined : requests;
}
