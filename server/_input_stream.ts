import { type Content, ErrorCode, ErrorContent } from "@meshagent/api";

/** [impl] Chunks buffered before their `__response__` is held back (TS waits for each answer). */
const HIGH_WATER = 32;
/**
 * [impl] Unread chunks one stream may hold at most. Clients wait for each chunk's answer; one
 * that does not (a hostile or broken one) gets its extra chunks refused instead of growing memory.
 */
export const MAX_UNREAD_CHUNKS = 256;

/** Bytes of unread chunks all the streams of one connection may hold together. */
export interface InputBudget {
  /** Bytes held now. */
  used: number;
  /** The most (default in the connection: 64 MiB). */
  readonly max: number;
}

interface Item {
  content: Content;
  ack?: () => void;
  bytes: number;
}

function sizeOf(content: Content): number {
  return 256 + (content.payload?.length ?? 0);
}

/**
 * The streamed input of one tool call: `room.tool_call_request_chunk` contents in arrival order,
 * ending at the caller's `control` close, its disconnect, or the end of the call.
 *
 * Backpressure [impl]: each chunk is answered (`ack`) at once while fewer than {@linkcode HIGH_WATER}
 * wait unread; beyond that the answer is sent when the tool reads the chunk. The TypeScript client
 * waits for each answer before it sends the next chunk, so a slow tool slows the uploader instead
 * of growing memory. Single consumer.
 */
export class InputStream implements AsyncIterable<Content> {
  #items: Item[] = [];
  readonly #budget: InputBudget;

  /**
   * @param budget The connection's budget for unread chunks (shared by its streams).
   */
  constructor(budget: InputBudget = { used: 0, max: Infinity }) {
    this.#budget = budget;
  }
  #waiter: ((result: IteratorResult<Content>) => void) | null = null;
  #ended = false;
  /** Answers the tool sends itself (see {@linkcode InputStream.deferAcks}), by chunk. */
  #deferred: Map<Content, (response?: Content) => void> | null = null;
  #closing = false;

  /** True once the stream ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Adds a chunk.
   *
   * @param content The chunk.
   * @param ack Sends the chunk's `__response__` (empty, or the given content).
   */
  push(content: Content, ack: (response?: Content) => void): void {
    const original = ack;
    if (this.#ended || this.#closing) {
      ack();
      return;
    }
    if (this.#deferred) {
      this.#deferred.set(content, ack);
      ack = () => {};
    }
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = null;
      ack();
      waiter({ value: content, done: false });
      return;
    }
    const bytes = sizeOf(content);
    if (
      this.#items.length >= MAX_UNREAD_CHUNKS || this.#budget.used + bytes > this.#budget.max
    ) {
      // Refused, not buffered: the sender did not wait for the answers of the chunks before.
      this.#deferred?.delete(content);
      return original(
        new ErrorContent(
          `too many unread input chunks (${this.#items.length} waiting, ` +
            `${this.#budget.used} bytes on this connection): wait for each chunk's answer ` +
            `before sending the next`,
          ErrorCode.INVALID_STATE,
        ),
      );
    }
    this.#budget.used += bytes;
    if (this.#items.length < HIGH_WATER) {
      ack();
      this.#items.push({ content, bytes });
    } else {
      this.#items.push({ content, ack, bytes });
    }
  }

  /**
   * Ends the input gracefully (the caller's `control` close): chunks already buffered are still
   * read, then the stream ends. Later pushes are answered and dropped.
   */
  close(): void {
    if (this.#ended) return;
    if (this.#items.length === 0) return this.end();
    this.#closing = true;
  }

  /**
   * Takes over the answers: from now on a chunk is answered only when the returned function is
   * called with it (a tool that answers once a chunk is durable), or at {@linkcode dispose}.
   *
   * @returns Sends the answer of one chunk: empty, or `response` (e.g. an error); once per chunk,
   *   unknown chunks are ignored.
   */
  deferAcks(): (chunk: Content, response?: Content) => void {
    const deferred = this.#deferred ??= new Map();
    return (chunk, response) => {
      const ack = deferred.get(chunk);
      if (!ack) return;
      deferred.delete(chunk);
      ack(response);
    };
  }

  /** Ends the stream; chunks not yet read are dropped and answered. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const item of this.#items) {
      this.#budget.used -= item.bytes;
      item.ack?.();
    }
    this.#items = [];
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.({ value: undefined, done: true });
  }

  /** The call is over: drops unread chunks and answers every chunk still unanswered. */
  dispose(): void {
    this.end();
    const deferred = this.#deferred;
    this.#deferred = null;
    for (const ack of deferred?.values() ?? []) ack();
  }

  /** Reads the next chunk. */
  next(): Promise<IteratorResult<Content>> {
    const item = this.#items.shift();
    if (item) {
      this.#budget.used -= item.bytes;
      item.ack?.();
      if (this.#closing && this.#items.length === 0) this.end();
      return Promise.resolve({ value: item.content, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<Content> {
    return {
      next: () => this.next(),
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
