import {
  BaseContent,
  BinaryContent,
  type Content,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  FileContent,
  JsonContent,
  RoomError,
  TextContent,
} from "@meshagent/api";
import { ToolError } from "./tool_error.ts";

export {
  BaseContent,
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorContent,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
} from "@meshagent/api";

/**
 * The seed's name for {@linkcode TextContent}: a text chunk of a tool's input or output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TextChunk, TextContent } from "@meshagent/tools";
 * assert(new TextChunk("hi") instanceof TextContent);
 * ```
 */
export const TextChunk: typeof TextContent = TextContent;
/** The seed's name for {@linkcode TextContent}. */
export type TextChunk = TextContent;

/**
 * The seed's name for {@linkcode JsonContent}: a JSON chunk of a tool's input or output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonChunk, JsonContent } from "@meshagent/tools";
 * assert(new JsonChunk({ a: 1 }) instanceof JsonContent);
 * ```
 */
export const JsonChunk: typeof JsonContent = JsonContent;
/** The seed's name for {@linkcode JsonContent}. */
export type JsonChunk = JsonContent;

/**
 * The seed's name for {@linkcode FileContent}: a named file with a MIME type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileChunk, FileContent } from "@meshagent/tools";
 * const f = new FileChunk(new Uint8Array([104, 105]), "hi.txt", "text/plain");
 * assert(f instanceof FileContent && f.name === "hi.txt");
 * ```
 */
export const FileChunk: typeof FileContent = FileContent;
/** The seed's name for {@linkcode FileContent}. */
export type FileChunk = FileContent;

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

/**
 * Turns what a tool returned into a content. The rules:
 *
 * | returned value | content |
 * |---|---|
 * | a content (`TextContent`, `JsonContent`, …) | itself |
 * | `undefined`, `null` | `EmptyContent` |
 * | a string | `TextContent` |
 * | a finite number, a boolean, an array, a plain object | `JsonContent` of the value after a JSON round trip (so a `Date` becomes its ISO string, exactly what the caller receives) |
 * | a `Uint8Array`, another typed array or `DataView`, an `ArrayBuffer` | `BinaryContent` with headers `{}` (return a `FileContent` yourself to give a name and a MIME type) |
 * | an `Error` | `ErrorContent` with its message (and the code of a `RoomError`/`ToolError`) |
 *
 * Anything else (a function, a symbol, a bigint, `NaN`, a value with cycles) is refused.
 *
 * @param value The returned value.
 * @returns The content.
 * @throws {ToolError} (code 1008) When the value cannot be sent as a content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureContent, EmptyContent, JsonContent, TextContent } from "@meshagent/tools";
 * assert(ensureContent("hi") instanceof TextContent);
 * assert(ensureContent({ sum: 5 }) instanceof JsonContent);
 * assert(ensureContent(undefined) instanceof EmptyContent);
 * ```
 */
export function ensureContent(value: unknown): Content {
  if (value instanceof BaseContent) return value as Content;
  if (value === undefined || value === null) return new EmptyContent();
  if (typeof value === "string") return new TextContent(value);
  if (value instanceof Uint8Array) return new BinaryContent(value);
  if (ArrayBuffer.isView(value)) {
    return new BinaryContent(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }
  if (value instanceof ArrayBuffer) return new BinaryContent(new Uint8Array(value));
  if (value instanceof Error) {
    const code = value instanceof RoomError ? value.code : undefined;
    return new ErrorContent(value.message || value.name, code);
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new ToolError(
      `a tool returned ${value}, which is not valid JSON; return a finite number`,
      ErrorCode.OPERATION_FAILED,
    );
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "object") {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      throw new ToolError(
        `a tool returned a ${describeType(value)} that cannot be converted to JSON: ` +
          (e instanceof Error ? e.message : String(e)),
        ErrorCode.OPERATION_FAILED,
      );
    }
    return new JsonContent(text === undefined ? null : JSON.parse(text));
  }
  throw new ToolError(
    `a tool returned a ${describeType(value)}, which cannot be sent as content; return a string, ` +
      "a JSON value, bytes, a content or nothing",
    ErrorCode.OPERATION_FAILED,
  );
}
