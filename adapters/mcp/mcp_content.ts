import {
  type Content,
  EmptyContent,
  ErrorCode,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
  ToolError,
} from "@meshagent/tools";
import type { MCPCallResult, MCPContent } from "./mcp_connection.ts";

const EXTENSIONS: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/svg+xml": "svg",
  "image/bmp": "bmp",
  "image/tiff": "tiff",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/ogg": "ogg",
  "audio/webm": "webm",
  "audio/flac": "flac",
  "text/plain": "txt",
  "text/markdown": "md",
  "text/html": "html",
  "text/csv": "csv",
  "application/json": "json",
  "application/pdf": "pdf",
  "application/gzip": "gz",
  "application/zip": "zip",
};

function extensionOf(mimeType: string): string {
  const bare = mimeType.split(";")[0].trim().toLowerCase();
  return EXTENSIONS[bare] ?? "bin";
}

function decodeBase64(data: string, what: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(data.replace(/\s+/g, ""));
  } catch {
    throw new ToolError(
      `${what} is not valid base64; the MCP server sent a malformed result`,
      ErrorCode.OPERATION_FAILED,
    );
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function resourceName(uri: string, mimeType: string): string {
  let base = "";
  try {
    const path = new URL(uri).pathname;
    base = decodeURIComponent(path.slice(path.lastIndexOf("/") + 1));
  } catch {
    base = uri.slice(uri.lastIndexOf("/") + 1);
  }
  if (base === "") base = "resource";
  if (!base.includes(".")) {
    const ext = extensionOf(mimeType);
    if (ext !== "bin") base = `${base}.${ext}`;
  }
  return base;
}

/**
 * Turns one item of an MCP tool result into a content:
 *
 * | MCP item | content |
 * |---|---|
 * | `text` | `TextContent` |
 * | `image`, `audio` | `FileContent` of the base64-decoded bytes, with the item's MIME type, named `image.png`, `audio.wav`, … (`image_2.png` for the second item of a result, and so on) |
 * | `resource_link` | `LinkContent` (name: the link's title, else its name; url: its URI) |
 * | `resource` (embedded) | `FileContent` named after the last segment of the URI: a text resource as UTF-8 bytes (MIME type default `text/plain`), a blob resource base64-decoded (default `application/octet-stream`) |
 *
 * @param item The MCP content item.
 * @param index The item's position in the result (default 0), used to name files.
 * @returns The content.
 * @throws {ToolError} (code 1008) When base64 data does not decode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcpContentToContent } from "@meshagent/adapters/mcp";
 * import { FileContent, LinkContent, TextContent } from "@meshagent/tools";
 * assert(mcpContentToContent({ type: "text", text: "hi" }) instanceof TextContent);
 * const image = mcpContentToContent({ type: "image", data: "aGk=", mimeType: "image/png" });
 * assert(image instanceof FileContent && image.name === "image.png");
 * const link = mcpContentToContent({ type: "resource_link", uri: "file:///a.txt", name: "a" });
 * assert(link instanceof LinkContent && link.url === "file:///a.txt");
 * ```
 */
export function mcpContentToContent(item: MCPContent, index: number = 0): Content {
  const suffix = index === 0 ? "" : `_${index + 1}`;
  switch (item.type) {
    case "text":
      return new TextContent(item.text);
    case "image":
    case "audio":
      return new FileContent(
        decodeBase64(item.data, `the ${item.type} data`),
        `${item.type}${suffix}.${extensionOf(item.mimeType)}`,
        item.mimeType,
      );
    case "resource_link":
      return new LinkContent(item.title ?? item.name, item.uri);
    case "resource": {
      const { uri, text, blob } = item.resource;
      if (blob !== undefined) {
        const mimeType = item.resource.mimeType ?? "application/octet-stream";
        return new FileContent(
          decodeBase64(blob, `the blob of resource ${uri}`),
          resourceName(uri, mimeType),
          mimeType,
        );
      }
      const mimeType = item.resource.mimeType ?? "text/plain";
      return new FileContent(
        new TextEncoder().encode(text ?? ""),
        resourceName(uri, mimeType),
        mimeType,
      );
    }
  }
}

async function* contentStream(items: readonly Content[]): AsyncGenerator<Content> {
  for (const item of items) yield item;
}

/**
 * Turns an MCP tool result into what a MeshAgent tool returns:
 *
 * - `isError: true` → throws a {@linkcode ToolError} (code 1008) with the result's text items
 *   joined by newlines (or "MCP tool <name> failed" when there is no text);
 * - `structuredContent` → a `JsonContent` of it (the `content` items are then the text rendering
 *   of the same data, as MCP asks servers to send, and are left out);
 * - no items → an `EmptyContent`;
 * - one item → that item's content ({@linkcode mcpContentToContent});
 * - several items → a stream (an async iterable) of their contents, in order. A stream keeps
 *   every item with its kind (a caption, an image, a link…), where one JSON list would turn
 *   images into base64 text; a room host sends it as a streamed tool response.
 *
 * Every item is decoded before this returns, so malformed base64 fails the call, not the stream.
 *
 * @param result The MCP result.
 * @param toolName The tool name, for the error message.
 * @returns One content, or a stream of contents.
 * @throws {ToolError} For an error result or malformed base64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mcpResultToOutput } from "@meshagent/adapters/mcp";
 * import { JsonContent, ToolError } from "@meshagent/tools";
 * const out = mcpResultToOutput({ content: [], structuredContent: { sum: 3 }, isError: false }, "add");
 * assert(out instanceof JsonContent);
 * try {
 *   mcpResultToOutput({ content: [{ type: "text", text: "boom" }], isError: true }, "add");
 * } catch (e) {
 *   assert(e instanceof ToolError && e.message === "boom");
 * }
 * ```
 */
export function mcpResultToOutput(
  result: MCPCallResult,
  toolName: string,
): Content | AsyncIterable<Content> {
  if (result.isError) {
    const text = result.content
      .filter((item) => item.type === "text")
      .map((item) => item.text)
      .join("\n")
      .trim();
    throw new ToolError(text || `MCP tool ${toolName} failed`, ErrorCode.OPERATION_FAILED);
  }
  if (result.structuredContent !== undefined) return new JsonContent(result.structuredContent);
  if (result.content.length === 0) return new EmptyContent();
  const contents = result.content.map((item, i) => mcpContentToContent(item, i));
  if (contents.length === 1) return contents[0];
  return contentStream(contents);
}
