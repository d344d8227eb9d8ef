// The legacy ChatBot in a real room: plain `chat` messages in, `chat`/`listening` out, the
// conversation kept as a thread document another participant can read.
import assert from "node:assert/strict";
import type { JsonObject, RoomClient, RoomMessage } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";
import {
  ChatBot,
  DocumentThreadStorageRepository,
  LLMError,
  ScriptedLLMAdapter,
  type ScriptedModel,
} from "./mod.ts";
import { collectingLog, eventually } from "./testdata/eventually.ts";

const model: ScriptedModel = (context) => {
  const said = context.items.filter((i) => i.kind === "user").map((i) =>
    (i as { text: string }).text
  );
  const last = said.at(-1);
  if (last === "fail") throw new LLMError("the provider answered 500", "provider_error", 500);
  // about 10 s, unless cancelled
  if (last === "slow") return { text: "word ".repeat(200).trim(), delayMs: 50 };
  return { text: `I have seen: ${said.join(" | ")}` };
};

/** A person with a legacy UI: sends plain messages to the bot, keeps what comes back. */
class LegacyUser {
  readonly got: { type: string; message: JsonObject }[] = [];
  readonly #off: () => void;
  constructor(readonly room: RoomClient) {
    this.#off = room.on("message", (m: RoomMessage) => {
      if (m.type === "chat" || m.type === "listening" || m.type === "cleared") {
        this.got.push({ type: m.type, message: m.message });
      }
    });
  }
  async send(type: string, message: JsonObject): Promise<void> {
    const bot = this.room.messaging.getParticipantByName("assistant")!;
    await this.room.messaging.sendMessage({ to: bot, type, message });
  }
  chats(path: string): string[] {
    return this.got.filter((g) => g.type === "chat" && g.message.path === path).map((g) =>
      String(g.message.text)
    );
  }
  async nextChat(path: string, count: number): Promise<string> {
    const chats = await eventually(
      () => this.chats(path).length >= count && this.chats(path),
      `chat #${count} on ${path}`,
    );
    return chats[count - 1];
  }
  dispose(): void {
    this.#off();
  }
}

Deno.test("chat bot: legacy chat messages get chat and listening answers; the thread is a document; clear, cancel, errors", async () => {
  const server = await startTestServer();
  const { lines, log } = collectingLog();
  const bot = new ChatBot({
    name: "assistant",
    llmAdapter: new ScriptedLLMAdapter(model, { maxRetries: 0 }),
    threadingMode: "default-new",
    emptyStateTitle: "Ask me",
    autoGreetMessage: "Hi! Ask me anything.",
    shouldReply: ({ text }) => !text.startsWith("psst"),
    log,
  });
  const botRoom = await server.connect("legacy", "assistant");
  await bot.start({ room: botRoom });
  const ada = new LegacyUser(await server.connect("legacy", "ada"));
  const path = ".threads/assistant/first.thread";
  try {
    await ada.room.messaging.enable();
    const seen = await eventually(
      () => ada.room.messaging.getParticipantByName("assistant"),
      "the bot",
    );
    await eventually(() => seen.getAttribute("empty_state_title") === "Ask me", "attributes");
    assert.equal(seen.getAttribute("meshagent.chatbot.threading"), "default-new");
    assert.equal(seen.getAttribute("meshagent.chatbot.thread-dir"), ".threads/assistant");
    assert.equal(
      seen.getAttribute("meshagent.chatbot.thread-list"),
      ".threads/assistant/index.threadl",
    );
    assert.equal(seen.getAttribute("supports_agent_messages"), undefined);

    await ada.send("opened", { path });
    assert.equal(await ada.nextChat(path, 1), "Hi! Ask me anything.");

    await ada.send("chat", { path, text: "hello", attachments: [] });
    assert.equal(await ada.nextChat(path, 2), "I have seen: hello");
    const listening = ada.got.filter((g) => g.type === "listening").map((g) => g.message);
    assert.deepEqual(listening, [{ listening: true, path }, { listening: false, path }]);

    // not answered when shouldReply says no; the next chat is
    await ada.send("chat", { path, text: "psst, ignore this" });
    await ada.send("chat", { path, text: "again" });
    assert.equal(await ada.nextChat(path, 3), "I have seen: hello | again");

    // the conversation is a thread document: another participant reads it
    const reader = new DocumentThreadStorageRepository({ room: ada.room, agentName: "assistant" });
    const stored = await (await reader.open(path)).messages();
    const texts = stored.filter((m) => m.type === "meshagent.agent.text_content.delta").map((m) =>
      m.text
    );
    assert.deepEqual(texts, ["I have seen: hello", "I have seen: hello | again"]);
    await reader.close();

    // cancel interrupts the running turn (no error chat); clear empties the thread
    await ada.send("chat", { path, text: "slow" });
    await eventually(() => ada.got.filter((g) => g.type === "listening").length >= 8, "listening");
    await new Promise((r) => setTimeout(r, 300)); // the turn has started by now
    await ada.send("cancel", { path });
    await ada.send("clear", { path });
    await eventually(() => ada.got.some((g) => g.type === "cleared"), "cleared");
    await ada.send("chat", { path, text: "fresh start" });
    assert.equal(await ada.nextChat(path, 4), "I have seen: fresh start");

    // a failing model and an unknown thread are answered with a chat that says so
    await ada.send("chat", { path, text: "fail" });
    assert.match(await ada.nextChat(path, 5), /^There was an error .*500/);
    await ada.send("chat", { path: "elsewhere/x", text: "hi" });
    assert.match(await ada.nextChat("elsewhere/x", 1), /^I could not answer: there is no thread/);

    // malformed messages are dropped and logged
    await ada.send("chat", { text: "no path" });
    await ada.send("chat", { path, text: "  " });
    await eventually(() => lines.length >= 2, "two log lines");
    assert.match(lines.join("\n"), /without a path[\s\S]*empty chat/);
  } finally {
    ada.dispose();
    await ada.room.dispose();
    await bot.stop();
    await botRoom.dispose();
    await server.close();
  }
});
