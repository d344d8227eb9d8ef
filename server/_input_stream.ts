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

  /** True once the stream ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Adds a chunk.
   *
   * @param content The chunk.
   * @param ack Sends the chunk's `__response__`.
   */
  push(content: Content, ack: () => void): void {
    if (this.#ended) {
      ack();
      return;
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

  /** Reads the next chunk. */
  next(): Promise<IteratorResult<Content>> {
    const item = this.#items.shift();
    if (item) {
      item.ack?.();
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
