import { createHash, randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from '@redis/client';
import pTimeout from 'p-timeout';
import { ReplicaLostError } from '../errors.js';
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
  StoreChange,
  TerminalUpdate,
} from '../stores/store.js';
import type { OperationStatus, Progress } from '../types.js';
import { checkCount, checkMilliseconds, checkOptions, describeValue } from '../validate.js';
import { ConnectionState } from './connection.js';

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

/** Index entries read per round trip by `list()`, and pruned per round trip by `sweep()`. */
const LIST_BATCH = 200;
const SWEEP_BATCH = 1000;

/** The owner as stored: `s:<owner>`, or `n` for the unowned. */
const ownerTag = (owner: string | undefined) => (owner === undefined ? 'n' : `s:${owner}`);

// Makes a running record terminal, once, atomically: the compare-and-set every replica shares.
// KEYS: record, all-operations zset. ARGV: owner tag (or '*' for any), status, finished_at,
// expires_at, result, error, channel, id, prefix, result_error ('' for none). Drops the record's
// input (fields ir:<key> and ia:<key>). Answers {applied (1 or 0), the record's fields}:
// only the script knows whether this write won (two writers may bring the same status and time).
// An applied write's answer leaves out result and error: the writer has them already, and they
// would only cross the network to be parsed and thrown away.
const FINISH = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return false end
if ARGV[1] ~= '*' and redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return false end
if s ~= 'running' then return {0, redis.call('HGETALL', KEYS[1])} end
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
// progress, replica.
const INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'owner', ARGV[2], 'type', ARGV[3], 'status', 'running',
  'started_at', ARGV[4], 'progress', ARGV[5], 'replica', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], '+inf', ARGV[1] .. ' ' .. ARGV[2])
redis.call('SADD', KEYS[4], ARGV[1])
return 1
`;

// Records progress on a running record only. KEYS: record. ARGV: owner tag, progress JSON.
const PROGRESS = `
if redis.call('HGET', KEYS[1], 'status') == 'running' and redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'progress', ARGV[2])
end
return 0
`;

// Input during the work: a request is the hash field ir:<key>, its answer (until the work takes it)
// ia:<key>; both JSON that the scripts move as they are, never decode. A change is published as
// "<id> asked" or "<id> answered", so that the replica running the work wakes at once.

// Adds an input request to a running record. KEYS: record. ARGV: owner tag, key, request JSON,
// channel, id. Answers 1, or 0 when the record is not running (or not the owner's).
const REQUEST_INPUT = `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
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
  ) {
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
    const store = new RedisStore(
      client,
      connection,
      subscriber,
      prefix,
      leaseMs,
      commandTimeoutMs,
      maxResultBytes,
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
    await this.#eval(PROGRESS, [this.#key(id)], [ownerTag(owner), JSON.stringify(progress)]);
  }

  async requestInput(id: string, owner: string | undefined, key: string, request: unknown): Promise<boolean> {
    const asked = await this.#eval(
      REQUEST_INPUT,
      [this.#key(id)],
      [ownerTag(owner), key, JSON.stringify(request), `${this.#prefix}events`, id],
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
    this.#listeners.clear();
    await Promise.allSettled([this.#disconnect(this.#subscriber), this.#disconnect(this.#client)]);
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
    await this.#client.zAdd(replicas, { score: asked + this.#leaseMs, value: this.replica });
    const now = Date.now();
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
      for (const id of await this.#client.sMembers(`${this.#prefix}running:${dead}`)) {
        // Owner '*': the reaper acts for whoever owns it. Retention as for any failure: a lease's worth
        // would be too short to be read, so the lost operation stays as long as the longest wait.
        const expiresAt = now + Math.max(this.#leaseMs * 30, 300_000);
        const end = {
          status: 'failed',
          finishedAt: now,
          expiresAt,
          result: '',
          resultError: null,
          error,
        } as const;
        await this.#finishAs('*', id, end);
      }
      await this.#client.multi().del(`${this.#prefix}running:${dead}`).zRem(replicas, dead).exec();
    }
    this.#size = await this.#client.zCard(`${this.#prefix}ops`);
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
      ],
    )) as [number, string[]] | null;
    if (reply === null || !Array.isArray(reply)) return undefined;
    const [applied, pairs] = reply;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i]!] = pairs[i + 1]!;
    return { applied: applied === 1, record: recordOf(fields) };
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
  };
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
