// Many timeouts of one duration on one timer: the router gives every routed tool call the same
// timeout, and a timer per call (created, then cleared a moment later when the host answers) was
// the biggest single cost of a routed call after JSON (bench/tool_call_load.ts).

/** A pending timeout; pass it to {@linkcode DeadlineQueue.cancel}. */
export interface Deadline {
  /** When it expires, in `performance.now()` time. */
  readonly at: number;
}

interface Entry<T> extends Deadline {
  item: T;
  live: boolean;
}

/** Below this many cancelled entries the queue is not compacted. */
const COMPACT_MIN = 1024;

/**
 * Timeouts that all last `ms`, so they expire in the order they were added: a FIFO with one timer
 * set for the oldest live entry. Cancelling is O(1); cancelled entries are dropped when the timer
 * passes them or, when they pile up, by an occasional compaction.
 */
export class DeadlineQueue<T> {
  readonly #ms: number;
  readonly #expire: (item: T) => void;
  #entries: Entry<T>[] = [];
  #head = 0;
  #live = 0;
  #dead = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  /**
   * @param ms How long every entry lasts.
   * @param expire Called with an entry's item when it expires (not when cancelled).
   */
  constructor(ms: number, expire: (item: T) => void) {
    this.#ms = ms;
    this.#expire = expire;
  }

  /** How many entries are waiting. */
  get size(): number {
    return this.#live;
  }

  /** Adds an entry that expires in `ms`. */
  add(item: T): Deadline {
    const entry: Entry<T> = { at: performance.now() + this.#ms, item, live: true };
    this.#entries.push(entry);
    this.#live++;
    if (this.#timer === undefined) this.#schedule(entry.at);
    return entry;
  }

  /** Cancels an entry; nothing happens when it already expired or was cancelled. */
  cancel(deadline: Deadline | undefined): void {
    const entry = deadline as Entry<T> | undefined;
    if (!entry?.live) return;
    entry.live = false;
    this.#live--;
    this.#dead++;
    if (this.#live === 0) {
      this.#reset();
    } else if (this.#dead > COMPACT_MIN && this.#dead > 2 * this.#live) {
      this.#entries = this.#entries.slice(this.#head).filter((e) => e.live);
      this.#head = 0;
      this.#dead = 0;
    }
  }

  /** Cancels everything and stops the timer. */
  clear(): void {
    for (let i = this.#head; i < this.#entries.length; i++) this.#entries[i].live = false;
    this.#reset();
  }

  #reset(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#entries = [];
    this.#head = 0;
    this.#live = 0;
    this.#dead = 0;
  }

  #schedule(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, Math.max(0, at - performance.now()));
  }

  readonly #fire = () => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    // [impl] Timers may fire up to a millisecond before `at` by rounding: that counts as due.
    const due = performance.now() + 1;
    // this.#entries is read anew each turn: an expire callback may cancel (and compact) or add.
    while (this.#head < this.#entries.length) {
      const entry = this.#entries[this.#head];
      if (entry.live && entry.at > due) break;
      this.#head++;
      if (!entry.live) {
        this.#dead--;
        continue;
      }
      entry.live = false;
      this.#live--;
      this.#expire(entry.item); // may add or cancel entries
    }
    if (this.#live === 0) {
      this.#reset();
      return;
    }
    if (this.#head > COMPACT_MIN && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    // The first entry left is live (dead ones before it were skipped above).
    this.#schedule(this.#entries[this.#head].at);
  };
}
