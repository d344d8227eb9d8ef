// Browser-only: chat with a ChatBot over the legacy chat protocol (plain room messages carrying a
// thread `path`): `opened`, `chat{path, text, attachments}` and `cancel` out, `chat{path, text}`,
// `listening` and `cleared` back. Threads are the bot's `.thread` documents, listed from its
// `index.threadl`; opening one replays what the document holds (tool calls included).
import { useEffect, useRef, useState } from "preact/hooks";
import type { JsonObject, RemoteParticipant, RoomClient, RoomMessage } from "@meshagent/api";
import { DocumentThreadStorageRepository } from "@meshagent/agents";
import { html, messageOf } from "./_html.ts";
import { foldAgentMessage, type TranscriptItem, type WireAgentMessage } from "./_transcript.ts";
import { Item } from "./_transcript_item.ts";

/**
 * A participant the console chats with over the legacy protocol: no `supports_agent_messages`,
 * and one of the attributes a LegacyChatChannel always sets. [impl]
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RemoteParticipant } from "@meshagent/api";
 * import { isLegacyChatBot } from "./_legacy_chat.ts";
 * const as = (a: Record<string, unknown>) =>
 *   ({ getAttribute: (k: string) => a[k] }) as unknown as RemoteParticipant;
 * assert.equal(isLegacyChatBot(as({ empty_state_title: "Ask me" })), true);
 * assert.equal(isLegacyChatBot(as({ empty_state_title: "Hi", supports_agent_messages: true })), false);
 * ```
 *
 * @param p A participant.
 * @returns Whether it speaks the legacy chat protocol.
 */
export function isLegacyChatBot(p: RemoteParticipant): boolean {
  return p.getAttribute("supports_agent_messages") !== true &&
    (typeof p.getAttribute("empty_state_title") === "string" ||
      typeof p.getAttribute("meshagent.chatbot.thread-dir") === "string");
}

function nameOf(p: RemoteParticipant): string {
  return p.name ?? p.id;
}

/** The bot's thread folder: its `meshagent.chatbot.thread-dir`, else `.threads/<name>` (the ChatBot default). */
function threadDir(bot: RemoteParticipant): string {
  const dir = bot.getAttribute("meshagent.chatbot.thread-dir");
  return typeof dir === "string" && dir !== "" ? dir : `.threads/${nameOf(bot)}`;
}

/** One ChatBot's chat: its threads, the transcript of the open one, the composer and Cancel. */
export function LegacyChat(props: { room: RoomClient; bot: RemoteParticipant }): unknown {
  const { room, bot } = props;
  const [repo, setRepo] = useState<DocumentThreadStorageRepository | null>(null);
  const [threads, setThreads] = useState<{ id: string; name: string }[]>([]);
  const [thread, setThread] = useState<string | null>(null);
  const [items, setItems] = useState<TranscriptItem[]>([]);
  const [listening, setListening] = useState(false);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const threadRef = useRef<string | null>(null);
  useEffect(() => {
    const r = new DocumentThreadStorageRepository({
      room,
      agentName: nameOf(bot),
      threadDir: threadDir(bot),
    });
    let stopped = false;
    const refresh = () =>
      r.list().then((l) => {
        if (stopped) return;
        setThreads(l.threads.map((t) => ({
          id: t.path,
          name: t.name ?? t.path.split("/").at(-1) ?? t.path,
        })));
      }, (e) => !stopped && setError(messageOf(e)));
    const offWatch = r.watch(() => refresh());
    const offMessage = room.on("message", (m: RoomMessage) => {
      if (m.fromParticipantId !== bot.id || m.message.path !== threadRef.current) return;
      if (m.type === "listening") setListening(m.message.listening === true);
      if (m.type === "cleared") setItems([]);
      if (m.type !== "chat") return;
      const said = typeof m.message.text === "string" ? m.message.text : "";
      const files = Array.isArray(m.message.attachments)
        ? m.message.attachments.map((a) => String((a as { path?: unknown })?.path ?? ""))
        : [];
      const shown = [said, ...files.map((f) => `(file ${f})`)].filter((s) => s).join(" ");
      setItems((old) => [...old, { kind: "assistant", id: `chat:${old.length}`, text: shown }]);
    });
    (room.messaging.isEnabled ? Promise.resolve() : room.messaging.enable())
      .then(() => refresh())
      .catch((e) => setError(messageOf(e)));
    setRepo(r);
    return () => {
      stopped = true;
      offWatch();
      offMessage();
      r.close().catch(() => {});
    };
  }, [room, bot.id]);
  const say = (type: string, message: JsonObject) =>
    room.messaging.sendMessage({
      to: bot,
      type,
      message: { path: threadRef.current, ...message },
    });
  const openThread = async (id: string, replay: boolean) => {
    threadRef.current = id;
    setThread(id);
    setItems([]);
    setError("");
    try {
      await say("opened", {});
      if (!replay || !repo) return;
      const storage = await repo.open(id);
      const stored = await storage.messages().finally(() => storage.close());
      if (threadRef.current !== id) return;
      setItems(stored.reduce(
        (acc, m) => foldAgentMessage(acc, m as unknown as WireAgentMessage),
        [] as TranscriptItem[],
      ));
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const newThread = () => {
    // [impl] A new thread is a fresh path in the bot's folder; the bot creates its document.
    const id = `${threadDir(bot).replace(/\/+$/, "")}/${crypto.randomUUID()}.thread`;
    return openThread(id, false);
  };
  const send = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setError("");
    try {
      if (!threadRef.current) await newThread();
      const said = text;
      setText("");
      setItems((old) => [...old, { kind: "user", id: `user:${old.length}`, text: said }]);
      await say("chat", { text: said, attachments: [] });
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const cancel = () => say("cancel", {}).catch((e) => setError(messageOf(e)));
  const title = bot.getAttribute("empty_state_title");
  return html`
    <div class="chat">
      <nav class="threads" aria-label="threads">
        <button onClick=${newThread}>New thread</button>
        <ul>${threads.map((t) =>
          html`<li key=${t.id}><button class="link" aria-current=${t.id === thread}
          onClick=${() => openThread(t.id, true)}>${t.name}</button></li>`
        )}</ul>
      </nav>
      <div class="conversation">
        ${items.length === 0 && typeof title === "string" && html`<p>${title}</p>`}
        <ol class="transcript" aria-live="polite" aria-label="conversation">
          ${items.map((item) => html`<${Item} key=${item.id} item=${item} />`)}
        </ol>
        ${listening && html`<p role="status">${nameOf(bot)} is reading…</p>`}
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <form class="composer" onSubmit=${send}>
          <label for="chat-input">Message to ${nameOf(bot)} (chat)</label>
          <textarea id="chat-input" rows="2" value=${text}
            onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
            onKeyDown=${(e: KeyboardEvent) => {
              if (e.key === "Enter" && !e.shiftKey) send(e);
            }}></textarea>
          <button type="submit">Send</button>
          ${thread && html`<button type="button" onClick=${cancel}>Cancel</button>`}
        </form>
      </div>
    </div>
  `;
}
