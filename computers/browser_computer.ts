import type { Browser, Page } from "puppeteer-core";
import { devtoolsKey } from "./_keys.ts";
import type {
  Computer,
  ComputerContext,
  ComputerDimensions,
  ComputerPoint,
  MouseButton,
  ScreenshotOptions,
} from "./computer.ts";

/** Where a browser computer's browser is, and how to let it go. */
export interface BrowserEndpoint {
  /** The DevTools websocket URL (`ws://127.0.0.1:9222/devtools/browser/…`). */
  webSocketUrl: string;
  /** Close the browser itself when the computer stops (a local browser), or only disconnect. */
  closeBrowser: boolean;
  /** Releases what the endpoint holds (the process, the remote session), after disconnecting. */
  release(): Promise<void>;
}

/** Options every browser computer takes. */
export interface BrowserComputerOptions {
  /** The screen size (default 1024×768). */
  dimensions?: ComputerDimensions;
  /** The page opened on start (default: a blank page). */
  startingUrl?: string;
  /** The longest wait for a page to load, in ms (default 30000). */
  navigationTimeoutMs?: number;
}

const BUTTONS: Readonly<Record<MouseButton, "left" | "right" | "middle" | "back" | "forward">> = {
  left: "left",
  right: "right",
  middle: "middle",
  wheel: "middle",
  back: "back",
  forward: "forward",
};

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A {@linkcode Computer} that is a Chromium browser driven over the DevTools protocol with
 * `puppeteer-core` (loaded on first start). Subclasses say where the browser is
 * ({@linkcode openEndpoint}): a local process ({@linkcode LocalBrowserComputer}) or a remote
 * session ({@linkcode BrowserbaseBrowser}). The computer follows the newest tab; an input that
 * starts a page load waits for it, so the next screenshot shows the new page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrowserComputer, type BrowserEndpoint } from "@meshagent/computers";
 * class Remote extends BrowserComputer {
 *   protected openEndpoint(): Promise<BrowserEndpoint> {
 *     return Promise.resolve({
 *       webSocketUrl: "ws://127.0.0.1:9222/devtools/browser/x",
 *       closeBrowser: false,
 *       release: () => Promise.resolve(),
 *     });
 *   }
 * }
 * assert.equal(new Remote().environment, "browser");
 * ```
 */
export abstract class BrowserComputer implements Computer {
  /** Always `browser`. */
  readonly environment = "browser" as const;
  /** The screen size. */
  readonly dimensions: ComputerDimensions;
  /** The page opened on start, if any. */
  startingUrl: string | undefined;
  readonly #timeout: number;
  #browser: Browser | null = null;
  #page: Page | null = null;
  #endpoint: BrowserEndpoint | null = null;
  #starting: Promise<void> | null = null;

  /**
   * Creates the value. Nothing starts until {@linkcode start}.
   *
   * @param options Screen size, starting page, navigation timeout.
   */
  constructor(options: BrowserComputerOptions = {}) {
    this.dimensions = { ...(options.dimensions ?? { width: 1024, height: 768 }) };
    const start = options.startingUrl?.trim();
    this.startingUrl = start ? start : undefined;
    this.#timeout = options.navigationTimeoutMs ?? 30_000;
  }

  /**
   * Where the browser is: subclasses start a process or a remote session here.
   *
   * @param context Where startup progress goes.
   * @returns The DevTools endpoint.
   */
  protected abstract openEndpoint(context?: ComputerContext): Promise<BrowserEndpoint>;

  /** True once started (and not stopped). */
  get started(): boolean {
    return this.#page !== null;
  }

  /**
   * Opens the browser: the endpoint, a DevTools connection, a page of {@linkcode dimensions},
   * then the starting URL.
   *
   * @param context Where startup progress goes.
   */
  start(context?: ComputerContext): Promise<void> {
    this.#starting ??= this.#start(context).catch(async (error) => {
      this.#starting = null;
      await this.stop();
      throw error;
    });
    return this.#starting;
  }

  async #start(context?: ComputerContext): Promise<void> {
    context?.emit?.({ kind: "computer.startup", state: "in_progress" });
    const { default: puppeteer } = await import("puppeteer-core");
    this.#endpoint = await this.openEndpoint(context);
    this.#browser = await puppeteer.connect({
      browserWSEndpoint: this.#endpoint.webSocketUrl,
      defaultViewport: this.dimensions,
      protocolTimeout: Math.max(this.#timeout, 30_000),
    });
    const pages = await this.#browser.pages();
    const page = pages[0] ?? await this.#browser.newPage();
    await this.#use(page);
    this.#browser.on("targetcreated", async (target) => {
      if (target.type() !== "page") return;
      const opened = await target.page().catch(() => null);
      if (opened && this.#browser) await this.#use(opened).catch(() => {});
    });
    if (this.startingUrl) await this.goto(this.startingUrl);
    context?.emit?.({ kind: "computer.startup", state: "completed" });
  }

  async #use(page: Page): Promise<void> {
    await page.setViewport(this.dimensions);
    page.setDefaultNavigationTimeout(this.#timeout);
    this.#page = page;
  }

  /** Disconnects (a local browser is closed) and releases the endpoint. */
  async stop(): Promise<void> {
    const browser = this.#browser;
    const endpoint = this.#endpoint;
    this.#browser = null;
    this.#page = null;
    this.#endpoint = null;
    this.#starting = null;
    if (browser) {
      try {
        if (endpoint?.closeBrowser) await browser.close();
        else await browser.disconnect();
      } catch { /* already gone */ }
    }
    await endpoint?.release();
  }

  /** The page, once started. */
  #current(): Page {
    if (!this.#page) throw new Error("the browser is not started: call start() first");
    return this.#page;
  }

  /** Runs an input; when it starts a page load in the main frame, waits for the load. */
  async #input(run: (page: Page) => Promise<void>): Promise<void> {
    const page = this.#current();
    let loading: Promise<unknown> | null = null;
    const onRequest = (request: { isNavigationRequest(): boolean; frame(): unknown }) => {
      if (loading || !request.isNavigationRequest() || request.frame() !== page.mainFrame()) {
        return;
      }
      loading = page.waitForNavigation({ waitUntil: "load", timeout: this.#timeout })
        .catch(() => {});
    };
    page.on("request", onRequest);
    try {
      await run(page);
      // [impl] A click's navigation request starts within a frame or two of the click.
      await delay(50);
      if (loading) await loading;
    } finally {
      page.off("request", onRequest);
    }
  }

  /**
   * Evaluates a JavaScript expression in the page (for checks and scripts beyond the computer
   * actions).
   *
   * @param expression The expression.
   * @returns Its value (JSON-serialisable values only).
   */
  evaluate(expression: string): Promise<unknown> {
    return this.#current().evaluate(expression);
  }

  /**
   * The screen (or the whole page) as a PNG.
   *
   * @param options `fullPage`.
   * @returns The PNG bytes.
   */
  async screenshot(options: ScreenshotOptions = {}): Promise<Uint8Array> {
    const data = await this.#current().screenshot({
      type: "png",
      fullPage: options.fullPage === true,
    });
    return new Uint8Array(data);
  }

  /**
   * Clicks.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   * @param button The button (default left; `wheel` is the middle button).
   */
  click(x: number, y: number, button: MouseButton = "left"): Promise<void> {
    return this.#input((page) => page.mouse.click(x, y, { button: BUTTONS[button] ?? "left" }));
  }

  /**
   * Double-clicks.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   */
  doubleClick(x: number, y: number): Promise<void> {
    return this.#input((page) => page.mouse.click(x, y, { count: 2 }));
  }

  /**
   * Scrolls with the mouse wheel at a point.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   * @param scrollX Pixels right.
   * @param scrollY Pixels down.
   */
  async scroll(x: number, y: number, scrollX: number, scrollY: number): Promise<void> {
    const page = this.#current();
    await page.mouse.move(x, y);
    await page.mouse.wheel({ deltaX: scrollX, deltaY: scrollY });
    // The wheel scrolls asynchronously: wait until the page has painted it.
    await page.evaluate(
      "new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))",
    );
  }

  /**
   * Types text.
   *
   * @param text The text.
   */
  type(text: string): Promise<void> {
    return this.#input((page) => page.keyboard.type(text));
  }

  /**
   * Waits.
   *
   * @param ms Milliseconds (default 1000).
   */
  async wait(ms = 1000): Promise<void> {
    await delay(Math.max(0, ms));
  }

  /**
   * Moves the mouse.
   *
   * @param x Pixels from the left.
   * @param y Pixels from the top.
   */
  move(x: number, y: number): Promise<void> {
    return this.#current().mouse.move(x, y);
  }

  /**
   * Presses keys together (`CTRL`, `ENTER`, `ArrowUp`, `a` …).
   *
   * @param keys The keys.
   */
  keypress(keys: readonly string[]): Promise<void> {
    const names = keys.map(devtoolsKey) as Parameters<Page["keyboard"]["down"]>[0][];
    return this.#input(async (page) => {
      for (const key of names) await page.keyboard.down(key);
      for (const key of [...names].reverse()) await page.keyboard.up(key);
    });
  }

  /**
   * Drags along a path with the left button held.
   *
   * @param path The points.
   */
  drag(path: readonly ComputerPoint[]): Promise<void> {
    if (path.length === 0) return Promise.resolve();
    return this.#input(async (page) => {
      await page.mouse.move(path[0].x, path[0].y);
      await page.mouse.down();
      for (const point of path.slice(1)) await page.mouse.move(point.x, point.y);
      await page.mouse.up();
    });
  }

  /** The page's URL. */
  getCurrentUrl(): Promise<string> {
    return Promise.resolve(this.#current().url());
  }

  /**
   * Opens a URL and waits for it to load.
   *
   * @param url The URL.
   */
  async goto(url: string): Promise<void> {
    await this.#current().goto(url, { waitUntil: "load" });
  }

  /** Goes back. */
  async back(): Promise<void> {
    await this.#current().goBack({ waitUntil: "load" });
  }

  /** Goes forward. */
  async forward(): Promise<void> {
    await this.#current().goForward({ waitUntil: "load" });
  }

  /** Same as {@linkcode stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
