// A Map from operation id to record that never holds more than a few thousand entries per hash
// table. V8 rehashes a whole Map in one step when it grows past, or shrinks below a quarter of, its
// capacity: measured at 17 ms for a single delete() in a 1M-entry Map, which would stall every
// request while retention drops a million records (and every execute() while they accumulate).
// Past PROMOTE_AT entries the ids are spread over SHARDS Maps, so no rehash moves more than a few
// thousand entries (about 0.3 ms).

const PROMOTE_AT = 4096;
const SHARDS = 64;

function shardOf(id: string): number {
  return (id.charCodeAt(0) * 31 + id.charCodeAt(id.length - 1)) & (SHARDS - 1);
}

/** Map<id, V>, sharded once it is large. */
export class ShardedMap<V> {
  #single: Map<string, V> | undefined = new Map();
  #shards: Map<string, V>[] | undefined = undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: string): V | undefined {
    return this.#single !== undefined ? this.#single.get(id) : this.#shards![shardOf(id)]!.get(id);
  }

  has(id: string): boolean {
    return this.#single !== undefined ? this.#single.has(id) : this.#shards![shardOf(id)]!.has(id);
  }

  /** Adds or replaces; a replaced entry keeps its place in the order. */
  set(id: string, value: V): void {
    const map = this.#single ?? this.#shards![shardOf(id)]!;
    const before = map.size;
    map.set(id, value);
    if (map.size === before) return;
    this.#size++;
    if (this.#single !== undefined && this.#size > PROMOTE_AT) this.#promote();
  }

  delete(id: string): boolean {
    const map = this.#single ?? this.#shards![shardOf(id)]!;
    if (!map.delete(id)) return false;
    this.#size--;
    return true;
  }

  /** Every value: in insertion order while unsharded, shard by shard once sharded. */
  *values(): IterableIterator<V> {
    if (this.#single !== undefined) yield* this.#single.values();
    else for (const shard of this.#shards!) yield* shard.values();
  }

  #promote(): void {
    const shards = Array.from({ length: SHARDS }, () => new Map<string, V>());
    for (const [id, value] of this.#single!) shards[shardOf(id)]!.set(id, value);
    this.#shards = shards;
    this.#single = undefined;
  }
}
