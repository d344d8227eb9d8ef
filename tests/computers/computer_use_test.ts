// Computer use end to end: an agent in a real room drives a local Chromium through OpenAI
// computer-use actions scripted by the fake Responses server, saves a screenshot to room storage,
// and is refused a blocked URL.
import assert from "node:assert/strict";
import type { JsonObject } from "@meshagent/api";
import { type AgentMessage, AgentSupervisor, Channel } from "@meshagent/agents";
import { OpenAIResponsesAdapter } from "@meshagent/adapters/openai";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { ComputerToolkit, LocalBrowserComputer, Operator } from "@meshagent/computers";
import { startTestServer } from "@meshagent/server/testing";
import { servePages } from "../../computers/testdata/pages.ts";

class Collect extends Channel {
  readonly name = "test";
  readonly got: AgentMessage[] = [];
  deliver(message: AgentMessage) {
    this.got.push(message);
  }
}

function inputItems(body: JsonObject): JsonObject[] {
  return body.input as JsonObject[];
}

Deno.test("an agent fills a form, scrolls, navigates and saves a screenshot; blocked URLs end the turn", async () => {
  const server = await startTestServer();
  await using _closeServer = { [Symbol.asyncDispose]: () => server.close() };
  await using openai = await FakeOpenAIServer.start();
  const pages = servePages();
  const room = await server.connect("computers", "browser-agent");
  const toolkit = new ComputerToolkit({
    computer: new LocalBrowserComputer({ dimensions: { width: 800, height: 600 } }),
    operator: new Operator({ blockedDomains: ["localhost"] }),
  });
  const channel = new Collect();
  const supervisor = new AgentSupervisor({
    agentName: "browser-agent",
    room,
    adapters: new OpenAIResponsesAdapter({
      baseURL: openai.baseURL,
      apiKey: "test",
      maxRetries: 0,
    }),
    toolkits: [toolkit],
    builtinTurnToolkits: false,
  });
  try {
    await supervisor.start([channel]);
    openai.setReplies([
      {
        outputItems: [{
          type: "computer_call",
          call_id: "cu_1",
          actions: [
            { type: "goto", url: `${pages.origin}/form` },
            { type: "click", x: 100, y: 95 },
            { type: "type", text: "Ada" },
            { type: "click", x: 60, y: 160 },
          ],
          pending_safety_checks: [],
        }],
      },
      {
        outputItems: [{
          type: "computer_call",
          call_id: "cu_2",
          actions: [
            { type: "goto", url: `${pages.origin}/links` },
            { type: "click", x: 60, y: 40 },
            { type: "scroll", x: 100, y: 100, scroll_x: 0, scroll_y: 900 },
          ],
          pending_safety_checks: [{ id: "sc_1", code: "irrelevant_domain", message: "ok?" }],
        }],
      },
      {
        toolCalls: [{
          namespace: "meshagent_openai_computer",
          name: "screenshot",
          arguments: { save_path: "shots/long.png", full_page: false },
        }],
      },
      { text: "Signed up and saved a screenshot." },
      {
        outputItems: [{
          type: "computer_call",
          call_id: "cu_3",
          action: { type: "goto", url: `http://localhost:${new URL(pages.origin).port}/form` },
        }],
      },
    ]);
    const sender = { id: "p-user", name: "ada", attributes: {} };
    const turn = (text: string) =>
      supervisor.route({
        data: {
          type: "meshagent.agent.turn.start",
          message_id: crypto.randomUUID(),
          created_at: new Date().toISOString(),
          thread_id: "t1",
          content: [{ type: "text", text }],
        },
        sender,
      }, channel);
    await turn("sign up as Ada, then look at the long page");
    await supervisor.idle("t1");

    // The model was offered the native computer tool next to the toolkit's function tools.
    const first = openai.requests[0].body;
    const tools = first.tools as JsonObject[];
    assert.deepEqual(tools[0], { type: "computer" });
    const namespace = tools.find((t) => t.type === "namespace") as JsonObject;
    assert.deepEqual((namespace.tools as JsonObject[]).map((t) => t.name), ["screenshot"]);

    // The form was filled and sent by the browser.
    assert.deepEqual(pages.submissions, ["Ada"]);
    // Each computer_call was answered with a screenshot; the safety check was acknowledged.
    const second = inputItems(openai.requests[1].body);
    const call = second.find((i) => i.type === "computer_call") as JsonObject;
    assert.equal(call.call_id, "cu_1");
    const output = second.find((i) => i.type === "computer_call_output") as JsonObject;
    assert.equal(output.call_id, "cu_1");
    assert.match(
      String((output.output as JsonObject).image_url),
      /^data:image\/png;base64,iVBORw0KGgo/,
    );
    const third = inputItems(openai.requests[2].body);
    const output2 = third.filter((i) => i.type === "computer_call_output").at(-1) as JsonObject;
    assert.equal(output2.call_id, "cu_2");
    assert.deepEqual(output2.acknowledged_safety_checks, [
      { id: "sc_1", code: "irrelevant_domain", message: "ok?" },
    ]);
    assert.equal(await toolkit.computer.getCurrentUrl(), `${pages.origin}/long`);
    const scrolled = await (toolkit.computer as LocalBrowserComputer).evaluate("window.scrollY");
    assert.ok(Number(scrolled) > 0, `scrolled to ${scrolled}`);

    // The screenshot landed in room storage.
    const file = await room.storage.download("shots/long.png");
    assert.deepEqual([...file.data.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const ended = channel.got.filter((m) => m.type === "meshagent.agent.turn.ended");
    assert.equal(ended.length, 1);
    assert.equal(ended[0].error, undefined);
    const events = channel.got.filter((m) =>
      m.type === "meshagent.agent.tool_call.ended" && m.tool === "computer_call"
    );
    assert.equal(events.length, 2);

    // A blocked URL is refused before the browser goes there, and ends the turn with the reason.
    await turn("now open localhost");
    await supervisor.idle("t1");
    const last = channel.got.filter((m) => m.type === "meshagent.agent.turn.ended").at(-1)!;
    const error = last.error as { code: string; message: string };
    assert.equal(error.code, "tool_failed");
    assert.match(error.message, /computer_call failed: Blocked URL: http:\/\/localhost:\d+\/form/);
    assert.equal(await toolkit.computer.getCurrentUrl(), `${pages.origin}/long`);
    assert.equal(openai.requests.length, 5);
  } finally {
    await supervisor.stop();
    await toolkit.stop();
    await room.dispose();
    await pages.close();
  }
});
