// Browser-only: chat with an agent over the agent-message protocol (MessagingChatClient): pick an
// agent, pick or start a thread, send, watch the answer stream in with its tool calls, interrupt.
// ChatBots (no supports_agent_messages) are chatted with over the legacy protocol (_legacy_chat.ts).
import { useEffect, useRef, useState } from "preact/hooks";
import type { RemoteParticipant, RoomClient } from "@meshagent/api";
import { MessagingChatClient } from "@meshagent/agents";
import { html, messageOf } from "./_html.ts";
import { foldAgentMessage, type TranscriptItem, type WireAgentMessage } from "./_transcript.ts";
import { Item } from "./_transcript_item.ts";
import { isLegacyChatBot, LegacyChat } from "./_legacy_chat.ts";

function agents(room: RoomClient): RemoteParticipant[] {
  return room.messaging.remoteParticipants.filter((p) =>
    p.getAttribute("supports_agent_messages") === true || isLegacyChatBot(p)
  );
}

/** One agent's chat: threads on the left, the transcript and the composer on the right. */
function AgentChat(props: { room: RoomClient; agent: string }): unknown {
  const { room, agent } = props;
  const [chat, setChat] = useState<MessagingChatClient | null>(null);
  const [threads, setThreads] = useState<{ id: string; name: string }[]>([]);
  const [thread, setThread] = useState<string | null>(null);
  const [items, setItems] = useState<TranscriptItem[]>([]);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const [turn, setTurn] = useState<{ interrupt(): Promise<void> } | null>(null);
  const threadRef = useRef<string | null>(null);
  const listThreads = async (c: MessagingChatClient) => {
    const listed = await c.listThreads();
    setThreads(listed.threads.map((t) => ({
      id: t.path,
      name: t.name ?? t.path.split("/").at(-1) ?? t.path,
    })));
  };
  useEffect(() => {
    let client: MessagingChatClient | null = null;
    let stopped = false;
    MessagingChatClient.connect({ room, agentName: agent }).then(async (c) => {
      if (stopped) return c.close();
      client = c;
      c.listen((m) => {
        const wire = m as unknown as WireAgentMessage;
        if (wire.thread_id === threadRef.current) setItems((old) => foldAgentMessage(old, wire));
      });
      setChat(c);
      await listThreads(c).catch((e) => setError(messageOf(e)));
    }, (e) => setError(messageOf(e)));
    return () => {
      stopped = true;
      client?.close();
    };
  }, [room, agent]);
  const openThread = async (id: string) => {
    threadRef.current = id;
    setThread(id);
    setItems([]);
    try {
      const replayed = await chat!.openThread(id);
      setItems(replayed.reduce(
        (acc, m) => foldAgentMessage(acc, m as unknown as WireAgentMessage),
        [] as TranscriptItem[],
      ));
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const newThread = async () => {
    try {
      const id = await chat!.startThread();
      threadRef.current = id;
      setThread(id);
      setItems([]);
      await listThreads(chat!);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const send = async (e: Event) => {
    e.preventDefault();
    if (!chat || !text.trim()) return;
    setError("");
    try {
      let id = thread;
      if (!id) {
        id = await chat.startThread();
        threadRef.current = id;
        setThread(id);
      }
      const said = text;
      setText("");
      setItems((old) => [...old, { kind: "user", id: `user:${Date.now()}`, text: said }]);
      const running = await chat.startTurn(id, said);
      setTurn(running);
      const done = await running.done;
      if (done.error) setError(done.error.message);
      await listThreads(chat).catch(() => {});
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setTurn(null);
    }
  };
  const decide = (item: Extract<TranscriptItem, { kind: "tool" }>, approve: boolean) => {
    chat!.send(approve ? "tool_call.approve" : "tool_call.reject", {
      thread_id: thread,
      turn_id: item.turnId,
      item_id: item.itemId,
    }).catch((e) => setError(messageOf(e)));
  };
  if (!chat) {
    return html`<p role="status">${error ? "" : `Connecting to ${agent}…`}</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}`;
  }
  return html`
    <div class="chat">
      <nav class="threads" aria-label="threads">
        <button onClick=${newThread}>New thread</button>
        <ul>${threads.map((t) =>
          html`<li key=${t.id}><button class="link" aria-current=${t.id === thread}
          onClick=${() => openThread(t.id)}>${t.name}</button></li>`
        )}</ul>
      </nav>
      <div class="conversation">
          <ol class="transcript" aria-live="polite" aria-label="conversation">
            ${items.map((item) => html`<${Item} key=${item.id} item=${item} onDecide=${decide} />`)}
          </ol>
          ${error && html`<p class="error" role="alert">${error}</p>`}
          <form class="composer" onSubmit=${send}>
            <label for="chat-input">Message to ${agent}</label>
            <textarea id="chat-input" rows="2" value=${text}
              onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
              onKeyDown=${(e: KeyboardEvent) => {
                if (e.key === "Enter" && !e.shiftKey) send(e);
              }}></textarea>
            <button type="submit" disabled=${turn !== null}>Send</button>
            ${turn &&
              html`<button type="button" onClick=${() => turn.interrupt()}>Interrupt</button>`}
          </form>
        </div>
    </div>
  `;
}

/** The chat tab: the agents in the room (live) and a chat with the chosen one. */
export function ChatView(props: { room: RoomClient }): unknown {
  const { room } = props;
  const [list, setList] = useState<RemoteParticipant[]>(agents(room));
  const [agent, setAgent] = useState<string>("");
  useEffect(() => {
    const refresh = () => setList(agents(room));
    const offs = [
      room.on("participantAdded", refresh),
      room.on("participantRemoved", refresh),
      room.on("participantAttributesUpdated", refresh),
    ];
    refresh();
    return () => offs.forEach((off) => off());
  }, [room]);
  const chosen = list.some((p) => p.name === agent) ? agent : list[0]?.name ?? "";
  const picked = list.find((p) => p.name === chosen);
  return html`<section aria-labelledby="chat-title">
    <h2 id="chat-title">Chat</h2>
    ${
    list.length === 0
      ? html`<p>
        No agent in this room yet (a participant with supports_agent_messages, or a ChatBot).
      </p>`
      : html`
        <label for="agent-pick">Agent</label>
        <select id="agent-pick" value=${chosen}
          onChange=${(e: Event) => setAgent((e.target as HTMLSelectElement).value)}>
                  ${list.map((p) =>
                    html`<option key=${p.id} value=${p.name}>${p.name}${
                      isLegacyChatBot(p) ? " (chat bot)" : ""
                    }</option>`
                  )}
                </select>
        ${picked && isLegacyChatBot(picked)
          ? html`<${LegacyChat} key=${chosen} room=${room} bot=${picked} />`
          : html`<${AgentChat} key=${chosen} room=${room} agent=${chosen} />`}
      `
  }
  </section>`;
}
