/**
 * The MeshAgent web console: a browser app (rooms, participants, chat with agents, files,
 * documents, the developer log) served by the room server at `/console`. The browser code under
 * `web/` is bundled ahead of time into `web/console.js` (`deno task console-bundle`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONSOLE_PATH, serveConsole } from "@meshagent/console";
 * const response = await serveConsole(new Request(`http://localhost${CONSOLE_PATH}`));
 * assert.equal(response?.status, 200);
 * await response?.body?.cancel();
 * ```
 *
 * @module
 */
export * from "./console_assets.ts";
