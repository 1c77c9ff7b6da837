// A first-in first-out queue stored in fixed-size chunks: push and shift are O(1) and never copy
// the whole queue (a plain array's shift() or splice() is O(n), 1 ms and more at a million entries).
//
// The memory store keeps finished records here in the order they finished. Every record is
// retained for the same period, so that is also the order in which they expire, and a sweep only
// ever looks at the head: its cost is the number of records that expire, not the number retained.

const CHUNK = 4096;

interface Chunk<T> {
  readonly items: (T | undefined)[];
  next: Chunk<T> | undefined;
}

/** A FIFO queue whose push, peek and shift are O(1) at any size. */
export class ExpiryQueue<T> {
  #head: Chunk<T> = { items: new Array(CHUNK), next: undefined };
  #tail: Chunk<T> = this.#head;
  #headIndex = 0;
  #tailIndex = 0;
  #size = 0;

  /** Number of queued items. */
  get size(): number {
    return this.#size;
  }

  /** Appends `item` at the tail. */
  push(item: T): void {
    if (this.#tailIndex === CHUNK) {
      const chunk: Chunk<T> = { items: new Array(CHUNK), next: undefined };
      this.#tail.next = chunk;
      this.#tail = chunk;
      this.#tailIndex = 0;
    }
    this.#tail.items[this.#tailIndex++] = item;
    this.#size++;
  }

  /** The item at the head, without removing it. */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#head.items[this.#headIndex];
  }

  /** Removes and returns the item at the head. */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#head.items[this.#headIndex];
    this.#head.items[this.#headIndex++] = undefined;
    this.#size--;
    if (this.#headIndex === CHUNK) {
      // The head chunk is used up; the tail chunk is never left behind, so `next` exists unless
      // the queue is now empty, in which case the single chunk is reused from the start.
      if (this.#head.next) this.#head = this.#head.next;
      else this.#tailIndex = 0;
      this.#headIndex = 0;
    } else if (this.#size === 0) {
      this.#headIndex = 0;
      this.#tailIndex = 0;
    }
    return item;
  }
}
