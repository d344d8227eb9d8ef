import {
  BrowserComputer,
  type BrowserComputerOptions,
  type BrowserEndpoint,
} from "./browser_computer.ts";
import type { ComputerContext } from "./computer.ts";

/** Options of a {@linkcode BrowserbaseBrowser}. */
export interface BrowserbaseBrowserOptions extends BrowserComputerOptions {
  /** The API key (default `$BROWSERBASE_API_KEY`). */
  apiKey?: string;
  /** The project (default `$BROWSERBASE_PROJECT_ID`). */
  projectId?: string;
  /** The session's region (default `us-west-2`). */
  region?: string;
  /** Route the session through Browserbase's proxies (default false). */
  proxy?: boolean;
  /** Block ads (default false). */
  adBlocker?: boolean;
  /**
   * The API's base URL (default `$BROWSERBASE_API_URL`, else `https://api.browserbase.com`).
   * [impl] Configurable so that tests and self-hosted gateways can stand in for it.
   */
  apiUrl?: string;
  /** Read an environment variable (default `Deno.env.get`). */
  env?: (name: string) => string | undefined;
}

/** The session a {@linkcode BrowserbaseBrowser} runs in. */
export interface BrowserbaseSession {
  /** Its id. */
  id: string;
  /** Where to watch it live and replay it. */
  liveUrl: string;
}

/**
 * A {@linkcode BrowserComputer} in a Browserbase cloud session (agents-sources.md §5): start
 * creates a session with the REST API (`POST /v1/sessions`, `X-BB-API-Key`) and connects to its
 * DevTools `connectUrl`; stop disconnects and asks for the session's release. The session's live
 * view URL is logged and given to the startup progress.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrowserbaseBrowser } from "@meshagent/computers";
 * const browser = new BrowserbaseBrowser({ env: () => undefined });
 * await assert.rejects(browser.start(), /BROWSERBASE_API_KEY/);
 * ```
 */
export class BrowserbaseBrowser extends BrowserComputer {
  readonly #options: BrowserbaseBrowserOptions;
  #session: BrowserbaseSession | null = null;

  /**
   * Creates the value. No session is made until {@linkcode start}.
   *
   * @param options Credentials, region, proxy, screen size.
   */
  constructor(options: BrowserbaseBrowserOptions = {}) {
    super(options);
    this.#options = options;
  }

  /** The current session, once started. */
  get session(): BrowserbaseSession | null {
    return this.#session;
  }

  /**
   * Creates a session and returns its DevTools URL.
   *
   * @param context Where startup progress (the live view URL) goes.
   * @returns The endpoint; releasing it ends the session.
   */
  protected async openEndpoint(context?: ComputerContext): Promise<BrowserEndpoint> {
    const env = this.#options.env ?? ((name: string) => Deno.env.get(name));
    const apiKey = this.#options.apiKey ?? env("BROWSERBASE_API_KEY");
    const projectId = this.#options.projectId ?? env("BROWSERBASE_PROJECT_ID");
    if (!apiKey) throw new Error("Browserbase needs an API key: set BROWSERBASE_API_KEY");
    if (!projectId) throw new Error("Browserbase needs a project: set BROWSERBASE_PROJECT_ID");
    const base = (this.#options.apiUrl ?? env("BROWSERBASE_API_URL") ??
      "https://api.browserbase.com").replace(/\/+$/, "");
    const headers = { "content-type": "application/json", "x-bb-api-key": apiKey };
    const response = await fetch(`${base}/v1/sessions`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        projectId,
        region: this.#options.region ?? "us-west-2",
        proxies: this.#options.proxy ?? false,
        browserSettings: {
          viewport: this.dimensions,
          blockAds: this.#options.adBlocker ?? false,
        },
      }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `Browserbase refused to create a session (HTTP ${response.status}): ${text.slice(0, 500)}`,
      );
    }
    let body: { id?: unknown; connectUrl?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`Browserbase answered a session that is not JSON: ${text.slice(0, 200)}`);
    }
    if (typeof body.id !== "string" || typeof body.connectUrl !== "string") {
      throw new Error("Browserbase answered a session without `id` and `connectUrl`");
    }
    const id = body.id;
    this.#session = { id, liveUrl: `https://www.browserbase.com/sessions/${id}` };
    console.error(`browserbase: session ${id}, live view ${this.#session.liveUrl}`);
    context?.emit?.({
      kind: "computer.startup",
      state: "in_progress",
      details: [`live view: ${this.#session.liveUrl}`],
    });
    return {
      webSocketUrl: body.connectUrl,
      closeBrowser: false,
      release: async () => {
        this.#session = null;
        try {
          const released = await fetch(`${base}/v1/sessions/${encodeURIComponent(id)}`, {
            method: "POST",
            headers,
            body: JSON.stringify({ projectId, status: "REQUEST_RELEASE" }),
            signal: AbortSignal.timeout(30_000),
          });
          await released.body?.cancel();
        } catch (error) {
          console.error(`browserbase: session ${id} not released: ${(error as Error).message}`);
        }
      },
    };
  }
}
