// The console end to end, in headless Chromium (puppeteer-core, Debian's /usr/bin/chromium): a
// real room server serving /console, a person logging in with the API key, other participants
// and an LLM agent on the local fake OpenAI API. The assertions read the page's text; each step
// leaves a screenshot in the test's temporary folder.
import assert from "node:assert/strict";
import puppeteer from "puppeteer-core";
import { MeshSchema, type RoomClient } from "@meshagent/api";
import { FunctionTool, startHostedToolkit, Toolkit } from "@meshagent/tools";
import { ChatBot, LLMAgent } from "@meshagent/agents";
import { OpenAIResponsesAdapter } from "@meshagent/adapters/openai";
import { type FakeOpenAIRequest, FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { generateApiKey } from "@meshagent/api";
import { serveConsole } from "./console_assets.ts";

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof puppeteer.launch>>["newPage"]>>;

/** Waits until the page's text contains `text` (10 s), else fails with what the page shows. */
async function seeText(page: Page, text: string, within = "body"): Promise<void> {
  try {
    await page.waitForFunction(
      (selector: string, wanted: string) =>
        (document.querySelector(selector) as HTMLElement | null)?.innerText.includes(wanted),
      { timeout: 10_000, polling: 50 },
      within,
      text,
    );
  } catch {
    const shown = await page.$eval("body", (e) => (e as HTMLElement).innerText).catch(() => "");
    throw new Error(
      `the page never showed ${JSON.stringify(text)} in ${within}; it shows:\n${shown}`,
    );
  }
}

async function clickText(page: Page, selector: string, text: string): Promise<void> {
  const handle = await page.waitForFunction(
    (s: string, t: string) =>
      [...document.querySelectorAll(s)].find((e) => (e as HTMLElement).innerText.trim() === t),
    { timeout: 10_000, polling: 50 },
    selector,
    text,
  );
  await (handle as unknown as { click(): Promise<void> }).click();
}

const math = new Toolkit({
  name: "math",
  tools: [
    new FunctionTool<{ a: number; b: number }>({
      name: "add",
      description: "Adds two numbers",
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
        additionalProperties: false,
      },
      run: (_ctx, { a, b }) => ({ sum: a + b }),
    }),
  ],
});

/** The model: adds with the math tool, then answers with the sum, streamed in two parts. */
function script(request: FakeOpenAIRequest) {
  const input = (request.body.input ?? []) as Record<string, unknown>[];
  const last = input.at(-1) ?? {};
  if (last.type === "function_call_output") {
    const sum = JSON.parse(String(last.output)).sum;
    return { text: ["the sum ", `is ${sum}`] };
  }
  return { toolCalls: [{ namespace: "math", name: "add", arguments: { a: 2, b: 3 } }] };
}

const SCHEMA = MeshSchema.fromJson({
  $root_tag_ref: "#/$defs/page",
  $defs: {
    page: {
      type: "object",
      properties: {
        page: {
          type: "object",
          properties: {
            title: { type: ["string", "null"] },
            children: { type: "array", items: { anyOf: [{ $ref: "#/$defs/para" }] } },
          },
        },
      },
    },
    para: {
      type: "object",
      properties: { para: { type: "object", properties: { style: { type: ["string", "null"] } } } },
    },
  },
});

async function withConsole(
  test: (
    context: { server: TestServer; page: Page; shot: (name: string) => Promise<void> },
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "console-e2e-" });
  const server = await startTestServer({ server: { routes: [serveConsole] } });
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", `--user-data-dir=${dir}/profile`],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${server.url}/console`);
    await test({
      server,
      page,
      shot: async (name) => void await page.screenshot({ path: `${dir}/${name}.png` }),
    });
    assert.deepEqual(errors, [], "no uncaught errors on the page");
    console.log(`screenshots in ${dir}`);
  } finally {
    await browser.close();
    await server.close();
    await Deno.remove(`${dir}/profile`, { recursive: true }).catch(() => {});
  }
}

Deno.test("console: a wrong key is refused in words; the right one lists rooms", async () => {
  await withConsole(async ({ server, page, shot }) => {
    await page.type("#credential", generateApiKey().key);
    await clickText(page, "button", "Log in");
    await seeText(page, "the server refused this API key");
    await shot("wrong-key");
    await page.type("#credential", "not a key");
    await page.$eval("#credential", (e) => (e as HTMLTextAreaElement).value = "");
    await page.type("#credential", "hello");
    await clickText(page, "button", "Log in");
    await seeText(page, "neither an API key (ma-…) nor a participant token");
    await page.$eval("#credential", (e) => (e as HTMLTextAreaElement).value = "");
    await page.type("#credential", server.apiKey);
    await clickText(page, "button", "Log in");
    await seeText(page, "Rooms");
    await seeText(page, "No rooms yet");
    const bob = await server.connect("lobby", "bob");
    try {
      await seeText(page, "lobby");
      await seeText(page, "1", "[data-room-participants=lobby]");
      await shot("rooms");
    } finally {
      await bob.dispose();
    }
  });
});

Deno.test("console: participants live, chat with a tool call, files, a live document, reconnect", async () => {
  await using fake = await FakeOpenAIServer.start({ replies: script });
  await withConsole(async ({ server, page, shot }) => {
    const clients: RoomClient[] = [];
    const agentRoom = await server.connect("e2e", "helper");
    clients.push(agentRoom);
    const agent = new LLMAgent({
      name: "helper",
      llmAdapter: new OpenAIResponsesAdapter({
        baseURL: fake.baseURL,
        apiKey: "test",
        model: "gpt-test",
      }),
      rules: ["Answer briefly."],
      turnToolkits: [math],
      threadStorage: "memory",
    });
    await agent.start({ room: agentRoom });
    const stops: (() => Promise<void>)[] = [];
    try {
      // Log in with a participant token for the room: the console joins it directly.
      await page.type("#credential", await server.token("e2e", "visitor"));
      await clickText(page, "button", "Log in");
      await seeText(page, "Participants (1)");
      await seeText(page, "helper", ".participants");
      // Someone joins: the list updates without a reload.
      const alice = await server.connect("e2e", "alice");
      clients.push(alice);
      await alice.messaging.enable();
      await alice.localParticipant!.setAttributes({ mood: "curious" });
      await seeText(page, "alice", ".participants");
      await seeText(page, 'mood: "curious"', ".participants");
      await shot("participants");

      // Chat: the answer streams in after the tool call, shown with its arguments and result.
      await seeText(page, "Message to helper");
      await page.type("#chat-input", "add 2 and 3");
      await clickText(page, "button", "Send");
      await seeText(page, "the sum is 5", ".transcript");
      await seeText(page, "math.add", ".transcript");
      await seeText(page, '{"a":2,"b":3}', ".transcript");
      await seeText(page, '{"sum":5}', ".tool-result");
      await shot("chat");

      // A ChatBot (legacy chat protocol) joins: picked, a new thread, its answer comes back as a
      // chat; reopened from its thread list, the thread document replays the tool call.
      const botRoom = await server.connect("e2e", "bot");
      clients.push(botRoom);
      const bot = new ChatBot({
        name: "bot",
        llmAdapter: new OpenAIResponsesAdapter({
          baseURL: fake.baseURL,
          apiKey: "test",
          model: "gpt-test",
        }),
        toolkits: [math],
        emptyStateTitle: "Ask the bot",
        log: () => {},
      });
      await bot.start({ room: botRoom });
      stops.push(() => bot.stop());
      await page.waitForSelector("#agent-pick option[value=bot]", { timeout: 10_000 });
      await page.select("#agent-pick", "bot");
      await seeText(page, "Message to bot (chat)");
      await clickText(page, "button", "New thread");
      await seeText(page, "Ask the bot", ".conversation");
      await page.type("#chat-input", "add 2 and 3 again");
      await clickText(page, "button", "Send");
      await seeText(page, "the sum is 5", ".transcript");
      await seeText(page, "add 2 and 3 again", ".transcript");
      const thread = await page.waitForSelector(".threads li button", { timeout: 10_000 });
      await thread!.click();
      await seeText(page, "math.add", ".transcript");
      await seeText(page, "the sum is 5", ".transcript");
      await shot("chat-bot");

      // Files: upload, see it listed, preview it.
      await clickText(page, "[role=tab]", "Files");
      await seeText(page, ".threads/", ".file-table"); // the ChatBot's thread folder
      const file = await Deno.makeTempFile({ suffix: ".json" });
      await Deno.writeTextFile(file, JSON.stringify({ hello: "from the console" }));
      const name = file.split("/").at(-1)!;
      const input = await page.$("#upload");
      await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(file);
      await seeText(page, name, ".file-table");
      await Deno.remove(file);
      assert.ok(await alice.storage.exists(name), "the file is in the room");
      await clickText(page, ".file-table button", name);
      await seeText(page, '"hello": "from the console"', "#preview-text");
      await shot("files");

      // Documents: another client's edits appear in the open tree.
      const doc = await alice.sync.open("notes.page", {
        schema: SCHEMA,
        initialJson: { page: { title: "first", children: [] } },
      });
      await alice.sync.flush("notes.page");
      await clickText(page, "[role=tab]", "Documents");
      // picked from the room's documents (the ChatBot's thread is one too; the plain file is not)
      await seeText(page, ".threads/bot/", ".doc-list");
      await clickText(page, ".doc-list button", "notes.page");
      assert.ok(
        !(await page.$eval(".doc-list", (e) => (e as HTMLElement).innerText)).includes(name),
        "the uploaded JSON file is not listed as a document",
      );
      await seeText(page, '"first"', ".doc-tree");
      doc.root.setAttribute("title", "changed by alice");
      doc.root.createChildElement("para", { style: "bold" });
      await seeText(page, '"changed by alice"', ".doc-tree");
      await seeText(page, "<para>", ".doc-tree");
      await shot("document");

      // Queues: sizes, send, take one.
      await alice.queues.send("jobs", { id: 7 }, { create: true });
      await clickText(page, "[role=tab]", "Queues");
      await seeText(page, "jobs\t1", "table");
      await page.type("#queue-name", "jobs");
      await page.$eval("#queue-message", (e) => (e as HTMLInputElement).value = "");
      await page.type("#queue-message", '{"id":8}');
      await clickText(page, "button", "Send");
      await seeText(page, "jobs\t2", "table");
      await clickText(page, "button", "Take one");
      await seeText(page, 'jobs: {"id":7}');
      await shot("queues");

      // Toolkits: a toolkit alice hosts is listed; its form calls it.
      const hosted = await startHostedToolkit(alice, math, { public: true });
      try {
        await clickText(page, "[role=tab]", "Toolkits");
        await clickText(page, "button", "Refresh");
        await clickText(page, "button", "math.add");
        await page.type("#arg-math-add-a", "20");
        await page.type("#arg-math-add-b", "22");
        await clickText(page, "button", "Call add");
        await seeText(page, '"sum": 42', ".call-result");
        await shot("toolkits");
      } finally {
        await hosted.stop();
      }

      // The server goes away and comes back: the console says so, then recovers.
      const dropped = seeText(page, "reconnecting", "#connection-state");
      await server.restart();
      await dropped;
      await shot("reconnecting");
      await page.waitForFunction(
        () => document.querySelector("#connection-state")?.textContent === "connected",
        { timeout: 10_000, polling: 50 },
      );
      await shot("reconnected");
    } finally {
      for (const stop of stops) await stop();
      await agent.stop();
      for (const client of clients) await client.dispose();
    }
  });
});
