/** A function that receives one event. */
export type Listener<T> = (event: T) => void;

/**
 * A small typed event emitter. A listener that throws is reported with `console.error` and does
 * not stop the other listeners.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventEmitter } from "@meshagent/api";
 * const events = new EventEmitter<{ ping: number }>();
 * let got = 0;
 * const off = events.on("ping", (n) => got = n);
 * events.emit("ping", 3);
 * off();
 * assert(got === 3);
 * ```
 */
export class EventEmitter<Events extends { [K in keyof Events]: unknown }> {
  #listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  /**
   * Adds a listener.
   *
   * @param name The event name.
   * @param listener The listener.
   * @returns A function that removes the listener.
   */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    (this.#listeners[name] ??= new Set()).add(listener);
    return () => this.off(name, listener);
  }

  /**
   * Adds a listener that runs once.
   *
   * @param name The event name.
   * @param listener The listener.
   * @returns A function that removes the listener.
   */
  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /**
   * Removes a listener.
   *
   * @param name The event name.
   * @param listener The listener to remove.
   */
  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.#listeners[name]?.delete(listener);
  }

  /**
   * Tells whether an event has listeners (to skip building events nobody reads).
   *
   * @param name The event name.
   * @returns True when at least one listener is registered.
   */
  hasListeners<K extends keyof Events>(name: K): boolean {
    return (this.#listeners[name]?.size ?? 0) > 0;
  }

  /**
   * Calls every listener of an event.
   *
   * @param name The event name.
   * @param event The event value.
   */
  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    const set = this.#listeners[name];
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (e) {
        console.error(`listener for ${String(name)} failed:`, e);
      }
    }
  }

  /**
   * Waits for the next event of a kind.
   *
   * @param name The event name.
   * @param signal Aborts the wait.
   * @returns The event value.
   */
  next<K extends keyof Events>(name: K, signal?: AbortSignal): Promise<Events[K]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        off();
        reject(signal!.reason);
      };
      const off = this.once(name, (event) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(event);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Removes every listener. */
  removeAll(): void {
    this.#listeners = {};
  }
}
