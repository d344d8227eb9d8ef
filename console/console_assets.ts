// Deno-only: the web console's static files (console/web/), served at `/console`. The browser
// code is bundled ahead of time (`deno task console-bundle` writes web/console.js, committed),
// so serving is reading a file: no build step and nothing fetched from the internet at run time.

/** The console's files by URL path under `/console`, with their content types. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  "": { file: "index.html", type: "text/html; charset=utf-8" },
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/console.js": { file: "console.js", type: "text/javascript; charset=utf-8" },
  "/console.css": { file: "console.css", type: "text/css; charset=utf-8" },
};

/** The URL path the console is served under. */
export const CONSOLE_PATH = "/console";

const cache = new Map<string, Uint8Array<ArrayBuffer>>();

/**
 * Answers a request for the console's files, or `undefined` when the path is not the console's:
 * a route for the room server (`RoomServer.listen({ routes: [serveConsole], … })`, as
 * `meshagent server` does).
 * [impl] Files are read once per process and kept (about 100 KB); `no-cache` so that a browser
 * asks again after a server upgrade.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveConsole } from "@meshagent/console";
 * const response = await serveConsole(new Request("http://localhost/console/"));
 * assert.equal(response?.status, 200);
 * await response?.body?.cancel();
 * assert.equal(await serveConsole(new Request("http://localhost/rooms/x")), undefined);
 * ```
 *
 * @param request The request.
 * @returns The response, or `undefined`.
 */
export async function serveConsole(request: Request): Promise<Response | undefined> {
  const path = new URL(request.url).pathname;
  if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return undefined;
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed: the console only answers GET\n", {
      status: 405,
      headers: { allow: "GET, HEAD" },
    });
  }
  const asset = ASSETS[path.slice(CONSOLE_PATH.length)];
  if (!asset) return new Response(`not found: ${path}\n`, { status: 404 });
  let body = cache.get(asset.file);
  if (!body) {
    body = await Deno.readFile(new URL(`./web/${asset.file}`, import.meta.url));
    cache.set(asset.file, body);
  }
  return new Response(request.method === "HEAD" ? null : body, {
    headers: {
      "content-type": asset.type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    },
  });
}
