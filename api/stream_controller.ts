/**
 * A push source of values with any number of readers: each iteration of
 * {@linkcode StreamController.stream} gets every value added after it started, until
 * {@linkcode StreamController.close}. The official TypeScript SDK's `StreamController`, under its
 * name: handy for feeding a streamed tool input (`room.invokeStream({ input: controller.stream })`)
 * from callbacks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamController } from "@meshagent/api";
 * const controller = new StreamController<number>();
 * const read = (async () => {
 *   const seen: number[] = [];
 *   for await (const n of controller.stream) seen.push(n);
 *   return seen;
 * })();
 * controller.add(1);
 * controller.add(2);
 * controller.close();
 * assert.deepEqual(await read, [1, 2]);
 * ```
 */
export class StreamController<T> {
  #closed = false;
  readonly #readers = new Set<Reader<T>>();

  /** True once {@linkcode StreamController.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A new reader: it yields every value added from now on, and ends after `close()` once it has
   * yielded what was added before. Leaving the loop early unsubscribes it.
   */
  get stream(): AsyncIterable<T> {
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<T> => {
        const reader: Reader<T> = { queue: [], wake: null };
        this.#readers.add(reader);
        const done = (): IteratorResult<T> => {
          this.#readers.delete(reader);
          return { done: true, value: undefined };
        };
        return {
          next: async (): Promise<IteratorResult<T>> => {
            while (true) {
              if (reader.queue.length > 0) return { done: false, value: reader.queue.shift()! };
              if (this.#closed) return done();
              await new Promise<void>((resolve) => reader.wake = resolve);
            }
          },
          return: (): Promise<IteratorResult<T>> => {
            reader.wake?.();
            return Promise.resolve(done());
          },
        };
      },
    };
  }

  /**
   * Hands a value to every reader.
   *
   * @param value The value.
   * @throws {Error} After `close()`.
   */
  add(value: T): void {
    if (this.#closed) throw new Error("the StreamController is closed: add() after close()");
    for (const reader of this.#readers) {
      reader.queue.push(value);
      reader.wake?.();
      reader.wake = null;
    }
  }

  /** Ends every reader once it has read what was added; later `add()` calls throw. */
  close(): void {
    this.#closed = true;
    for (const reader of this.#readers) {
      reader.wake?.();
      reader.wake = null;
    }
  }
}

interface Reader<T> {
  queue: T[];
  wake: (() => void) | null;
}
