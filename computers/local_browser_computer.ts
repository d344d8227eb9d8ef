import {
  BrowserComputer,
  type BrowserComputerOptions,
  type BrowserEndpoint,
} from "./browser_computer.ts";

/** Options of a {@linkcode LocalBrowserComputer}. */
export interface LocalBrowserComputerOptions extends BrowserComputerOptions {
  /** The browser binary (default `$CHROMIUM_PATH`, else `/usr/bin/chromium`). */
  executablePath?: string;
  /** Show a window instead of running headless (default false). */
  headful?: boolean;
  /** More command-line flags for the browser. */
  args?: readonly string[];
  /** The longest wait for the browser to start, in ms (default 30000). */
  launchTimeoutMs?: number;
}

/** Flags for an agent's browser: no sandbox (containers), no background traffic or first run. */
const FLAGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  "--no-first-run",
  "--no-default-browser-check",
  "--metrics-recording-only",
  "--password-store=basic",
  "--use-mock-keychain",
  "--disable-dev-shm-usage",
  "--remote-debugging-port=0",
  "--remote-debugging-address=127.0.0.1",
];

/**
 * A {@linkcode BrowserComputer} on a Chromium this machine runs (Debian's `chromium` by default):
 * a headless process with a fresh profile folder, listening for DevTools on a free loopback port.
 * Stopping it closes the browser, waits for the process and removes the profile.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalBrowserComputer } from "@meshagent/computers";
 * const computer = new LocalBrowserComputer({ dimensions: { width: 800, height: 600 } });
 * assert.equal(computer.dimensions.width, 800);
 * assert.equal(computer.started, false);
 * ```
 */
export class LocalBrowserComputer extends BrowserComputer {
  readonly #options: LocalBrowserComputerOptions;

  /**
   * Creates the value. The browser starts with {@linkcode start}.
   *
   * @param options Binary, flags, screen size, starting page.
   */
  constructor(options: LocalBrowserComputerOptions = {}) {
    super(options);
    this.#options = options;
  }

  /**
   * Starts the browser process and reads its DevTools URL from its output.
   *
   * @returns The endpoint; releasing it ends the process and removes its profile.
   */
  protected async openEndpoint(): Promise<BrowserEndpoint> {
    const executable = this.#options.executablePath ?? Deno.env.get("CHROMIUM_PATH") ??
      "/usr/bin/chromium";
    const profile = await Deno.makeTempDir({ prefix: "meshagent-browser-" });
    const args = [
      ...FLAGS,
      ...(this.#options.headful ? [] : ["--headless=new", "--hide-scrollbars", "--mute-audio"]),
      `--window-size=${this.dimensions.width},${this.dimensions.height}`,
      `--user-data-dir=${profile}`,
      ...(this.#options.args ?? []),
      "about:blank",
    ];
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(executable, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw new Error(
        `cannot start the browser ${executable}: ${(error as Error).message} (install Debian's ` +
          `chromium, or pass executablePath / set CHROMIUM_PATH)`,
      );
    }
    const release = async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((resolve) => {
          const timer = setTimeout(() => resolve(false), 5000);
          child.status.finally(() => clearTimeout(timer));
        }),
      ]);
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
        await child.status;
      }
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    };
    try {
      const webSocketUrl = await devtoolsUrl(child, this.#options.launchTimeoutMs ?? 30_000);
      return { webSocketUrl, closeBrowser: true, release };
    } catch (error) {
      await release();
      throw error;
    }
  }
}

/** Reads `DevTools listening on ws://…` from the browser's stderr, then drains the rest. */
async function devtoolsUrl(child: Deno.ChildProcess, timeoutMs: number): Promise<string> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the browser did not start within ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
  });
  try {
    while (true) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`the browser exited before it was ready:\n${seen.slice(-2000)}`);
      seen += value;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (match) {
        // Keep reading so the pipe never fills; the reader ends when the process does.
        (async () => {
          try {
            while (!(await reader.read()).done) { /* drop */ }
          } catch { /* closed */ }
        })();
        return match[1];
      }
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
