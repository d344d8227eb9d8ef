import {
  BinaryContent,
  type Content,
  EmptyContent,
  ErrorContent,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
} from "@meshagent/api";
import type { ToolOutputPart } from "./agent_session_context.ts";

/** Options of a {@linkcode ToolResponseAdapter}. */
export interface ToolResponseAdapterOptions {
  /** Most bytes (UTF-8) of text shown to the model per tool result (default 50 KiB). */
  maxToolCallLength?: number;
  /** Most lines of text shown to the model per tool result (default 2000). */
  maxToolCallLines?: number;
}

/** The official default limits (adapter.py). */
export const DEFAULT_MAX_TOOL_CALL_LENGTH = 50 * 1024;
/** The official default line limit. */
export const DEFAULT_MAX_TOOL_CALL_LINES = 2000;

const TEXT_MIME =
  /^(text\/|application\/(json|xml|javascript|x-yaml|yaml|toml|csv)\b)|\+(json|xml)$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Turns what a tool returned into what a model is shown: {@linkcode toPlainText} for providers
 * that take text only, {@linkcode toParts} for those that also take images and files. Text and
 * JSON are cut to `maxToolCallLength` bytes and `maxToolCallLines` lines, with the official notice
 * appended. Provider adapters may subclass it to shape their own results.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonContent, TextContent } from "@meshagent/api";
 * import { ToolResponseAdapter } from "@meshagent/agents";
 * const adapter = new ToolResponseAdapter({ maxToolCallLines: 2 });
 * assert.equal(adapter.toPlainText(new JsonContent({ a: 1 })), '{"a":1}');
 * assert.match(adapter.toPlainText(new TextContent("1\n2\n3")), /^1\n2\n\nThe tool call returned too much data/);
 * ```
 */
export class ToolResponseAdapter {
  /** Most bytes of text per result. */
  readonly maxToolCallLength: number;
  /** Most lines of text per result. */
  readonly maxToolCallLines: number;

  /**
   * Creates the value.
   *
   * @param options The limits.
   */
  constructor(options: ToolResponseAdapterOptions = {}) {
    this.maxToolCallLength = options.maxToolCallLength ?? DEFAULT_MAX_TOOL_CALL_LENGTH;
    this.maxToolCallLines = options.maxToolCallLines ?? DEFAULT_MAX_TOOL_CALL_LINES;
  }

  /**
   * Cuts `text` to the limits and appends the official notice when it was cut.
   *
   * @param text The text.
   * @returns The text, or its head plus the notice.
   */
  truncate(text: string): string {
    let cut = false;
    let lines = text.split("\n");
    if (lines.length > this.maxToolCallLines) {
      lines = lines.slice(0, this.maxToolCallLines);
      cut = true;
    }
    let head = lines.join("\n");
    const bytes = encoder.encode(head);
    if (bytes.length > this.maxToolCallLength) {
      // Cut on a character boundary: drop a trailing partial UTF-8 sequence.
      let end = this.maxToolCallLength;
      while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
      head = decoder.decode(bytes.subarray(0, end));
      cut = true;
    }
    if (!cut) return text;
    return `${head}\n\nThe tool call returned too much data and was truncated. Showing at most ` +
      `${this.maxToolCallLines} lines and ${this.maxToolCallLength} bytes.`;
  }

  /**
   * The result as text (files that are text are decoded; others are described).
   *
   * @param content What the tool returned.
   * @returns The text the model is shown.
   */
  toPlainText(content: Content): string {
    if (content instanceof TextContent) return this.truncate(content.text);
    if (content instanceof JsonContent) return this.truncate(JSON.stringify(content.json));
    if (content instanceof EmptyContent) return "ok";
    if (content instanceof ErrorContent) return this.truncate(`error: ${content.text}`);
    if (content instanceof LinkContent) return `${content.name}: ${content.url}`;
    if (content instanceof FileContent) {
      if (TEXT_MIME.test(content.mimeType)) {
        return this.truncate(decoder.decode(content.data));
      }
      return `[file ${content.name} (${content.mimeType}, ${content.data.length} bytes)]`;
    }
    if (content instanceof BinaryContent) return `[${content.data.length} bytes of binary data]`;
    return this.truncate(JSON.stringify(content.toJson()));
  }

  /**
   * The result as parts: images and non-text files inline, everything else as text.
   *
   * @param content What the tool returned.
   * @returns The parts.
   */
  toParts(content: Content): ToolOutputPart[] {
    if (content instanceof FileContent && !TEXT_MIME.test(content.mimeType)) {
      const data = base64(content.data);
      return content.mimeType.startsWith("image/")
        ? [{ type: "image", mimeType: content.mimeType, data }]
        : [{ type: "file", mimeType: content.mimeType, name: content.name, data }];
    }
    return [{ type: "text", text: this.toPlainText(content) }];
  }
}

/**
 * The text of tool output parts, with images and files as placeholders (for providers that take
 * text only).
 *
 * @param parts The parts.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partsToText } from "@meshagent/agents";
 * assert.equal(partsToText([{ type: "text", text: "a" }, { type: "image", mimeType: "image/png", data: "" }]), "a\n[image image/png]");
 * ```
 */
export function partsToText(parts: readonly ToolOutputPart[]): string {
  return parts.map((part) =>
    part.type === "text"
      ? part.text
      : part.type === "image"
      ? `[image ${part.mimeType}]`
      : `[file ${part.name} (${part.mimeType})]`
  ).join("\n");
}
