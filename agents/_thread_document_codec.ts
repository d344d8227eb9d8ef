// Private: how agent messages map onto a `thread` MeshDocument (agents.md §2.6) and back.
//
// The writer turns each stored agent message into elements of the thread's `messages` list, so
// that any participant reading the document through sync sees the conversation; the reader turns
// the elements back into agent messages that `sessionItemsFromMessages` makes into the same LLM
// context. The mapping, per message type (WRITERS below, READERS for the way back):
//
// - `turn.start` / `turn.steer` → `message{id: message_id, turn_id, text: contentText(content),
//   created_at, author_name: sender_name, role: "user"}` with a `file{path}` child per `file`
//   content (`room:///a/b.txt` → `a/b.txt`; other URLs as they are). Back: the first user message
//   of a turn is a `turn.start`, later ones with the same `turn_id` are `turn.steer`s, content
//   [text, files as `room:///path`]. [impl] A file's `name` and `mime_type` are not kept: the
//   schema's `file` has only `path`.
// - `turn.start.accepted` / `turn.started` carry the `turn_id` of a start that had none: it is
//   written on that user message (so readers can group a turn), and the message itself is kept as
//   an `agent_message` event (below).
// - `text_content.*` → one `message{id: item_id, turn_id, text, role: "assistant", author_name:
//   the agent, created_at}` whose text grows as deltas come (the storage writes it at most every
//   100 ms, and at once on `*.ended` / `turn.ended`). Back: started, one delta with the whole
//   text, ended. [impl] `phase`, `provider` and `model` are not kept.
// - `reasoning_content.*` → `reasoning{turn_id, summary, created_at}` (its `$id` is the item id
//   when that id is free in the document); back: started, one delta, ended.
// - `file_content.*` (the chat toolkit's `attach_file`) → an assistant `message` with a
//   `file{path}` child per URL, as the official thread adapter writes it; back: started, a delta
//   per file, ended.
// - `tool_call.pending` / `in_progress` / `started` → one `event{id: item_id, turn_id, kind:
//   "tool_call", method: "tool_call", source: toolkit, name: tool, state, headline: "Calling
//   <tool>", data: JSON {call_id, namespace, arguments}, created_at}`; `tool_call.log_delta`
//   lines become its `log` children (the last EVENT_LOG_LIMIT); `tool_call.approval_requested`
//   sets state `pending_approval`; `tool_call.ended` updates it: state `completed` / `failed`,
//   `data` gains `result` (the content JSON) or `error`, `updated_at`. Back: started, the log
//   lines as one `log_delta`, the approval request, and ended once it ended. [impl]
//   `tool_call.arguments_delta` is not kept (the arguments are in `started`), nor are
//   pending/in_progress given back (they only say the call was coming).
// - `turn.ended` → `event{kind: "turn", method: "turn.ended", turn_id, state: completed | failed
//   | cancelled, headline: the error message, data: JSON {error}}`; back: `turn.ended{turn_id,
//   error?}`.
// - `thread.event` → `event{kind: event.kind, id: event.id, headline, details, state, …,
//   method: "thread.event", data: JSON of the event}`, updated in place when an event with the
//   same id comes again in the same turn (retry notices count up); back: `thread.event` with
//   the latest state of each.
// - anything else stored (`usage.updated`, `model.changed`, `turn.started`, …) →
//   `event{kind: "agent_message", method: <type>, name: <type>, state: "info", data: JSON of the
//   message}` so nothing is lost, given back as it is.
// - Elements other participants add are read too: a `message` without a role is the agent's when
//   its author is the agent, a user's otherwise; other events become `thread.event`s; `exec` and
//   `ui` items are left out [impl] (they have no agent message).
import type { AttributeValue, Element, MeshDocument } from "@meshagent/api";
import {
  AGENT_MESSAGE_PREFIX,
  type AgentMessage,
  agentMessageKind,
  contentText,
} from "./agent_message.ts";

/** [impl] How many log lines a tool call event keeps (the official adapter keeps 10). */
export const EVENT_LOG_LIMIT = 50;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Attributes without the undefined ones (absent attributes are not written). */
function attrs(values: Record<string, unknown>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === "string" || typeof value === "number") out[key] = value;
  }
  return out;
}

/** The path a `file` element holds for a content URL: `room:///a/b` → `a/b`; others as they are. */
export function attachmentPath(url: string): string {
  const trimmed = url.trim();
  if (!trimmed.startsWith("room://")) return trimmed;
  const path = trimmed.slice("room://".length).replace(/^\/+/, "");
  return path === "" ? trimmed : path;
}

/** The URL of a `file` element's path: a room path becomes `room:///path`. */
export function attachmentUrl(path: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : `room:///${path.replace(/^\/+/, "")}`;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== "string" || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A text that grows while deltas come, written to its element from time to time. */
interface LiveText {
  element: Element;
  attribute: "text" | "summary";
  text: string;
  turnId?: string;
  dirty: boolean;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

type Writer = (w: ThreadDocumentWriter, m: AgentMessage, kind: string) => void;

/** How each stored message type is written (the default: an `agent_message` event). */
const WRITERS: Readonly<Record<string, Writer>> = {
  "turn.start": (w, m) => w.userMessage(m),
  "turn.steer": (w, m) => w.userMessage(m),
  "turn.start.accepted": (w, m, kind) => {
    w.backfillTurn(m);
    w.agentMessageEvent(m, kind);
  },
  "turn.started": (w, m, kind) => {
    w.backfillTurn(m);
    w.agentMessageEvent(m, kind);
  },
  "text_content.started": (w, m) => void w.liveText(m, "text"),
  "text_content.delta": (w, m) => w.appendLive(w.liveText(m, "text"), m.text),
  "text_content.ended": (w, m) => w.endLive(w.liveText(m, "text"), m.text),
  "reasoning_content.started": (w, m) => void w.liveText(m, "summary"),
  "reasoning_content.delta": (w, m) => w.appendLive(w.liveText(m, "summary"), m.text),
  "reasoning_content.ended": (w, m) => w.endLive(w.liveText(m, "summary"), m.text),
  "file_content.started": (w, m) => void w.fileMessage(m),
  "file_content.delta": (w, m) => {
    if (typeof m.url === "string") {
      w.fileMessage(m).createChildElement("file", { path: attachmentPath(m.url) });
    }
  },
  "file_content.ended": (w, m) => void w.fileMessage(m),
  "tool_call.pending": (w, m) => w.toolCall(m, "pending"),
  "tool_call.in_progress": (w, m) => w.toolCall(m, "in_progress"),
  "tool_call.arguments_delta": () => {},
  "tool_call.started": (w, m) => w.toolCall(m, "in_progress"),
  "tool_call.approval_requested": (w, m) => w.toolCall(m, "pending_approval"),
  "tool_call.log_delta": (w, m) => w.toolLog(m),
  "tool_call.ended": (w, m) => w.toolEnded(m),
  "turn.ended": (w, m) => w.turnEnded(m),
  "thread.event": (w, m) => w.threadEvent(m),
};

/**
 * Writes agent messages into a thread document (call inside `doc.transact`). Remembers the
 * elements of items that may change again (streaming text, tool calls, thread events).
 */
export class ThreadDocumentWriter {
  readonly #doc: MeshDocument;
  readonly #agentName: string;
  readonly #byKey = new Map<string, Element>();
  readonly #live = new Map<string, LiveText>();
  readonly #members = new Set<string>();

  constructor(doc: MeshDocument, agentName: string) {
    this.#doc = doc;
    this.#agentName = agentName;
    this.#index();
  }

  /** Whether streamed text waits to be written. */
  get hasLiveChanges(): boolean {
    for (const live of this.#live.values()) if (live.dirty) return true;
    return false;
  }

  /** Writes one message. */
  apply(message: AgentMessage): void {
    const kind = agentMessageKind(message.type) ?? message.type;
    (WRITERS[kind] ?? ((w, m, k) => w.agentMessageEvent(m, k)))(this, message, kind);
  }

  /** Writes the streamed text that changed since the last write. */
  flushLive(): void {
    for (const live of this.#live.values()) this.#writeLive(live);
  }

  /** Removes every item of the thread (`thread.clear`). */
  clear(): void {
    for (const child of this.messages().children) child.delete();
    this.#byKey.clear();
    this.#live.clear();
  }

  /** The `messages` element, created when missing (a document made by someone else). */
  messages(): Element {
    const root = this.#doc.root;
    const found = root.children.find((c) => c.tagName === "messages");
    if (found) return found;
    return root.createChildElement("messages", {});
  }

  #membersElement(): Element {
    const root = this.#doc.root;
    return root.children.find((c) => c.tagName === "members") ??
      root.createChildElement("members", {}, { index: 0 });
  }

  /** Adds a member (the agent, each person who wrote) once. */
  ensureMember(name: string | undefined): void {
    if (!name || this.#members.has(name)) return;
    this.#members.add(name);
    const members = this.#membersElement();
    if (!members.children.some((m) => m.getAttribute("name") === name)) {
      members.createChildElement("member", { name });
    }
  }

  /** Rebuilds the element index from the document (after a reopen). */
  #index(): void {
    const root = this.#doc.root;
    for (const m of root.children.find((c) => c.tagName === "members")?.children ?? []) {
      const name = m.getAttribute("name");
      if (typeof name === "string") this.#members.add(name);
    }
    for (const el of root.children.find((c) => c.tagName === "messages")?.children ?? []) {
      const key = elementKey(el);
      if (key) this.#byKey.set(key, el);
    }
  }

  #get(key: string): Element | undefined {
    const el = this.#byKey.get(key);
    if (el?.isDeleted) {
      this.#byKey.delete(key);
      return undefined;
    }
    return el;
  }

  #add(key: string | null, tag: string, values: Record<string, unknown>, id?: string): Element {
    const useId = id !== undefined && this.#doc.getElementById(id) === undefined;
    const el = this.messages().createChildElement(tag, attrs(values), useId ? { id } : {});
    if (key) this.#byKey.set(key, el);
    return el;
  }

  userMessage(m: AgentMessage): void {
    const content = Array.isArray(m.content) ? m.content : [];
    const el = this.#add(`message:${m.message_id}`, "message", {
      id: m.message_id,
      turn_id: m.turn_id,
      text: contentText(content),
      created_at: m.created_at,
      author_name: m.sender_name,
      role: "user",
    });
    for (const item of content) {
      if (isObject(item) && item.type === "file" && typeof item.url === "string") {
        el.createChildElement("file", { path: attachmentPath(item.url) });
      }
    }
    this.ensureMember(m.sender_name);
  }

  backfillTurn(m: AgentMessage): void {
    const source = str(m.source_message_id);
    const el = source ? this.#get(`message:${source}`) : undefined;
    if (el && m.turn_id && typeof el.getAttribute("turn_id") !== "string") {
      el.setAttribute("turn_id", m.turn_id);
    }
  }

  liveText(m: AgentMessage, attribute: "text" | "summary"): LiveText {
    const itemId = String(m.item_id);
    const key = `${attribute === "text" ? "text" : "reasoning"}:${itemId}`;
    let live = this.#live.get(key);
    if (live && !live.element.isDeleted) return live;
    let el = this.#get(key);
    if (!el) {
      this.ensureMember(this.#agentName);
      el = attribute === "text"
        ? this.#add(key, "message", {
          id: itemId,
          turn_id: m.turn_id,
          text: "",
          created_at: m.created_at,
          author_name: this.#agentName,
          role: "assistant",
        })
        : this.#add(key, "reasoning", {
          turn_id: m.turn_id,
          summary: "",
          created_at: m.created_at,
        }, itemId);
    }
    live = {
      element: el,
      attribute,
      text: str(el.getAttribute(attribute)) ?? "",
      turnId: m.turn_id,
      dirty: false,
    };
    this.#live.set(key, live);
    return live;
  }

  appendLive(live: LiveText, text: unknown): void {
    if (typeof text !== "string" || text === "") return;
    live.text += text;
    live.dirty = true;
  }

  endLive(live: LiveText, text: unknown): void {
    // An `ended` may carry the whole text (as stored threads do); it wins when it is longer.
    if (typeof text === "string" && text.length > live.text.length) {
      live.text = text;
      live.dirty = true;
    }
    this.#writeLive(live);
    for (const [key, value] of this.#live) if (value === live) this.#live.delete(key);
  }

  #writeLive(live: LiveText): void {
    if (!live.dirty) return;
    live.dirty = false;
    if (!live.element.isDeleted) live.element.setAttribute(live.attribute, live.text);
  }

  fileMessage(m: AgentMessage): Element {
    const key = `file:${m.item_id}`;
    const found = this.#get(key);
    if (found) return found;
    this.ensureMember(this.#agentName);
    return this.#add(key, "message", {
      id: String(m.item_id),
      turn_id: m.turn_id,
      text: "",
      created_at: m.created_at,
      author_name: this.#agentName,
      role: "assistant",
    });
  }

  #toolElement(m: AgentMessage, state: string): Element {
    const key = `tool:${m.item_id}`;
    const found = this.#get(key);
    if (found) return found;
    return this.#add(key, "event", {
      id: String(m.item_id),
      turn_id: m.turn_id,
      kind: "tool_call",
      method: "tool_call",
      item_id: String(m.item_id),
      source: str(m.toolkit),
      name: str(m.tool),
      state,
      headline: typeof m.tool === "string" ? `Calling ${m.tool}` : undefined,
      data: JSON.stringify(toolData({}, m)),
      created_at: m.created_at,
    });
  }

  toolCall(m: AgentMessage, state: string): void {
    const el = this.#toolElement(m, state);
    const current = str(el.getAttribute("state"));
    if (current && TERMINAL.has(current)) return;
    el.setAttributes(attrs({
      state,
      source: str(m.toolkit),
      name: str(m.tool),
      headline: typeof m.tool === "string" ? `Calling ${m.tool}` : undefined,
      data: JSON.stringify(toolData(parseObject(el.getAttribute("data")), m, state)),
      updated_at: m.created_at,
    }));
  }

  toolLog(m: AgentMessage): void {
    const el = this.#toolElement(m, "in_progress");
    if (!Array.isArray(m.lines)) return;
    for (const line of m.lines) {
      if (!isObject(line) || typeof line.text !== "string") continue;
      el.createChildElement(
        "log",
        attrs({
          source: str(line.source) ?? "stdout",
          text: line.text,
          created_at: m.created_at,
        }),
      );
    }
    const logs = el.children.filter((c) => c.tagName === "log");
    for (const old of logs.slice(0, Math.max(0, logs.length - EVENT_LOG_LIMIT))) old.delete();
  }

  toolEnded(m: AgentMessage): void {
    const el = this.#toolElement(m, "in_progress");
    const error = isObject(m.error) ? m.error : undefined;
    const tool = str(m.tool) ?? str(el.getAttribute("name")) ?? "the tool";
    const data = toolData(parseObject(el.getAttribute("data")), m);
    if (error) data.error = error;
    else if (m.result !== undefined) data.result = m.result;
    el.setAttributes(attrs({
      state: error ? "failed" : "completed",
      source: str(m.toolkit),
      name: str(m.tool),
      headline: error ? `${tool} failed` : `Called ${tool}`,
      details: error ? str(error.message) : undefined,
      data: JSON.stringify(data),
      updated_at: m.created_at,
    }));
  }

  turnEnded(m: AgentMessage): void {
    // Anything still streaming in this turn is written as it is (as DeltaJoiner does).
    for (const [key, live] of this.#live) {
      if (live.turnId === m.turn_id) {
        this.#writeLive(live);
        this.#live.delete(key);
      }
    }
    const error = isObject(m.error) ? m.error : undefined;
    const code = str(error?.code);
    this.#add(null, "event", {
      id: `turn.ended:${m.turn_id}`,
      turn_id: m.turn_id,
      kind: "turn",
      method: "turn.ended",
      name: "turn.ended",
      state: !error
        ? "completed"
        : code === "cancelled" || code === "interrupted"
        ? "cancelled"
        : "failed",
      headline: str(error?.message),
      data: error ? JSON.stringify({ error }) : undefined,
      created_at: m.created_at,
    });
  }

  threadEvent(m: AgentMessage): void {
    const event = isObject(m.event) ? m.event : {};
    const id = str(event.id);
    const turnId = m.turn_id ?? str(event.turn_id);
    const key = id ? `thread_event:${turnId ?? ""}:${id}` : null;
    const details = Array.isArray(event.details)
      ? event.details.filter((d) => typeof d === "string").join("\n")
      : str(event.details);
    const values = {
      turn_id: turnId,
      id: id ?? m.message_id,
      source: str(event.source),
      name: str(event.name),
      kind: str(event.kind) ?? "event",
      state: str(event.state),
      method: "thread.event",
      item_id: str(event.item_id),
      item_type: str(event.item_type),
      path: str(event.path),
      summary: str(event.summary),
      headline: str(event.headline),
      details,
      preview: str(event.preview),
      data: JSON.stringify(event),
    };
    const found = key ? this.#get(key) : undefined;
    if (found) found.setAttributes(attrs({ ...values, updated_at: m.created_at }));
    else this.#add(key, "event", { ...values, created_at: m.created_at });
  }

  agentMessageEvent(m: AgentMessage, kind: string): void {
    this.#add(null, "event", {
      id: m.message_id,
      turn_id: m.turn_id,
      kind: "agent_message",
      method: kind,
      name: kind,
      state: "info",
      data: JSON.stringify(m),
      created_at: m.created_at,
    });
  }
}

function parseObject(text: unknown): Record<string, unknown> {
  const parsed = parseJson(text);
  return isObject(parsed) ? parsed : {};
}

/** The `data` of a tool call event: what the call needs to be given back. */
function toolData(
  previous: Record<string, unknown>,
  m: AgentMessage,
  state?: string,
): Record<string, unknown> {
  const data = { ...previous };
  for (const field of ["call_id", "namespace", "arguments"]) {
    if (m[field] !== undefined && data[field] === undefined) data[field] = m[field];
  }
  if (state === "pending_approval") data.approval_requested = true;
  return data;
}

/** The writer's key of an element read from the document (so later messages update it). */
function elementKey(el: Element): string | null {
  const id = str(el.getAttribute("id"));
  switch (el.tagName) {
    case "message": {
      if (!id) return null;
      if (el.getAttribute("role") === "user") return `message:${id}`;
      const files = el.children.some((c) => c.tagName === "file");
      return files && !el.getAttribute("text") ? `file:${id}` : `text:${id}`;
    }
    case "reasoning":
      return el.id ? `reasoning:${el.id}` : null;
    case "event": {
      const method = el.getAttribute("method");
      if (method === "tool_call" && id) return `tool:${id}`;
      if (method === "thread.event" && id) {
        return `thread_event:${str(el.getAttribute("turn_id")) ?? ""}:${id}`;
      }
      return null;
    }
  }
  return null;
}

/** Builds a message read back from the document (fields without undefined ones). */
function message(
  threadId: string,
  kind: string,
  createdAt: unknown,
  fields: Record<string, unknown>,
): AgentMessage {
  const out: Record<string, unknown> = {
    type: AGENT_MESSAGE_PREFIX + kind,
    message_id: crypto.randomUUID(),
    created_at: str(createdAt) ?? new Date().toISOString(),
    thread_id: threadId,
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as AgentMessage;
}

type Reader = (el: Element, r: ReadState) => AgentMessage[];

interface ReadState {
  threadId: string;
  agentName: string;
  /** Turns that already have their user message (later ones are steers). */
  turns: Set<string>;
}

function attr(el: Element, name: string): string | undefined {
  return str(el.getAttribute(name));
}

function readUser(el: Element, r: ReadState): AgentMessage[] {
  const turnId = attr(el, "turn_id");
  const steer = turnId !== undefined && r.turns.has(turnId);
  if (turnId !== undefined) r.turns.add(turnId);
  const text = attr(el, "text") ?? "";
  const files = el.children
    .filter((c) => c.tagName === "file" && attr(c, "path"))
    .map((c) => ({ type: "file", url: attachmentUrl(attr(c, "path")!) }));
  const content = [
    ...(text !== "" || files.length === 0 ? [{ type: "text", text }] : []),
    ...files,
  ];
  return [message(r.threadId, steer ? "turn.steer" : "turn.start", el.getAttribute("created_at"), {
    message_id: attr(el, "id") ?? el.id,
    turn_id: turnId,
    sender_name: attr(el, "author_name"),
    content,
  })];
}

function readAssistant(el: Element, r: ReadState): AgentMessage[] {
  const base = {
    turn_id: attr(el, "turn_id"),
    item_id: attr(el, "id") ?? el.id ?? crypto.randomUUID(),
  };
  const at = el.getAttribute("created_at");
  const text = attr(el, "text") ?? "";
  const files = el.children.filter((c) => c.tagName === "file" && attr(c, "path"));
  const out: AgentMessage[] = [];
  if (text !== "" || files.length === 0) {
    out.push(message(r.threadId, "text_content.started", at, base));
    if (text !== "") out.push(message(r.threadId, "text_content.delta", at, { ...base, text }));
    out.push(message(r.threadId, "text_content.ended", at, base));
  }
  if (files.length > 0) {
    out.push(message(r.threadId, "file_content.started", at, base));
    for (const file of files) {
      out.push(message(r.threadId, "file_content.delta", at, {
        ...base,
        url: attachmentUrl(attr(file, "path")!),
      }));
    }
    out.push(message(r.threadId, "file_content.ended", at, base));
  }
  return out;
}

function readReasoning(el: Element, r: ReadState): AgentMessage[] {
  const base = { turn_id: attr(el, "turn_id"), item_id: el.id ?? crypto.randomUUID() };
  const at = el.getAttribute("created_at");
  const text = attr(el, "summary") ?? "";
  return [
    message(r.threadId, "reasoning_content.started", at, base),
    ...(text !== "" ? [message(r.threadId, "reasoning_content.delta", at, { ...base, text })] : []),
    message(r.threadId, "reasoning_content.ended", at, base),
  ];
}

function readToolCall(el: Element, r: ReadState): AgentMessage[] {
  const data = parseObject(el.getAttribute("data"));
  const base = {
    turn_id: attr(el, "turn_id"),
    item_id: attr(el, "id") ?? attr(el, "item_id") ?? el.id,
    call_id: data.call_id,
    namespace: data.namespace,
    toolkit: attr(el, "source") ?? "",
    tool: attr(el, "name") ?? "",
  };
  const out = [message(r.threadId, "tool_call.started", el.getAttribute("created_at"), {
    ...base,
    arguments: data.arguments,
  })];
  const lines = el.children
    .filter((c) => c.tagName === "log")
    .map((c) => ({ source: attr(c, "source") ?? "stdout", text: attr(c, "text") ?? "" }));
  if (lines.length > 0) {
    out.push(message(r.threadId, "tool_call.log_delta", el.getAttribute("created_at"), {
      ...base,
      lines,
    }));
  }
  if (data.approval_requested === true) {
    out.push(message(r.threadId, "tool_call.approval_requested", el.getAttribute("created_at"), {
      ...base,
      arguments: data.arguments,
    }));
  }
  const state = attr(el, "state") ?? "";
  if (TERMINAL.has(state)) {
    const error = isObject(data.error)
      ? data.error
      : state !== "completed"
      ? { message: attr(el, "details") ?? attr(el, "headline") ?? `the call ${state}` }
      : undefined;
    out.push(
      message(
        r.threadId,
        "tool_call.ended",
        el.getAttribute("updated_at") ?? el.getAttribute(
          "created_at",
        ),
        { ...base, ...(error ? { error } : { result: data.result }) },
      ),
    );
  }
  return out;
}

function readTurnEnded(el: Element, r: ReadState): AgentMessage[] {
  const data = parseObject(el.getAttribute("data"));
  const state = attr(el, "state");
  const error = isObject(data.error)
    ? data.error
    : state === "failed" || state === "cancelled"
    ? { message: attr(el, "headline") ?? `the turn ${state}` }
    : undefined;
  return [message(r.threadId, "turn.ended", el.getAttribute("created_at"), {
    turn_id: attr(el, "turn_id") ?? "",
    error,
  })];
}

const EVENT_ATTRIBUTES = [
  "id",
  "source",
  "name",
  "kind",
  "state",
  "method",
  "item_id",
  "item_type",
  "path",
  "summary",
  "headline",
  "details",
  "preview",
];

function readThreadEvent(el: Element, r: ReadState): AgentMessage[] {
  let event = el.getAttribute("method") === "thread.event"
    ? parseObject(el.getAttribute("data"))
    : {};
  if (Object.keys(event).length === 0) {
    event = {};
    for (const name of EVENT_ATTRIBUTES) {
      const value = attr(el, name);
      if (value !== undefined) event[name] = value;
    }
  }
  return [message(r.threadId, "thread.event", el.getAttribute("created_at"), {
    turn_id: attr(el, "turn_id"),
    event,
  })];
}

function readAgentMessage(el: Element, r: ReadState): AgentMessage[] {
  const stored = parseObject(el.getAttribute("data"));
  if (typeof stored.type !== "string") return [];
  return [{ ...stored, thread_id: r.threadId } as AgentMessage];
}

function readEvent(el: Element, r: ReadState): AgentMessage[] {
  const method = attr(el, "method");
  const kind = attr(el, "kind");
  if (method === "tool_call" || (method === undefined && kind === "tool_call")) {
    return readToolCall(el, r);
  }
  if (method === "turn.ended") return readTurnEnded(el, r);
  if (kind === "agent_message") return readAgentMessage(el, r);
  return readThreadEvent(el, r);
}

/** How each element of `messages` is read back. */
const READERS: Readonly<Record<string, Reader>> = {
  message: (el, r) => {
    const role = attr(el, "role");
    const mine = role === undefined
      ? attr(el, "author_name") === r.agentName
      : role === "assistant" || role === "agent";
    return mine ? readAssistant(el, r) : readUser(el, r);
  },
  reasoning: readReasoning,
  event: readEvent,
};

/**
 * Reads a thread document back as agent messages, in document order.
 *
 * @param doc The thread document.
 * @param threadId The thread id the messages get.
 * @param agentName The agent's name (an unmarked message by it is an assistant message).
 */
export function readThreadDocument(
  doc: MeshDocument,
  threadId: string,
  agentName: string,
): AgentMessage[] {
  const list = doc.root.children.find((c) => c.tagName === "messages");
  const state: ReadState = { threadId, agentName, turns: new Set() };
  const out: AgentMessage[] = [];
  for (const el of list?.children ?? []) out.push(...(READERS[el.tagName]?.(el, state) ?? []));
  return out;
}
