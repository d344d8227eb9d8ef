/** What kind of machine a computer is (OpenAI's computer-use `environment`). */
export type ComputerEnvironment = "browser" | "linux" | "mac" | "windows";

/** A point on the screen, in pixels from the top left. */
export interface ComputerPoint {
  /** Pixels from the left. */
  x: number;
  /** Pixels from the top. */
  y: number;
}

/** The screen size, in pixels. */
export interface ComputerDimensions {
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** A mouse button. */
export type MouseButton = "left" | "right" | "middle" | "back" | "forward" | "wheel";

/** Options of {@linkcode Computer.screenshot}. */
export interface ScreenshotOptions {
  /** The whole page rather than the visible screen (browsers). */
  fullPage?: boolean;
}

/** Who a computer is started for, and where its progress goes. */
export interface ComputerContext {
  /** Receives progress while the computer starts (`{kind: "computer.startup", state, …}`). */
  emit?(event: Record<string, unknown>): void;
}

/**
 * A computer an agent drives with OpenAI's computer-use actions (agents-sources.md §5): it shows a
 * screen ({@linkcode screenshot}) and takes mouse and keyboard input. Browsers also navigate.
 * {@linkcode start} opens it (a browser process, a remote session); {@linkcode stop} closes it and
 * everything it holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Computer } from "@meshagent/computers";
 * const describe = (computer: Computer) =>
 *   `${computer.environment} ${computer.dimensions.width}x${computer.dimensions.height}`;
 * assert.equal(typeof describe, "function");
 * ```
 */
export interface Computer {
  /** The kind of machine. */
  readonly environment: ComputerEnvironment;
  /** The screen size. */
  readonly dimensions: ComputerDimensions;
  /**
   * Opens the computer (idempotent).
   *
   * @param context Where startup progress goes.
   */
  start(context?: ComputerContext): Promise<void>;
  /** Closes the computer and releases what it holds (idempotent). */
  stop(): Promise<void>;
  /**
   * The screen as a PNG.
   *
   * @param options The whole page rather than the screen.
   */
  screenshot(options?: ScreenshotOptions): Promise<Uint8Array>;
  /**
   * Clicks.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   * @param button The button (default left).
   */
  click(x: number, y: number, button?: MouseButton): Promise<void>;
  /**
   * Double-clicks.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   */
  doubleClick(x: number, y: number): Promise<void>;
  /**
   * Scrolls at a point.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   * @param scrollX Pixels to scroll right (negative: left).
   * @param scrollY Pixels to scroll down (negative: up).
   */
  scroll(x: number, y: number, scrollX: number, scrollY: number): Promise<void>;
  /**
   * Types text.
   *
   * @param text The text.
   */
  type(text: string): Promise<void>;
  /**
   * Waits.
   *
   * @param ms Milliseconds (default 1000).
   */
  wait(ms?: number): Promise<void>;
  /**
   * Moves the mouse.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   */
  move(x: number, y: number): Promise<void>;
  /**
   * Presses keys together (`["CTRL", "A"]`, `["ENTER"]`).
   *
   * @param keys The keys, held in order and released in reverse.
   */
  keypress(keys: readonly string[]): Promise<void>;
  /**
   * Drags along a path with the left button held.
   *
   * @param path The points, first to last.
   */
  drag(path: readonly ComputerPoint[]): Promise<void>;
  /** The page's URL (browsers; others answer an empty string). */
  getCurrentUrl(): Promise<string>;
  /**
   * Opens a URL (browsers).
   *
   * @param url The URL.
   */
  goto(url: string): Promise<void>;
  /** Goes back in history (browsers). */
  back(): Promise<void>;
  /** Goes forward in history (browsers). */
  forward(): Promise<void>;
}
