// Private: the long poll of a room queue that QueueChannel and MailChannel share.
import type { JsonObject, RoomClient } from "@meshagent/api";

/** Options of a {@linkcode QueueReceiver}. */
export interface QueueReceiverOptions {
  /** The room. */
  room: RoomClient;
  /** The queue. */
  queue: string;
  /** Handles one item; a throw is logged and the item skipped. */
  onItem(item: unknown): Promise<void> | void;
  /** Resolves when another item may be taken (back-pressure); default: at once. */
  ready?(signal: AbortSignal): Promise<void>;
  /** Where problems are reported. */
  log(message: string): void;
  /** How long to wait after a failed receive before the next one (default 1000 ms). */
  retryDelayMs?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Receives items from a room queue one at a time (`receive(name, {create: true, wait: true})`)
 * until stopped. `stop()` returns at once, without waiting for the pending receive.
 *
 * [impl] The queue protocol has no way to cancel a waiting receive: the server would still hand
 * the next item to the abandoned wait. So the wait is not cancelled; when an item arrives for it
 * after `stop()`, it is sent back to the queue (at its end) for the next consumer, instead of
 * being lost. If the connection closes first, the wait ends without consuming anything.
 */
export class QueueReceiver {
  readonly #options: QueueReceiverOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(options: QueueReceiverOptions) {
    this.#options = options;
  }

  /** Starts the loop. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops the loop; an item being handled is finished first. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { room, queue, log } = this.#options;
    const signal = this.#stop.signal;
    const stopped = new Promise<"stopped">((resolve) =>
      signal.addEventListener("abort", () => resolve("stopped"), { once: true })
    );
    while (!signal.aborted) {
      if (this.#options.ready) {
        await Promise.race([this.#options.ready(signal), stopped]);
        if (signal.aborted) return;
      }
      let item: unknown;
      try {
        const receiving = room.queues.receive<unknown>(queue, { create: true, wait: true });
        const first = await Promise.race([
          receiving.then((value) => ({ value })),
          stopped,
        ]);
        if (first === "stopped") {
          receiving.then((late) => {
            if (late === null || late === undefined || room.isClosed) return;
            return room.queues.send(queue, late as JsonObject).catch((e) =>
              log(
                `queue ${queue}: an item that arrived after the stop could not be put back: ${
                  (e as Error).message
                }`,
              )
            );
          }).catch(() => {/* the connection closed: nothing was consumed */});
          return;
        }
        item = first.value;
      } catch (e) {
        if (signal.aborted || room.isClosed) return;
        log(`queue ${queue}: receive failed (${(e as Error).message}); retrying`);
        await sleep(this.#options.retryDelayMs ?? 1000, signal);
        continue;
      }
      if (item === null || item === undefined) continue;
      try {
        await this.#options.onItem(item);
      } catch (e) {
        log(`queue ${queue}: skipped an item: ${(e as Error).message}`);
      }
    }
  }
}
