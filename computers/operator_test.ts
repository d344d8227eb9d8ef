import assert from "node:assert/strict";
import {
  BlockedUrlError,
  BrowserbaseBrowser,
  type BrowserEndpoint,
  LocalBrowserComputer,
  Operator,
  OperatorError,
} from "./mod.ts";
import { servePages } from "./testdata/pages.ts";

const PNG = [0x89, 0x50, 0x4e, 0x47];

function png(output: Record<string, unknown>): Uint8Array {
  const url = String((output.output as Record<string, unknown>).image_url);
  assert.match(url, /^data:image\/png;base64,/);
  const binary = atob(url.slice(url.indexOf(",") + 1));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("Operator plays computer_calls on a local Chromium", async (t) => {
  const pages = servePages();
  const computer = new LocalBrowserComputer({ dimensions: { width: 800, height: 600 } });
  const operator = new Operator({ blockedDomains: ["localhost"] });
  try {
    await computer.start();

    await t.step("fills a form and submits it (batched actions)", async () => {
      const [output] = await operator.play(computer, {
        type: "computer_call",
        call_id: "call_1",
        actions: [
          { type: "goto", url: `${pages.origin}/form` },
          { type: "click", x: 100, y: 95 },
          { type: "type", text: "Ada Lovelace" },
          { type: "click", x: 60, y: 160, button: "left" },
        ],
      });
      assert.equal(output.type, "computer_call_output");
      assert.equal(output.call_id, "call_1");
      assert.deepEqual([...png(output).subarray(0, 4)], PNG);
      await until(() => Promise.resolve(pages.submissions.length === 1), "the form submission");
      assert.deepEqual(pages.submissions, ["Ada Lovelace"]);
      assert.match(await computer.getCurrentUrl(), /\/done\?name=Ada\+Lovelace$/);
    });

    await t.step("types and presses keys (single action form)", async () => {
      await computer.goto(`${pages.origin}/form`);
      await operator.play(computer, {
        type: "computer_call",
        call_id: "call_2",
        action: { type: "click", x: 100, y: 95 },
      });
      await operator.play(computer, {
        type: "computer_call",
        call_id: "call_3",
        actions: [{ type: "type", text: "Grace" }, { type: "keypress", keys: ["ENTER"] }],
      });
      await until(() => Promise.resolve(pages.submissions.length === 2), "the second submission");
      assert.equal(pages.submissions[1], "Grace");
    });

    await t.step("scrolls", async () => {
      await computer.goto(`${pages.origin}/long`);
      assert.equal(await computer.evaluate("window.scrollY"), 0);
      await operator.play(computer, {
        type: "computer_call",
        call_id: "call_4",
        action: { type: "scroll", x: 100, y: 100, scroll_x: 0, scroll_y: 1200 },
      });
      await until(async () => Number(await computer.evaluate("window.scrollY")) > 0, "scrolling");
      assert.ok(Number(await computer.evaluate("window.scrollY")) >= 600);
    });

    await t.step("navigates: a link, back, forward", async () => {
      await operator.play(computer, {
        type: "computer_call",
        call_id: "call_5",
        actions: [{ type: "goto", url: `${pages.origin}/links` }, { type: "click", x: 60, y: 40 }],
      });
      assert.equal(await computer.getCurrentUrl(), `${pages.origin}/long`);
      await operator.play(computer, {
        type: "computer_call",
        call_id: "call_6",
        action: { type: "back" },
      });
      assert.equal(await computer.getCurrentUrl(), `${pages.origin}/links`);
      await operator.runAction(computer, { type: "forward" });
      assert.equal(await computer.getCurrentUrl(), `${pages.origin}/long`);
    });

    await t.step("refuses a goto to a blocked URL before going there", async () => {
      const before = await computer.getCurrentUrl();
      await assert.rejects(
        operator.play(computer, {
          type: "computer_call",
          call_id: "call_7",
          action: { type: "goto", url: `http://localhost:1/` },
        }),
        (error: unknown) =>
          error instanceof BlockedUrlError &&
          /Blocked URL: http:\/\/localhost:1\//.test(error.message),
      );
      assert.equal(await computer.getCurrentUrl(), before);
    });

    await t.step("refuses a call that ends on a blocked URL", async () => {
      await computer.goto(`${pages.origin}/links`);
      await assert.rejects(
        operator.play(computer, {
          type: "computer_call",
          call_id: "call_8",
          action: { type: "click", x: 60, y: 120 },
        }),
        /Blocked URL: http:\/\/localhost:\d+\/long/,
      );
    });

    await t.step("refuses malformed and unknown actions", async () => {
      await assert.rejects(
        operator.play(computer, { type: "computer_call", call_id: "c", action: { type: "click" } }),
        (e: unknown) => e instanceof OperatorError && /click needs `x`/.test(e.message),
      );
      await assert.rejects(
        operator.play(computer, { type: "computer_call", call_id: "c", action: { type: "fly" } }),
        /unsupported computer action: fly/,
      );
      await assert.rejects(
        operator.play(computer, { type: "computer_call", call_id: "c" }),
        /missing action data/,
      );
    });

    await t.step("acknowledges safety checks, or refuses when told to", async () => {
      await computer.goto(`${pages.origin}/form`);
      const check = { id: "sc_1", code: "irrelevant_domain", message: "Check the domain" };
      const [output] = await operator.play(computer, {
        type: "computer_call",
        call_id: "call_9",
        action: { type: "wait", ms: 1 },
        pending_safety_checks: [check],
      });
      assert.deepEqual(output.acknowledged_safety_checks, [check]);
      const strict = new Operator({ acknowledgeSafetyCheck: () => false });
      await assert.rejects(
        strict.play(computer, {
          type: "computer_call",
          call_id: "call_10",
          action: { type: "wait", ms: 1 },
          pending_safety_checks: [check],
        }),
        (e: unknown) =>
          e instanceof OperatorError && e.code === "unacknowledged_safety_check" &&
          /Check the domain/.test(e.message),
      );
    });

    await t.step("a function_call naming an action runs it", async () => {
      const [output] = await operator.play(computer, {
        type: "function_call",
        call_id: "fc_1",
        name: "goto",
        arguments: JSON.stringify({ url: `${pages.origin}/form` }),
      });
      assert.deepEqual(output, {
        type: "function_call_output",
        call_id: "fc_1",
        output: "success",
      });
      assert.equal(await computer.getCurrentUrl(), `${pages.origin}/form`);
    });
  } finally {
    await computer.stop();
    await pages.close();
  }
});

/** A local browser whose DevTools endpoint a fake Browserbase API hands out. */
class Backing extends LocalBrowserComputer {
  endpoint(): Promise<BrowserEndpoint> {
    return this.openEndpoint();
  }
}

Deno.test("BrowserbaseBrowser creates a session, drives it over CDP and releases it", async () => {
  const pages = servePages();
  const backing = await new Backing().endpoint();
  const calls: { path: string; key: string | null; body: Record<string, unknown> }[] = [];
  const api = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    const path = new URL(req.url).pathname;
    calls.push({ path, key: req.headers.get("x-bb-api-key"), body });
    if (path === "/v1/sessions") {
      return Response.json({ id: "sess_1", connectUrl: backing.webSocketUrl, status: "RUNNING" });
    }
    return Response.json({ id: "sess_1", status: "COMPLETED" });
  });
  const browser = new BrowserbaseBrowser({
    apiUrl: `http://127.0.0.1:${api.addr.port}`,
    env: (name) => ({ BROWSERBASE_API_KEY: "bb_key", BROWSERBASE_PROJECT_ID: "proj_1" })[name],
    startingUrl: `${pages.origin}/form`,
  });
  try {
    await browser.start();
    assert.equal(browser.session?.id, "sess_1");
    assert.equal(browser.session?.liveUrl, "https://www.browserbase.com/sessions/sess_1");
    assert.equal(await browser.getCurrentUrl(), `${pages.origin}/form`);
    const [output] = await new Operator().play(browser, {
      type: "computer_call",
      call_id: "call_1",
      actions: [{ type: "click", x: 100, y: 95 }, { type: "type", text: "remote" }],
    });
    assert.deepEqual([...png(output).subarray(0, 4)], PNG);
    assert.equal(await browser.evaluate("document.getElementById('name').value"), "remote");
    await browser.stop();
    assert.equal(calls[0].path, "/v1/sessions");
    assert.equal(calls[0].key, "bb_key");
    assert.deepEqual(calls[0].body, {
      projectId: "proj_1",
      region: "us-west-2",
      proxies: false,
      browserSettings: { viewport: { width: 1024, height: 768 }, blockAds: false },
    });
    assert.deepEqual(calls[1], {
      path: "/v1/sessions/sess_1",
      key: "bb_key",
      body: { projectId: "proj_1", status: "REQUEST_RELEASE" },
    });
  } finally {
    await browser.stop();
    await backing.release();
    await api.shutdown();
    await pages.close();
  }
});
