// Provider-neutral session items → the Messages API's `messages` (rebuilt on every model round).
import type { JsonObject } from "@meshagent/api";
import type { SessionAttachment, SessionItem, ToolOutputPart } from "@meshagent/agents";

/** A content block as sent (`text`, `image`, `document`, `tool_use`, `tool_result`, …). */
export type Block = Record<string, unknown>;

/** One message of the request. */
export interface AnthropicMessage {
  role: "user" | "assistant";
  content: Block[];
}

/** The `provider` of reasoning items whose `state` holds Anthropic blocks to replay. */
export const ANTHROPIC_STATE = "anthropic";

/** The image types Anthropic accepts in `image` blocks. */
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

const TEXT_TYPES =
  /^(text\/|application\/(json|xml|javascript|x-yaml|yaml|toml|csv)\b)|\+(json|xml)$/;

function normalizeMime(mimeType: string | undefined): string {
  const mime = (mimeType ?? "application/octet-stream").split(";")[0].trim().toLowerCase();
  return mime === "image/jpg" ? "image/jpeg" : mime;
}

/** A text block, or none for empty text (the API refuses empty text blocks). */
export function textBlocks(text: string): Block[] {
  return text === "" ? [] : [{ type: "text", text }];
}

/**
 * Inline bytes as a block: an `image` for the four image types Anthropic takes, a `document` for
 * PDFs, else null (the caller describes the file in text).
 */
export function fileBlock(mimeType: string, data: string, name?: string): Block | null {
  const mime = normalizeMime(mimeType);
  if (IMAGE_TYPES.has(mime)) {
    return { type: "image", source: { type: "base64", media_type: mime, data } };
  }
  if (mime === "application/pdf") {
    return {
      type: "document",
      ...(name ? { title: name } : {}),
      source: { type: "base64", media_type: "application/pdf", data },
    };
  }
  return null;
}

function decodeBase64(data: string): string {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** A user attachment as blocks (official `append_file_message` / `append_file_url`). */
function attachmentBlocks(attachment: SessionAttachment): Block[] {
  const name = attachment.name ?? attachment.url.split("/").pop() ?? "attachment";
  const mime = normalizeMime(attachment.mimeType);
  if (attachment.data !== undefined) {
    const block = fileBlock(mime, attachment.data, name);
    if (block) return [block];
    if (IMAGE_TYPES.has(mime) || mime.startsWith("image/")) {
      return textBlocks(`the user attached an image in unsupported format ${mime}`);
    }
    if (TEXT_TYPES.test(mime)) {
      return textBlocks(`attached file ${name} (${mime}):\n${decodeBase64(attachment.data)}`);
    }
    return textBlocks(`the user attached a file named ${name} with mime type ${mime}`);
  }
  if (/^https?:\/\//.test(attachment.url)) {
    if (mime.startsWith("image/") || /\.(png|jpe?g|gif|webp)$/i.test(attachment.url)) {
      return [{ type: "image", source: { type: "url", url: attachment.url } }];
    }
    if (mime === "application/pdf" || /\.pdf$/i.test(attachment.url)) {
      return [{ type: "document", title: name, source: { type: "url", url: attachment.url } }];
    }
  }
  return textBlocks(`the user attached a file available at ${attachment.url}`);
}

function toolInput(args: string): JsonObject {
  try {
    const parsed = JSON.parse(args);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
  } catch {
    // Malformed arguments: the tool result already told the model; the call is replayed empty.
  }
  return {};
}

/** How {@linkcode toAnthropicMessages} names tools and shows their results. */
export interface MessageConversion {
  /** The name the model used for a tool (its flat name in this response's tool list). */
  toolName(toolkit: string, tool: string): string;
  /** The content blocks of a tool result. */
  toolResultContent(parts: readonly ToolOutputPart[]): Block[];
}

type ToolCallItem = Extract<SessionItem, { kind: "tool_call" }>;
type ToolResultItem = Extract<SessionItem, { kind: "tool_result" }>;

/**
 * Builds the request's messages: user items (text and attachments) as user messages; assistant
 * text, replayable Anthropic reasoning and tool calls as assistant messages; the results of a
 * run of tool calls in the user message right after them (each `tool_use` answered, failures
 * with `is_error`); consecutive messages of one role merged, since the API wants them to
 * alternate. Reasoning from other providers, and Anthropic reasoning without its signature
 * (restored from storage), is left out: the API would refuse it.
 */
export function toAnthropicMessages(
  items: readonly SessionItem[],
  conversion: MessageConversion,
): AnthropicMessage[] {
  const messages: AnthropicMessage[] = [];
  const push = (role: "user" | "assistant", content: Block[]) => {
    if (content.length === 0) return;
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content: [...content] });
  };
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    switch (item.kind) {
      case "user":
        push("user", [
          ...textBlocks(item.text),
          ...(item.attachments ?? []).flatMap(attachmentBlocks),
        ]);
        break;
      case "assistant":
        push("assistant", textBlocks(item.text));
        break;
      case "reasoning": {
        if (item.provider !== ANTHROPIC_STATE || !item.state) break;
        const state = item.state;
        if (state.type === "thinking" && typeof state.signature === "string" && state.signature) {
          push("assistant", [{
            type: "thinking",
            thinking: item.text,
            signature: state.signature,
          }]);
        } else if (state.type === "redacted_thinking" && typeof state.data === "string") {
          push("assistant", [{ type: "redacted_thinking", data: state.data }]);
        } else if (state.type === "block" && state.block && typeof state.block === "object") {
          push("assistant", [state.block as Block]);
        }
        break;
      }
      case "tool_call":
      case "tool_result": {
        // A run of calls and results (the loop appends call, result, call, result for parallel
        // calls): all tool_use blocks go in one assistant message, all results in the next.
        const calls: ToolCallItem[] = [];
        const results = new Map<string, ToolResultItem>();
        const orphans: ToolResultItem[] = [];
        let j = i;
        for (; j < items.length; j++) {
          const next = items[j];
          if (next.kind === "tool_call") calls.push(next);
          else if (next.kind === "tool_result") {
            if (calls.some((call) => call.callId === next.callId)) results.set(next.callId, next);
            else orphans.push(next);
          } else break;
        }
        i = j - 1;
        push(
          "assistant",
          calls.map((call) => ({
            type: "tool_use",
            id: call.callId,
            name: conversion.toolName(call.toolkit, call.tool),
            input: toolInput(call.arguments),
          })),
        );
        push(
          "user",
          calls.map((call) => {
            const result = results.get(call.callId);
            if (!result) {
              return {
                type: "tool_result",
                tool_use_id: call.callId,
                content: [{ type: "text", text: "error: the call did not finish" }],
                is_error: true,
              };
            }
            const content = conversion.toolResultContent(result.output);
            return {
              type: "tool_result",
              tool_use_id: call.callId,
              ...(content.length > 0 ? { content } : {}),
              ...(result.isError ? { is_error: true } : {}),
            };
          }),
        );
        // A result whose call is not in the context (a truncated history) is kept as text.
        for (const orphan of orphans) {
          const text = orphan.output.map((p) => p.type === "text" ? p.text : `[${p.type}]`);
          push("user", textBlocks(`tool result ${orphan.callId}: ${text.join("\n")}`));
        }
        break;
      }
    }
  }
  return messages;
}
