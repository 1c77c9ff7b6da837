import { createHash, randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from '@redis/client';
import pTimeout from 'p-timeout';
import { OperationLifetimeError, ReplicaLostError } from '../errors.js';
import { MAX_BACKOFF_MS } from '../options.js';
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
  Redelivery,
  StoreChange,
  TerminalUpdate,
} from '../stores/store.js';
import type { OperationStatus, Progress } from '../types.js';
import { checkCount, checkMilliseconds, checkOptions, describeValue } from '../validate.js';
import { ConnectionState } from './connection.js';
import { RedeliveryQueue } from './redelivery-queue.js';

const OPTION_KEYS = new Set(['url', 'prefix', 'leaseMs', 'maxResultBytes', 'commandTimeoutMs']);

/** Options of {@link RedisStore.connect}. */
export interface RedisStoreOptions {
  /**
   * The Redis server.
   * @defaultValue `process.env.REDIS_URL`, else "redis://127.0.0.1:6379"
   */
  url?: string | undefined;
  /**
   * Put before every key and the channel, so that several apps share one Redis.
   * @defaultValue "mcp-async:"
   */
  prefix?: string | undefined;
  /**
   * How long a replica's claim on its running operations lasts without renewal, in
   * milliseconds; it is renewed every third of that. When a replica dies, the others report its
   * running operations failed ("owner replica lost") within about this long (a replica reaps only
   * once it has renewed its own lease for this long: after an outage, or its own start, the dead
   * are reported up to a lease later, and the live ones have renewed by then).
   * @defaultValue 10_000
   */
  leaseMs?: number | undefined;
  /**
   * The largest result kept, in bytes of JSON; a larger one fails its operation.
   * @defaultValue 1_048_576 (1 MiB)
   */
  maxResultBytes?: number | undefined;
  /**
   * How long a command may take, in milliseconds, queued while Redis is unreachable included:
   * past it the command fails, and the executor's call with it (a `StoreError` saying so).
   * @defaultValue 5000 (node-redis's own default)
   */
  commandTimeoutMs?: number | undefined;
}

/** The part of its lease after which a replica that could not renew stops its redeliverable work. */
const FENCE_AT = 0.8;

/** Index entries read per round trip by `list()`, and pruned per round trip by `sweep()`. */
const LIST_BATCH = 200;
const SWEEP_BATCH = 1000;

/** The owner as stored: `s:<owner>`, or `n` for the unowned. */
const ownerTag = (owner: string | undefined) => (owner === undefined ? 'n' : `s:${owner}`);

// Makes a running record terminal, once, atomically: the compare-and-set every replica shares.
// KEYS: record, all-operations zset. ARGV: owner tag (or '*' for any), status, finished_at,
// expires_at, result, error, channel, id, prefix, result_error ('' for none), and the replica
// writing as the one running the work ('' for another writer: a cancel, the reaper), whose write
// applies only while the record says it runs it (else it answers unapplied). Drops the record's
// input (fields ir:<key> and ia:<key>). Answers {applied (1 or 0), the record's fields}:
// only the script knows whether this write won (two writers may bring the same status and time).
// An applied write's answer leaves out result and error: the writer has them already, and they
// would only cross the network to be parsed and thrown away.
const FINISH = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return false end
if ARGV[1] ~= '*' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return false end
if s ~= 'running' then return {0, redis.call('HGETALL', KEYS[1])} end
if ARGV[11] ~= '' and redis.call('HGET', KEYS[1], 'replica') ~= ARGV[11] then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'finished_at', ARGV[3], 'expires_at', ARGV[4], 'result', ARGV[5], 'error', ARGV[6], 'result_error', ARGV[10])
local record = {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local prefix = string.sub(fields[i], 1, 3)
  if prefix == 'ir:' or prefix == 'ia:' then
    redis.call('HDEL', KEYS[1], fields[i]) -- a terminal record keeps no input
  elseif fields[i] ~= 'result' and fields[i] ~= 'error' then
    record[#record + 1] = fields[i]
    record[#record + 1] = fields[i + 1]
  end
end
local owner = redis.call('HGET', KEYS[1], 'owner')
local replica = redis.call('HGET', KEYS[1], 'replica')
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[8] .. ' ' .. owner)
if replica then redis.call('SREM', ARGV[9] .. 'running:' .. replica, ARGV[8]) end
-- Last: an expiry already past deletes the key at once.
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[7], ARGV[8] .. ' ' .. ARGV[2])
return {1, record}
`;

// Adds a running record, unless the id exists. KEYS: record, owner index (by start time), all-
// operations zset (by expiry), this replica's running set. ARGV: id, owner tag, type, started_at,
// progress, replica, then for redeliverable work its redelivery JSON (see REQUEUE).
const INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'owner', ARGV[2], 'type', ARGV[3], 'status', 'running',
  'started_at', ARGV[4], 'progress', ARGV[5], 'replica', ARGV[6])
if ARGV[7] then redis.call('HSET', KEYS[1], 'redelivery', ARGV[7], 'attempt', 1, 'run', 1) end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], '+inf', ARGV[1] .. ' ' .. ARGV[2])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
`;

// Records progress on a running record only, from the replica running it (a run handed back, or
// run again elsewhere, writes nothing). KEYS: record. ARGV: owner tag, progress JSON, replica.
const PROGRESS = `
if redis.call('HGET', KEYS[1], 'status') == 'running' and redis.call('HGET', KEYS[1], 'owner') == ARGV[1]
  and redis.call('HGET', KEYS[1], 'replica') == ARGV[3] then
  redis.call('HSET', KEYS[1], 'progress', ARGV[2])
end
return 0
`;

// Input during the work: a request is the hash field ir:<key>, its answer (until the work takes it)
// ia:<key>; both JSON that the scripts move as they are, never decode. A change is published as
// "<id> asked" or "<id> answered", so that the replica running the work wakes at once.

// Adds an input request to a running record, from the replica running it. KEYS: record. ARGV: owner
// tag, key, request JSON, channel, id, replica. Answers 1, or 0 when the record is not running (or
// not the owner's, or run by another replica now).
const REQUEST_INPUT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1]
  or redis.call('HGET', KEYS[1], 'replica') ~= ARGV[6] then
  return 0
end
redis.call('HSET', KEYS[1], 'ir:' .. ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' asked')
return 1
`;

// Takes the responses to outstanding requests of a running record. KEYS: record. ARGV: owner tag,
// channel, id, then key and response JSON pairs. Answers the keys taken ({} for a terminal record),
// or nil when the record is not found.
const ANSWER_INPUT = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return false end
local taken = {}
if s ~= 'running' then return taken end
for i = 4, #ARGV, 2 do
  if redis.call('HDEL', KEYS[1], 'ir:' .. ARGV[i]) == 1 then
    redis.call('HSET', KEYS[1], 'ia:' .. ARGV[i], ARGV[i + 1])
    taken[#taken + 1] = ARGV[i]
  end
end
if #taken > 0 then redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' answered') end
return taken
`;

// Takes the answer to one request, once; with withdraw ('1'), an unanswered request goes too.
// KEYS: record. ARGV: owner tag, key, withdraw. Answers {response}, or nil when there is none.
const TAKE_INPUT = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return false end
local answer = redis.call('HGET', KEYS[1], 'ia:' .. ARGV[2])
if answer then
  redis.call('HDEL', KEYS[1], 'ia:' .. ARGV[2])
  return {answer}
end
if ARGV[3] == '1' then redis.call('HDEL', KEYS[1], 'ir:' .. ARGV[2]) end
return false
`;

// Redelivery (see redelivery-queue.ts). A redeliverable record has the fields redelivery (JSON: job,
// args, attempts, backoffMs), attempt (runs a loss started, the first included) and run (every
// run, hand-backs included: a queued job names its run, so that a stale one takes nothing). Its
// field replica is '' while it is queued, between two runs. It stays in the running set of the
// replica that last ran it until its job is added, so that a reaper repeats a requeue cut short.

// The input of a run that ended without an end (its replica died, or handed it back): its requests
// and answers go, since the next run asks afresh.
const DROP_INPUT = `
local function drop_input()
  local fields = redis.call('HKEYS', KEYS[1])
  for i = 1, #fields do
    local prefix = string.sub(fields[i], 1, 3)
    if prefix == 'ir:' or prefix == 'ia:' then redis.call('HDEL', KEYS[1], fields[i]) end
  end
end
`;

// A replica is gone: its record goes back to the queue if it may, or is lost. KEYS: record. ARGV:
// the dead replica. Answers {'requeue', run, attempt, backoffMs} (queued now, or queued already by
// a requeue cut short: add its job), 'lost' (fail it: not redeliverable, or out of attempts), or
// false (nothing to do: ended, gone, or another replica's now).
const REQUEUE = `
${DROP_INPUT}
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return false end
local replica = redis.call('HGET', KEYS[1], 'replica')
local redelivery = redis.call('HGET', KEYS[1], 'redelivery')
if replica ~= ARGV[1] and not (redelivery and replica == '') then return false end
if not redelivery then return 'lost' end
local spec = cjson.decode(redelivery)
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempt'))
local run = tonumber(redis.call('HGET', KEYS[1], 'run'))
if replica == ARGV[1] then
  if attempt >= spec.attempts then return 'lost' end
  attempt = attempt + 1
  run = run + 1
  redis.call('HSET', KEYS[1], 'replica', '', 'attempt', attempt, 'run', run)
  drop_input()
end
return {'requeue', run, attempt, tostring(spec.backoffMs)}
`;

// This replica hands a running redeliverable record back, uncounted (a graceful drain, or its lease
// in doubt). KEYS: record. ARGV: owner tag, this replica. Answers the run queued (a record queued
// already, by a hand-back cut short or by a reaper, answers its run: its job is added again, once),
// or false when it is not this replica's to give (ended, gone, or another replica runs it).
const HAND_BACK = `
${DROP_INPUT}
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1]
  or not redis.call('HGET', KEYS[1], 'redelivery') then
  return false
end
local replica = redis.call('HGET', KEYS[1], 'replica')
if replica == '' then return tonumber(redis.call('HGET', KEYS[1], 'run')) end
if replica ~= ARGV[2] then return false end
local run = redis.call('HINCRBY', KEYS[1], 'run', 1)
redis.call('HSET', KEYS[1], 'replica', '')
drop_input()
return run
`;

// The hand-back's job is queued: the record leaves this replica's running set, unless this replica
// took it again meanwhile, and is watched as queued while no replica has taken it. KEYS: record,
// this replica's running set, queued zset. ARGV: id, this replica, when its job is due.
const RELEASE = `
local replica = redis.call('HGET', KEYS[1], 'replica')
if replica ~= ARGV[2] then redis.call('SREM', KEYS[2], ARGV[1]) end
if replica == '' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end
return 0
`;

// A record queued this long past its job's due time was not taken: BullMQ lost the job (failed
// for good, or removed), or no replica serves. KEYS: record, queued zset. ARGV: id, now. Answers
// false (not queued any more: forgotten), {'expired', maxLifetimeMs} (its lifetime is over: fail
// it), or the run whose job to queue again (checked again later).
const CHECK_QUEUED = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'replica') ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return false
end
local spec = cjson.decode(redis.call('HGET', KEYS[1], 'redelivery'))
local lifetime = spec.maxLifetimeMs
if type(lifetime) == 'number' and tonumber(redis.call('HGET', KEYS[1], 'started_at')) + lifetime <= tonumber(ARGV[2]) then
  return {'expired', lifetime}
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return tonumber(redis.call('HGET', KEYS[1], 'run'))
`;

// A replica takes a queued record for its run. KEYS: record, this replica's running set, queued
// zset. ARGV: run, this replica. Answers the record's fields, or false when it is not queued for that run (a stale
// or repeated job, an operation that ended meanwhile).
const CLAIM = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'replica') ~= ''
  or redis.call('HGET', KEYS[1], 'run') ~= ARGV[1] then
  return false
end
local id = redis.call('HGET', KEYS[1], 'id')
redis.call('HSET', KEYS[1], 'replica', ARGV[2])
redis.call('SADD', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
return redis.call('HGETALL', KEYS[1])
`;

/**
 * A store that several server replicas share through Redis: any replica answers `continue`,
 * `cancel`, `get` and `list` for any operation, while the work runs on the replica that started
 * it. Terminal states are set once, by a Lua compare-and-set, and published, so that waiters on
 * every replica wake without polling and a cancel anywhere aborts the work where it runs. Each
 * replica renews a lease; when one stops (a crash), another reports its running operations failed
 * with a {@link ReplicaLostError} within about `leaseMs`. Retention is Redis key expiry.
 *
 * Create it with {@link RedisStore.connect}; close it after stopping the executor.
 */
export class RedisStore implements OperationStore {
  /** This process's replica id. */
  readonly replica: string;
  readonly #client: RedisClientType;
  readonly #subscriber: RedisClientType;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #commandTimeoutMs: number;
  readonly #maxResultBytes: number;
  readonly #listeners = new Set<(change: StoreChange) => void>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #sha = new Map<string, string>();
  readonly #connection: ConnectionState;
  #size = 0;
  #closed = false;
  /** BullMQ's queue of operations to run again, or why there is none. */
  readonly #redeliveries: RedeliveryQueue | string;
  /** Fires when this replica's lease is about to run out unrenewed (see #armFence). */
  #fenceTimer: NodeJS.Timeout | undefined = undefined;
  /** From the fence on, until a renewal lands: this replica takes no redelivered work. */
  #leaseInDoubt = false;
  /** Whether a beat has renewed the lease yet (the first one adds this replica). */
  #renewedOnce = false;
  /** Since when this replica's beats succeed, without a failure since (see #renewAndReap). */
  #renewingSince: number | undefined = undefined;

  private constructor(
    client: RedisClientType,
    connection: ConnectionState,
    subscriber: RedisClientType,
    prefix: string,
    leaseMs: number,
    commandTimeoutMs: number,
    maxResultBytes: number,
    redeliveries: RedeliveryQueue | string,
  ) {
    this.#redeliveries = redeliveries;
    this.#client = client;
    this.#connection = connection;
    this.#subscriber = subscriber;
    this.#prefix = prefix;
    this.#leaseMs = leaseMs;
    this.#commandTimeoutMs = commandTimeoutMs;
    this.#maxResultBytes = maxResultBytes;
    this.replica = randomBytes(9).toString('base64url');
    // A connection lost (Redis down, or this replica cut off) restarts the count to reaping.
    client.on('error', () => {
      this.#renewingSince = undefined;
    });
    this.#heartbeat = setInterval(
      () => void this.#beat().catch(() => undefined),
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    this.#heartbeat.unref();
  }

  /** Connects to Redis (two connections: commands, and the change feed) and claims a lease. */
  static async connect(options?: RedisStoreOptions): Promise<RedisStore> {
    const o = checkOptions('the options of RedisStore.connect()', options, OPTION_KEYS);
    const url = o.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
      throw new TypeError(`Expected \`url\` to be a redis:// or rediss:// URL, got ${describeValue(url)}`);
    }
    const prefix = o.prefix ?? 'mcp-async:';
    if (typeof prefix !== 'string')
      throw new TypeError(`Expected \`prefix\` to be a string, got ${describeValue(prefix)}`);
    const leaseMs = checkMilliseconds('leaseMs', o.leaseMs ?? 10_000);
    if (leaseMs < 30)
      throw new RangeError(`Expected \`leaseMs\` to be at least 30, got ${describeValue(leaseMs)}`);
    const maxResultBytes = checkCount('maxResultBytes', o.maxResultBytes ?? 1_048_576, 1);
    const commandTimeoutMs = checkMilliseconds('commandTimeoutMs', o.commandTimeoutMs ?? 5000);
    if (commandTimeoutMs < 1)
      throw new RangeError(
        `Expected \`commandTimeoutMs\` to be at least 1, got ${describeValue(commandTimeoutMs)}`,
      );

    const client = createClient({
      url,
      commandOptions: { timeout: commandTimeoutMs },
      socket: { reconnectStrategy: reconnectWithin(leaseMs / 4) },
    }) as RedisClientType;
    const connection = new ConnectionState(client, url, commandTimeoutMs);
    await client.connect();
    const subscriber = client.duplicate();
    subscriber.on('error', () => undefined);
    await subscriber.connect();
    const redeliveries = await RedeliveryQueue.load(url, prefix, leaseMs, commandTimeoutMs);
    const store = new RedisStore(
      client,
      connection,
      subscriber,
      prefix,
      leaseMs,
      commandTimeoutMs,
      maxResultBytes,
      redeliveries,
    );
    await subscriber.subscribe(`${prefix}events`, (message) => store.#onMessage(message));
    // Ready again after a lost connection (node-redis subscribes again by itself): whatever was
    // published meanwhile never came, so listeners are told to read again.
    subscriber.on('ready', () => store.#onResumed());
    await store.#beat();
    return store;
  }

  /** Records held across every replica, running and retained, as of the last heartbeat or write. */
  get size(): number {
    return this.#size;
  }

  insert(record: OperationRecord): Promise<void> {
    return this.#explained(this.#insert(record));
  }

  async #insert(record: OperationRecord): Promise<void> {
    const tag = ownerTag(record.owner);
    const added = await this.#eval(
      INSERT,
      [
        this.#key(record.id),
        `${this.#prefix}owner:${tag}`,
        `${this.#prefix}ops`,
        `${this.#prefix}running:${this.replica}`,
      ],
      [
        record.id,
        tag,
        record.type,
        String(record.startedAt),
        record.progress === undefined ? '' : JSON.stringify(record.progress),
        this.replica,
        ...(record.redelivery === undefined ? [] : [JSON.stringify(record.redelivery)]),
      ],
    );
    if (Number(added) !== 1) throw new Error(`RedisStore: operation "${record.id}" already exists`);
    this.#size++;
  }

  get(id: string, owner: string | undefined): Promise<OperationRecord | undefined> {
    return this.#explained(this.#get(id, owner));
  }

  async #get(id: string, owner: string | undefined): Promise<OperationRecord | undefined> {
    const fields = await this.#client.hGetAll(this.#key(id));
    if (fields.status === undefined || fields.owner !== ownerTag(owner)) return undefined;
    const record = recordOf(fields);
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) return undefined;
    return record;
  }

  setProgress(id: string, owner: string | undefined, progress: Progress): Promise<void> {
    return this.#explained(this.#setProgress(id, owner, progress));
  }

  async #setProgress(id: string, owner: string | undefined, progress: Progress): Promise<void> {
    await this.#eval(PROGRESS, [this.#key(id)], [ownerTag(owner), JSON.stringify(progress), this.replica]);
  }

  async requestInput(id: string, owner: string | undefined, key: string, request: unknown): Promise<boolean> {
    const asked = await this.#eval(
      REQUEST_INPUT,
      [this.#key(id)],
      [ownerTag(owner), key, JSON.stringify(request), `${this.#prefix}events`, id, this.replica],
    );
    return Number(asked) === 1;
  }

  async answerInput(
    id: string,
    owner: string | undefined,
    responses: Readonly<Record<string, unknown>>,
  ): Promise<readonly string[] | undefined> {
    const pairs = Object.entries(responses).flatMap(([key, response]) => [key, JSON.stringify(response)]);
    const taken = await this.#eval(
      ANSWER_INPUT,
      [this.#key(id)],
      [ownerTag(owner), `${this.#prefix}events`, id, ...pairs],
    );
    return Array.isArray(taken) ? (taken as string[]) : undefined;
  }

  async takeInput(
    id: string,
    owner: string | undefined,
    key: string,
    withdraw = false,
  ): Promise<InputAnswer | undefined> {
    const answer = await this.#eval(
      TAKE_INPUT,
      [this.#key(id)],
      [ownerTag(owner), key, withdraw ? '1' : '0'],
    );
    return Array.isArray(answer) ? { response: JSON.parse(answer[0] as string) } : undefined;
  }

  /**
   * Makes a running record terminal, once, across every replica, and publishes it. A completed
   * result that cannot be stored makes the record failed with a `ResultNotStorableError` instead.
   */
  finish(
    id: string,
    owner: string | undefined,
    update: TerminalUpdate,
  ): Promise<OperationRecord | undefined> {
    return this.#explained(this.#finish(id, owner, update));
  }

  async #finish(
    id: string,
    owner: string | undefined,
    update: TerminalUpdate,
  ): Promise<OperationRecord | undefined> {
    const written = serializeUpdate(update, this.#maxResultBytes);
    const answer = await this.#finishAs(ownerTag(owner), id, {
      status: written.status,
      finishedAt: update.finishedAt,
      expiresAt: update.expiresAt,
      result: written.result ?? '',
      resultError: written.resultError,
      error: written.error ?? '',
      runner: update.runner === true ? this.replica : '',
    });
    if (answer === undefined) return undefined;
    // Unapplied: another writer's terminal state stands, and is answered as stored.
    return answer.applied ? answerOwnUpdate(answer.record, update, written) : answer.record;
  }

  /**
   * Newest first, without their results (a listing shows none): the owner's index read from the
   * cursor's position in batches, each batch's records read in one pipeline.
   */
  list(filter: RecordFilter): Promise<OperationRecord[]> {
    return this.#explained(this.#list(filter));
  }

  async #list(filter: RecordFilter): Promise<OperationRecord[]> {
    const index = `${this.#prefix}owner:${ownerTag(filter.owner)}`;
    const now = Date.now();
    const out: OperationRecord[] = [];
    // Where the listing stands, in the index's newest-first order: everything started after `max`,
    // or at `max` with an id not below `lastId`, is behind it. Each batch is read from `max` on,
    // skipping the `skip` entries at `max` already read (ties come in descending id order), and
    // checked against the position too, so that an entry inserted or removed meanwhile neither
    // comes twice nor stalls the loop.
    let max: number | undefined = filter.after?.startedAt;
    let lastId: string | undefined = filter.after?.id;
    let skip = 0;
    while (out.length < filter.limit) {
      const entries = await this.#client.zRangeWithScores(index, max ?? '+inf', '-inf', {
        BY: 'SCORE',
        REV: true,
        LIMIT: { offset: skip, count: LIST_BATCH },
      });
      const ids = entries
        .filter(
          (entry) => max === undefined || entry.score < max || lastId === undefined || entry.value < lastId,
        )
        .map((entry) => entry.value);
      const pipeline = this.#client.multi();
      for (const id of ids) pipeline.hmGet(this.#key(id), LISTED_FIELDS);
      const rows = (ids.length === 0 ? [] : await pipeline.execAsPipeline()) as unknown as (
        | string
        | null
      )[][];
      for (const row of rows) {
        const fields = fieldsOf(row);
        if (fields.status === undefined) continue; // expired: the sweep prunes the index
        const record = recordOf(fields);
        if (record.expiresAt !== undefined && record.expiresAt <= now) continue;
        if (filter.status !== undefined && record.status !== filter.status) continue;
        if (filter.type !== undefined && record.type !== filter.type) continue;
        if (out.length < filter.limit) out.push(record);
      }
      const last = entries.at(-1);
      if (last === undefined || entries.length < LIST_BATCH) break;
      if (last.score === max) {
        skip += entries.length; // the whole batch was at `max`
        if (lastId === undefined || last.value < lastId) lastId = last.value;
      } else {
        max = last.score;
        lastId = last.value;
        skip = entries.filter((entry) => entry.score === last.score).length;
      }
    }
    return out;
  }

  /**
   * Redis expires the records by itself (their key's expiry is the retention); the sweep prunes
   * the indexes of what expired, and is the only thing that does (the heartbeat leaves them be),
   * so that an owner's index never keeps an expired id. Hands nothing to `onExpired`.
   */
  sweep(now: number): Promise<number> {
    return this.#explained(this.#sweep(now));
  }

  async #sweep(now: number): Promise<number> {
    let dropped = 0;
    for (;;) {
      const expired = await this.#client.zRangeByScore(`${this.#prefix}ops`, '-inf', now, {
        LIMIT: { offset: 0, count: SWEEP_BATCH },
      });
      if (expired.length === 0) break;
      const pipeline = this.#client.multi().zRem(`${this.#prefix}ops`, expired);
      for (const member of expired) {
        const [id, tag] = splitMember(member);
        pipeline.zRem(`${this.#prefix}owner:${tag}`, id);
      }
      await pipeline.exec();
      dropped += expired.length;
      this.#size = Math.max(0, this.#size - expired.length);
      if (expired.length < SWEEP_BATCH) break;
    }
    return dropped;
  }

  evictOldestFinished(): Promise<OperationRecord | undefined> {
    return this.#explained(this.#evictOldestFinished());
  }

  async #evictOldestFinished(): Promise<OperationRecord | undefined> {
    for (;;) {
      const [oldest] = await this.#client.zRangeByScore(`${this.#prefix}ops`, '-inf', '(+inf', {
        LIMIT: { offset: 0, count: 1 },
      });
      if (oldest === undefined) return undefined;
      const [id, tag] = splitMember(oldest);
      const fields = await this.#client.hGetAll(this.#key(id));
      const removed = await this.#client
        .multi()
        .zRem(`${this.#prefix}ops`, oldest)
        .zRem(`${this.#prefix}owner:${tag}`, id)
        .del(this.#key(id))
        .exec();
      if (fields.status !== undefined && Number(removed[2]) === 1) {
        this.#size = Math.max(0, this.#size - 1);
        return recordOf(fields);
      }
    }
  }

  /**
   * Runs redelivered work here: each redeliverable operation queued to run again (its replica died,
   * or handed it back) that this replica takes is handed to `run`, once the record says this
   * replica runs it. Throws when the `bullmq` package is missing.
   */
  serveRedeliveries(run: (record: OperationRecord) => void): () => Promise<void> {
    const queue = this.#redeliveries;
    if (typeof queue === 'string') throw new Error(`RedisStore: ${queue}`);
    queue.serve(async (id, runNumber) => {
      // Fenced: work taken now could be reaped as soon as it starts. BullMQ hands the job on.
      if (this.#leaseInDoubt) throw new Error('this replica could not renew its lease in time');
      const fields = await this.#eval(
        CLAIM,
        [this.#key(id), `${this.#prefix}running:${this.replica}`, `${this.#prefix}queued`],
        [String(runNumber), this.replica],
      );
      if (!Array.isArray(fields)) return; // not queued for this run: nothing to take
      run(recordOf(pairsOf(fields as string[])));
    });
    return () => queue.stopServing();
  }

  handBack(id: string, owner: string | undefined): Promise<boolean> {
    return this.#explained(this.#handBack(id, owner));
  }

  async #handBack(id: string, owner: string | undefined): Promise<boolean> {
    const queue = this.#redeliveries;
    if (typeof queue === 'string') return false;
    const run = await this.#eval(HAND_BACK, [this.#key(id)], [ownerTag(owner), this.replica]);
    if (typeof run !== 'number') return false;
    await queue.add(id, run, 0);
    // Queued: no longer this replica's (until then, a reaper would requeue it, were this one to die).
    await this.#eval(
      RELEASE,
      [this.#key(id), `${this.#prefix}running:${this.replica}`, `${this.#prefix}queued`],
      [id, this.replica, String(Date.now())],
    );
    return true;
  }

  watch(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Gives up this replica's lease and closes both connections. Operations it still runs are left
   * to the other replicas' reaper, exactly as a crash would: stop the executor first.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#fenceTimer);
    this.#listeners.clear();
    const queue = this.#redeliveries;
    await Promise.allSettled([
      this.#disconnect(this.#subscriber),
      this.#disconnect(this.#client),
      typeof queue === 'string' ? undefined : queue.close(),
    ]);
  }

  /**
   * QUIT when connected (pending commands are answered first), else drop the connection: node-redis
   * queues a QUIT while Redis is unreachable and, unlike other commands, never times it out, so a
   * close during an outage would hang until Redis came back.
   */
  async #disconnect(client: RedisClientType): Promise<void> {
    if (!client.isReady) return client.destroy();
    const fallback = () => client.destroy();
    await pTimeout(client.quit(), { milliseconds: this.#commandTimeoutMs, fallback });
  }

  /**
   * Renews this replica's lease, fails the running operations of replicas whose lease ran out
   * (any replica may do it: the compare-and-set makes it once), and refreshes `size`.
   */
  async #beat(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#renewAndReap();
    } catch (error) {
      this.#renewingSince = undefined;
      throw error;
    }
  }

  async #renewAndReap(): Promise<void> {
    const replicas = `${this.#prefix}replicas`;
    const asked = Date.now();
    const added = await this.#client.zAdd(replicas, { score: asked + this.#leaseMs, value: this.replica });
    const now = Date.now();
    this.#armFence(asked);
    // Added anew, after the first time: another replica reaped this one (it was frozen, or cut off,
    // past its lease). Its redeliverable work runs elsewhere now, or soon, even a run that began
    // after the fence fired (started or taken as the connection came back): the fence again, for
    // all of it. And what the reaper published may not have come: listeners read again.
    if (added === 1 && this.#renewedOnce) {
      this.#fence();
      this.#onResumed();
    }
    this.#renewedOnce = true;
    this.#leaseInDoubt = false;
    // A renewal held up (queued while Redis was unreachable) is no sign of health either.
    if (now - asked > this.#leaseMs / 3) this.#renewingSince = undefined;
    this.#renewingSince ??= now;
    // A replica that could not renew itself (Redis was down, or just this replica's connection)
    // cannot tell a dead replica from one as cut off as it was, which has not renewed yet: it reaps
    // only once it has renewed for a whole lease, time for every live replica to connect again
    // (each retries at least every quarter lease, see reconnectWithin) and renew too. So an
    // outage of any length fails no work on a live replica; a dead one is reaped a lease later.
    const reaping = now - this.#renewingSince >= this.#leaseMs;
    for (const dead of reaping ? await this.#client.zRangeByScore(replicas, '-inf', now) : []) {
      const error = serializeError(new ReplicaLostError(dead));
      let requeueFailed = false;
      for (const id of await this.#client.sMembers(`${this.#prefix}running:${dead}`)) {
        // A requeue that failed (BullMQ could not add the job) holds up no other operation, nor
        // this replica's reaping: the dead replica's set stays, and the next beat tries again.
        const requeued = await this.#requeue(id, dead).catch(() => {
          requeueFailed = true;
          return true;
        });
        if (requeued) continue;
        await this.#failOnBehalf(id, error, now);
      }
      if (requeueFailed) continue;
      await this.#client.multi().del(`${this.#prefix}running:${dead}`).zRem(replicas, dead).exec();
    }
    if (reaping) await this.#checkQueued(now).catch(() => undefined); // tried again next beat
    this.#size = await this.#client.zCard(`${this.#prefix}ops`);
  }

  /**
   * Queued work that no replica took within two leases of its job's due time (BullMQ's stall check
   * runs every lease): its job is queued again, should BullMQ have lost it (failed for good, or
   * removed), and work whose lifetime ran out while queued (no replica serves its job) fails with
   * an `OperationLifetimeError`, as it would have wherever it ran. So no queued record reads
   * "running" past its lifetime.
   */
  async #checkQueued(now: number): Promise<void> {
    const queue = this.#redeliveries;
    if (typeof queue === 'string') return;
    const queued = `${this.#prefix}queued`;
    const overdue = await this.#client.zRangeByScore(queued, '-inf', now - 2 * this.#leaseMs, {
      LIMIT: { offset: 0, count: LIST_BATCH },
    });
    for (const id of overdue) {
      const answer = await this.#eval(CHECK_QUEUED, [this.#key(id), queued], [id, String(now)]);
      if (typeof answer === 'number') await queue.ensure(id, answer);
      else if (Array.isArray(answer)) {
        await this.#failOnBehalf(id, serializeError(new OperationLifetimeError(Number(answer[1]))), now);
        await this.#client.zRem(queued, id);
      }
    }
  }

  /**
   * Fails an operation whose runner cannot: owner '*', the reaper acts for whoever owns it. Retention
   * as for any failure: a lease's worth would be too short to be read, so the operation stays as long
   * as the longest wait.
   */
  async #failOnBehalf(id: string, error: string, now: number): Promise<void> {
    const expiresAt = now + Math.max(this.#leaseMs * 30, 300_000);
    await this.#finishAs('*', id, {
      status: 'failed',
      finishedAt: now,
      expiresAt,
      result: '',
      resultError: null,
      error,
    });
  }

  /**
   * The lease renewed at `asked` runs out at `asked + leaseMs`, after which another replica may
   * reap this one and run its redeliverable work again: unless a renewal comes first, this replica
   * stops that work (and hands it back) at four fifths of the lease, before anyone can reap it, so
   * that it never runs twice at once. (Other work runs on: it is never run again, and an outage
   * must fail none; see #renewAndReap.)
   */
  #armFence(asked: number): void {
    clearTimeout(this.#fenceTimer);
    const fenceIn = asked + this.#leaseMs * FENCE_AT - Date.now();
    this.#fenceTimer = setTimeout(() => this.#fence(), Math.max(0, fenceIn));
    this.#fenceTimer.unref();
  }

  #fence(): void {
    if (this.#closed) return;
    this.#leaseInDoubt = true;
    const change: StoreChange = { id: '', status: 'running', fenced: this.replica };
    for (const listener of this.#listeners) listener(change);
  }

  /**
   * Sends an operation of the dead replica `dead` back to the queue, if it is redeliverable and has
   * attempts left: answers true when it is queued (or nothing is left to do), false when it is lost.
   */
  async #requeue(id: string, dead: string): Promise<boolean> {
    const queue = this.#redeliveries;
    if (typeof queue === 'string') return false; // nobody could take it: lost
    const answer = await this.#eval(REQUEUE, [this.#key(id)], [dead]);
    if (answer === 'lost') return false;
    if (Array.isArray(answer)) {
      const [, run, attempt, backoffMs] = answer as [string, number, number, string];
      // backoffMs before the first run again, doubled for each after; none for a hand-back's run.
      const delayMs = attempt < 2 ? 0 : Math.min(Number(backoffMs) * 2 ** (attempt - 2), MAX_BACKOFF_MS);
      await queue.add(id, run, delayMs);
      // Watched until a replica takes it (see #checkQueued); the requeue is over then.
      await this.#client.zAdd(`${this.#prefix}queued`, { score: Date.now() + delayMs, value: id });
    }
    return true;
  }

  async #finishAs(
    tag: string,
    id: string,
    end: {
      status: OperationStatus;
      finishedAt: number;
      expiresAt: number;
      result: string;
      resultError: string | null;
      error: string;
      runner?: string;
    },
  ): Promise<{ applied: boolean; record: OperationRecord } | undefined> {
    const reply = (await this.#eval(
      FINISH,
      [this.#key(id), `${this.#prefix}ops`],
      [
        tag,
        end.status,
        String(end.finishedAt),
        String(end.expiresAt),
        end.result,
        end.error,
        `${this.#prefix}events`,
        id,
        this.#prefix,
        end.resultError ?? '',
        end.runner ?? '',
      ],
    )) as [number, string[]] | null;
    if (reply === null || !Array.isArray(reply)) return undefined;
    const [applied, pairs] = reply;
    return { applied: applied === 1, record: recordOf(pairsOf(pairs)) };
  }

  /** EVALSHA, loading the script on first use or after a Redis restart flushed it. */
  async #eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    let sha = this.#sha.get(script);
    if (sha === undefined) {
      sha = createHash('sha1').update(script).digest('hex');
      this.#sha.set(script, sha);
    }
    try {
      return await this.#client.evalSha(sha, { keys, arguments: args });
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error;
      return this.#client.eval(script, { keys, arguments: args });
    }
  }

  /** A failed command, explained: what failed and why (see connection.ts). */
  #explained<T>(call: Promise<T>): Promise<T> {
    return call.catch((error: unknown) => {
      throw this.#connection.explain(error);
    });
  }

  #onResumed(): void {
    if (this.#closed) return;
    const change: StoreChange = { id: '', status: 'running', resumed: true };
    for (const listener of this.#listeners) listener(change);
  }

  #onMessage(message: string): void {
    const space = message.indexOf(' ');
    if (space === -1) return;
    const id = message.slice(0, space);
    const word = message.slice(space + 1);
    const change: StoreChange =
      word === 'asked' || word === 'answered'
        ? { id, status: 'running', input: word }
        : { id, status: word as OperationStatus };
    for (const listener of this.#listeners) listener(change);
  }

  #key(id: string): string {
    return `${this.#prefix}op:${id}`;
  }
}

/**
 * node-redis's reconnect strategy, its backoff capped at `capMs` (node-redis's own cap is 2 s, plus
 * up to 200 ms of jitter). Once Redis is back, every replica must be connected again and renewed
 * within the lease that a replica back from the outage waits before it reaps any other (see
 * #renewAndReap): with a lease shorter than node-redis's cap, a replica that happened to retry
 * late was reaped while it ran.
 */
function reconnectWithin(capMs: number): (retries: number) => number {
  return (retries) => {
    const backoffMs = Math.min(2 ** retries * 50, 2000, capMs);
    return Math.round(backoffMs * (0.8 + Math.random() * 0.2)); // jittered, within the cap
  };
}

function splitMember(member: string): [string, string] {
  const space = member.indexOf(' ');
  return [member.slice(0, space), member.slice(space + 1)];
}

/** The hash fields a listing reads: all but the result. */
const LISTED_FIELDS = [
  'id',
  'owner',
  'type',
  'status',
  'started_at',
  'finished_at',
  'expires_at',
  'result_error',
  'error',
  'progress',
  'attempt',
];

/** HMGET's answer, in {@link LISTED_FIELDS} order, as the fields present. */
function fieldsOf(row: (string | null)[]): Record<string, string> {
  const fields: Record<string, string> = {};
  LISTED_FIELDS.forEach((name, i) => {
    const value = row[i];
    if (value !== null && value !== undefined) fields[name] = value;
  });
  return fields;
}

function recordOf(fields: Record<string, string>): OperationRecord {
  const number = (value: string | undefined) =>
    value === undefined || value === '' ? undefined : Number(value);
  const status = fields.status as OperationStatus;
  return {
    id: fields.id ?? '',
    type: fields.type ?? '',
    owner: fields.owner === undefined || fields.owner === 'n' ? undefined : fields.owner.slice(2),
    status,
    startedAt: Number(fields.started_at),
    finishedAt: number(fields.finished_at),
    expiresAt: number(fields.expires_at),
    result:
      status === 'completed'
        ? deserializeResult(fields.result === '' || fields.result === undefined ? null : fields.result)
        : undefined,
    resultError:
      fields.result_error === undefined || fields.result_error === '' ? undefined : fields.result_error,
    error: fields.error === undefined || fields.error === '' ? undefined : deserializeError(fields.error),
    progress:
      fields.progress === undefined || fields.progress === ''
        ? undefined
        : (JSON.parse(fields.progress) as Progress),
    inputRequests: inputRequestsOf(fields),
    ...(fields.attempt === undefined
      ? {}
      : {
          attempt: Number(fields.attempt),
          redelivery:
            fields.redelivery === undefined ? undefined : (JSON.parse(fields.redelivery) as Redelivery),
        }),
  };
}

/** HGETALL's answer as a script returns it (field, value, ...), as an object. */
function pairsOf(pairs: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i]!] = pairs[i + 1]!;
  return fields;
}

/** The outstanding input requests among a record's fields (ir:<key>), `undefined` for none. */
function inputRequestsOf(fields: Record<string, string>): Record<string, unknown> | undefined {
  let requests: Record<string, unknown> | undefined;
  for (const field in fields) {
    if (!field.startsWith('ir:')) continue;
    requests ??= {};
    requests[field.slice(3)] = JSON.parse(fields[field]!);
  }
  return requests;
}
