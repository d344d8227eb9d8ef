import type { Content } from "@meshagent/api";

/** [impl] Chunks buffered before their `__response__` is held back (TS waits for each answer). */
const HIGH_WATER = 32;

interface Item {
  content: Content;
  ack?: () => void;
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
    if (this.#items.length < HIGH_WATER) {
      ack();
      this.#items.push({ content });
    } else {
      this.#items.push({ content, ack });
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
    for (const item of this.#items) item.ack?.();
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
