// The console's files are served by a real server at /console, with the committed bundle.
import assert from "node:assert/strict";
import { startTestServer } from "@meshagent/server/testing";
import { serveConsole } from "./console_assets.ts";

Deno.test("the room server serves the console's page, script and styles at /console", async () => {
  await using server = await startTestServer({ server: { routes: [serveConsole] } });
  const page = await fetch(`${server.url}/console`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type")!, /^text\/html/);
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/console\/console.js">/);
  // Nothing from elsewhere: every src and href is the server's own.
  for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    assert.ok(url.startsWith("/console/"), `${url} is not served by the room server`);
  }
  const script = await fetch(`${server.url}/console/console.js`);
  assert.equal(script.status, 200);
  assert.match(script.headers.get("content-type")!, /^text\/javascript/);
  const code = await script.text();
  assert.ok(code.length > 10_000, "the bundle is there");
  assert.doesNotMatch(code, /\bimport\s*\(?\s*["']https?:/, "the bundle imports nothing remote");
  const css = await fetch(`${server.url}/console/console.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type")!, /^text\/css/);
  await css.body?.cancel();
  const missing = await fetch(`${server.url}/console/nope.js`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await fetch(`${server.url}/console/`, { method: "POST" });
  assert.equal(post.status, 405);
  await post.body?.cancel();
  const other = await fetch(`${server.url}/consoles`);
  assert.equal(other.status, 404, "only /console and below");
  await other.body?.cancel();
});
