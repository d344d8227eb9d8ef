// Private: reading a queue item (agents.md §2.7, official queue_channel.py) into what a turn needs.
import type { AgentInputContent } from "./agent_message.ts";

/** A queue item, read. */
export interface QueueItem {
  /** The turn's content (room prompt files not resolved yet: see `promptFiles`). */
  content: AgentInputContent[];
  /** True when the content came from `prompt`: its `room://` files are prompt files to read. */
  promptFiles: boolean;
  /** The legacy `prompt_file` (a room path whose text goes first). */
  promptFile?: string;
  /** The thread path (time tokens not expanded). */
  path?: string;
  /** The model. */
  model?: string;
  /** Extra instructions for the turn. */
  instructions?: string;
  /** Who sent it (`sender_name`, else `from`). */
  senderName?: string;
  /** The whole item, as JSON text (the fallback content). */
  json: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

function contentList(value: unknown, key: string): AgentInputContent[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, index) => {
    const where = `queue item ${key}[${index}]`;
    if (!isObject(item) || typeof item.type !== "string") {
      throw new Error(`${where} must be an object with a type (text, file or audio)`);
    }
    switch (item.type) {
      case "text":
        if (typeof item.text !== "string") throw new Error(`${where} of type text needs \`text\``);
        return { type: "text", text: item.text };
      case "file":
      case "audio":
        if (typeof item.url !== "string" || item.url === "") {
          throw new Error(`${where} of type ${item.type} needs \`url\``);
        }
        return item.type === "audio" ? { type: "audio", url: item.url } : {
          type: "file",
          url: item.url,
          ...(typeof item.name === "string" ? { name: item.name } : {}),
          ...(typeof item.mime_type === "string" ? { mime_type: item.mime_type } : {}),
        };
      default:
        throw new Error(`${where} has an unknown type ${JSON.stringify(item.type)}`);
    }
  });
}

/**
 * Reads a queue item: an object `{prompt | content, path?, model?, instructions?, sender_name |
 * from?, prompt_file?}`, or a bare string (the prompt). Anything else, or an object with neither
 * `prompt` nor `content` nor `prompt_file`, becomes a turn whose text is the item's JSON.
 *
 * @throws {Error} When `content` (or an object/list `prompt`) is not AgentInputContent.
 */
export function readQueueItem(item: unknown): QueueItem {
  const payload: Record<string, unknown> = isObject(item)
    ? item
    : typeof item === "string"
    ? { prompt: item }
    : { prompt: JSON.stringify(item) };
  const json = JSON.stringify(payload);
  const read: QueueItem = { content: [], promptFiles: false, json };
  const promptFile = text(payload.prompt_file)?.trim();
  if (promptFile) read.promptFile = promptFile;
  if (payload.content !== undefined && payload.content !== null) {
    read.content = contentList(payload.content, "content");
  } else if (typeof payload.prompt === "string") {
    read.promptFiles = true;
    if (payload.prompt.trim() !== "") read.content = [{ type: "text", text: payload.prompt }];
  } else if (isObject(payload.prompt) || Array.isArray(payload.prompt)) {
    read.promptFiles = true;
    read.content = contentList(payload.prompt, "prompt");
  }
  const path = text(payload.path)?.trim();
  if (path) read.path = path;
  const model = text(payload.model);
  if (model) read.model = model;
  const instructions = text(payload.instructions);
  if (instructions) read.instructions = instructions;
  const sender = text(payload.sender_name) ?? text(payload.from);
  if (sender) read.senderName = sender.trim();
  return read;
}

/**
 * The room storage path of a `room://` URL, or null for another scheme; throws for `.` or `..`
 * segments and for the root.
 */
export function roomPathOf(url: string): string | null {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url);
  if (match && match[1].toLowerCase() !== "room") return null;
  return normalizeRoomPath(match ? url.slice(match[0].length).replace(/^\/+/, "") : url);
}

/** A room storage path without leading or trailing slashes; throws for `.`/`..` or the root. */
export function normalizeRoomPath(path: string): string {
  const parts = path.trim().split("/").filter((p) => p !== "");
  if (parts.length === 0) throw new Error("a room path must not be the root");
  if (parts.some((p) => p === "." || p === "..")) {
    throw new Error(`the room path ${path} must not contain . or .. segments`);
  }
  return parts.join("/");
}
