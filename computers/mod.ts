/**
 * `@meshagent/computers`: computers an agent drives with OpenAI's computer-use actions.
 *
 * - {@linkcode Computer}: a screen with mouse and keyboard (and, for browsers, navigation).
 * - {@linkcode LocalBrowserComputer}: a headless Chromium on this machine, through
 *   `puppeteer-core` (loaded on first start); {@linkcode BrowserbaseBrowser}: a Browserbase
 *   session over the DevTools protocol.
 * - {@linkcode Operator}: plays a model's `computer_call` items (single or batched actions) on a
 *   computer and answers with a `computer_call_output` screenshot; refuses blocked URLs and
 *   acknowledges safety checks.
 * - {@linkcode ComputerToolkit}: the tools an agent gets (`computer_call` as OpenAI's native
 *   `computer` tool, `screenshot` into room storage, `goto` when allowed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBlockedUrl } from "@meshagent/computers";
 * assert.equal(isBlockedUrl("https://www.evilvideos.com/x"), true);
 * assert.equal(isBlockedUrl("http://127.0.0.1:8080/"), false);
 * ```
 *
 * @module
 */
export * from "./computer.ts";
export * from "./browser_computer.ts";
export * from "./local_browser_computer.ts";
export * from "./browserbase_browser.ts";
export * from "./url_blocklist.ts";
export * from "./operator.ts";
export * from "./computer_toolkit.ts";
