import { ProtocolError } from "./errors.ts";
import { type JsonObject, packMessage, unpackMessage } from "./packing.ts";

const EMPTY = new Uint8Array(0);

/** The content type names of the wire protocol. */
export type ContentType =
  | "json"
  | "text"
  | "file"
  | "binary"
  | "link"
  | "empty"
  | "error"
  | "control";

/**
 * The common shape of every content envelope: a wire `type`, a JSON header and a payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BaseContent, TextContent } from "@meshagent/api";
 * assert(new TextContent("x") instanceof BaseContent);
 * ```
 */
export abstract class BaseContent {
  /** The wire `type` of this content. */
  abstract readonly type: ContentType;

  /** The JSON header of the envelope, `type` included. */
  abstract toJson(): JsonObject;

  /** The payload bytes (only `file` and `binary` carry any). */
  get payload(): Uint8Array {
    return EMPTY;
  }

  /** Packs the envelope into bytes (header + payload). */
  pack(): Uint8Array {
    return packMessage(this.toJson(), this.payload);
  }
}

/**
 * A JSON value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JsonContent, unpackContent } from "@meshagent/api";
 * const c = unpackContent(new JsonContent({ a: 1 }).pack());
 * assert(c instanceof JsonContent && (c.json as { a: number }).a === 1);
 * ```
 */
export class JsonContent extends BaseContent {
  /** Always `"json"`. */
  readonly type = "json" as const;
  /** The JSON value. */
  readonly json: unknown;

  /**
   * Creates the value.
   * @param json The JSON value (an object in practice).
   */
  constructor(json: unknown) {
    super();
    this.json = json;
  }

  /** The JSON header. */
  toJson(): JsonObject {
    return { type: "json", json: this.json };
  }
}

/**
 * A string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TextContent } from "@meshagent/api";
 * assert(new TextContent("hi").toJson().text === "hi");
 * ```
 */
export class TextContent extends BaseContent {
  /** Always `"text"`. */
  readonly type = "text" as const;
  /** The text. */
  readonly text: string;

  /**
   * Creates the value.
   * @param text The text.
   */
  constructor(text: string) {
    super();
    this.text = text;
  }

  /** The JSON header. */
  toJson(): JsonObject {
    return { type: "text", text: this.text };
  }
}

/**
 * A named file with a MIME type; the bytes travel as the payload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileContent } from "@meshagent/api";
 * const f = new FileContent(new TextEncoder().encode("hello"), "hello.txt", "text/plain");
 * assert(f.payload.length === 5);
 * ```
 */
export class FileContent extends BaseContent {
  /** Always `"file"`. */
  readonly type = "file" as const;
  /** The file bytes. */
  readonly data: Uint8Array;
  /** The file name. */
  readonly name: string;
  /** The MIME type. */
  readonly mimeType: string;

  /**
   * Creates the value.
   *
   * @param data The file bytes.
   * @param name The file name.
   * @param mimeType The MIME type.
   */
  constructor(data: Uint8Array, name: string, mimeType: string) {
    super();
    this.data = data;
    this.name = name;
    this.mimeType = mimeType;
  }

  /** The file bytes. */
  override get payload(): Uint8Array {
    return this.data;
  }

  /** The JSON header. */
  toJson(): JsonObject {
    return { type: "file", name: this.name, mime_type: this.mimeType };
  }
}

/**
 * Bytes with free-form JSON headers; `headers.kind` often names a sub-type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BinaryContent } from "@meshagent/api";
 * const b = new BinaryContent(new Uint8Array([1]), { kind: "data" });
 * assert((b.toJson().headers as { kind: string }).kind === "data");
 * ```
 */
export class BinaryContent extends BaseContent {
  /** Always `"binary"`. */
  readonly type = "binary" as const;
  /** The bytes. */
  readonly data: Uint8Array;
  /** Free-form metadata. */
  readonly headers: JsonObject;

  /**
   * Creates the value.
   *
   * @param data The bytes.
   * @param headers Free-form metadata (default `{}`).
   */
  constructor(data: Uint8Array, headers: JsonObject = {}) {
    super();
    this.data = data;
    this.headers = headers;
  }

  /** The bytes. */
  override get payload(): Uint8Array {
    return this.data;
  }

  /** The JSON header. */
  toJson(): JsonObject {
    return { type: "binary", headers: this.headers };
  }
}

/**
 * A named link.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinkContent } from "@meshagent/api";
 * assert(new LinkContent("docs", "https://example.com").toJson().url === "https://example.com");
 * ```
 */
export class LinkContent extends BaseContent {
  /** Always `"link"`. */
  readonly type = "link" as const;
  /** The link's name. */
  readonly name: string;
  /** The URL. */
  readonly url: string;

  /**
   * Creates the value.
   *
   * @param name The link's name.
   * @param url The URL.
   */
  constructor(name: string, url: string) {
    super();
    this.name = name;
    this.url = url;
  }

  /** The JSON header. */
  toJson(): JsonObject {
    return { type: "link", name: this.name, url: this.url };
  }
}

/**
 * No value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EmptyContent } from "@meshagent/api";
 * assert(new EmptyContent().toJson().type === "empty");
 * ```
 */
export class EmptyContent extends BaseContent {
  /** Always `"empty"`. */
  readonly type = "empty" as const;

  /** The JSON header. */
  toJson(): JsonObject {
    return { type: "empty" };
  }
}

/**
 * An error with a message and an optional wire error code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorContent } from "@meshagent/api";
 * const e = new ErrorContent("the participant was not found", 1003);
 * assert(e.toJson().code === 1003);
 * ```
 */
export class ErrorContent extends BaseContent {
  /** Always `"error"`. */
  readonly type = "error" as const;
  /** The message. */
  readonly text: string;
  /** The wire error code, if any. */
  readonly code?: number;

  /**
   * Creates the value.
   *
   * @param text The message.
   * @param code The wire error code.
   */
  constructor(text: string, code?: number) {
    super();
    this.text = text;
    if (code !== undefined) this.code = code;
  }

  /** The JSON header. */
  toJson(): JsonObject {
    return this.code === undefined
      ? { type: "error", text: this.text }
      : { type: "error", text: this.text, code: this.code };
  }
}

/** Status codes of a `control` close. */
export const ControlCloseStatus = {
  /** The stream ended normally. */
  NORMAL: 1000,
  /** The stream ended because its input was invalid. */
  INVALID_DATA: 1007,
  /** The stream ended because of an internal failure (for example the host left). */
  INTERNAL_ERROR: 1011,
} as const;

/**
 * Opens or closes a stream of contents.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ControlContent } from "@meshagent/api";
 * const close = ControlContent.close(1007, "bad input");
 * assert(close.toJson().status_code === 1007);
 * ```
 */
export class ControlContent extends BaseContent {
  /** Always `"control"`. */
  readonly type = "control" as const;
  /** `open` or `close`. */
  readonly method: "open" | "close";
  /** The close status (1000 = normal). */
  readonly statusCode: number;
  /** An optional message that explains an abnormal close. */
  readonly message?: string;

  /**
   * Creates the value.
   *
   * @param method `open` or `close`.
   * @param statusCode The close status (default 1000).
   * @param message An optional explanation.
   */
  constructor(method: "open" | "close", statusCode: number = 1000, message?: string) {
    super();
    this.method = method;
    this.statusCode = statusCode;
    if (message !== undefined) this.message = message;
  }

  /** A `control` open. */
  static open(): ControlContent {
    return new ControlContent("open");
  }

  /**
   * A `control` close.
   *
   * @param statusCode The close status (default 1000).
   * @param message An optional explanation.
   */
  static close(statusCode: number = 1000, message?: string): ControlContent {
    return new ControlContent("close", statusCode, message);
  }

  /** True for a close with a status other than 1000. */
  get abnormal(): boolean {
    return this.method === "close" && this.statusCode !== 1000;
  }

  /** The JSON header. */
  toJson(): JsonObject {
    if (this.method === "open") return { type: "control", method: "open" };
    const out: JsonObject = { type: "control", method: "close", status_code: this.statusCode };
    if (this.message !== undefined) out.message = this.message;
    return out;
  }
}

/** Any content envelope of the wire protocol. */
export type Content =
  | JsonContent
  | TextContent
  | FileContent
  | BinaryContent
  | LinkContent
  | EmptyContent
  | ErrorContent
  | ControlContent;

function requireString(header: JsonObject, key: string, type: string): string {
  const value = header[key];
  if (typeof value !== "string") {
    throw new ProtocolError(`${type} content is missing required field '${key}'`);
  }
  return value;
}

/**
 * A wire code or status: an integer, or integer text (as the clients send). [impl] Only safe
 * integers count; a bigger one (`"999…9"` is Infinity as a number) is treated as absent, so a
 * decoded content always packs back to itself (found by fuzzing, server/_fuzz_targets.ts).
 */
function parseCode(value: unknown): number | undefined {
  const n = typeof value === "number"
    ? value
    : typeof value === "string" && /^-?\d+$/.test(value.trim())
    ? Number(value.trim())
    : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Builds a content from its JSON header and payload.
 *
 * @param header The envelope header (with `type`).
 * @param payload The payload bytes.
 * @returns The content.
 * @throws {ProtocolError} On an unknown type or a missing required field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentFromJson, TextContent } from "@meshagent/api";
 * const c = contentFromJson({ type: "text", text: "hi" });
 * assert(c instanceof TextContent);
 * ```
 */
export function contentFromJson(header: JsonObject, payload: Uint8Array = EMPTY): Content {
  const type = header.type;
  switch (type) {
    case "json":
      if (!("json" in header)) {
        throw new ProtocolError("json content is missing required field 'json'");
      }
      return new JsonContent(header.json);
    case "text":
      return new TextContent(requireString(header, "text", "text"));
    case "file":
      return new FileContent(
        payload,
        requireString(header, "name", "file"),
        typeof header.mime_type === "string" ? header.mime_type : "application/octet-stream",
      );
    case "binary": {
      const h = header.headers;
      const headers = h !== null && typeof h === "object" && !Array.isArray(h)
        ? h as JsonObject
        : {};
      return new BinaryContent(payload, headers);
    }
    case "link":
      return new LinkContent(
        requireString(header, "name", "link"),
        requireString(header, "url", "link"),
      );
    case "empty":
      return new EmptyContent();
    case "error": {
      const text = typeof header.text === "string" ? header.text : "unknown error";
      return new ErrorContent(text, parseCode(header.code));
    }
    case "control": {
      const method = header.method;
      if (method !== "open" && method !== "close") {
        throw new ProtocolError("control content needs method 'open' or 'close'");
      }
      const status = parseCode(header.status_code) ?? 1000;
      const message = typeof header.message === "string" ? header.message : undefined;
      return new ControlContent(method, status, message);
    }
    default:
      throw new ProtocolError(`unsupported content type: ${JSON.stringify(type)}`);
  }
}

/**
 * Unpacks a content envelope from packed bytes.
 *
 * @param data The packed bytes.
 * @returns The content.
 * @throws {ProtocolError} On malformed bytes, an unknown type or a missing field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EmptyContent, unpackContent } from "@meshagent/api";
 * assert(unpackContent(new EmptyContent().pack()) instanceof EmptyContent);
 * ```
 */
export function unpackContent(data: Uint8Array): Content {
  // The answer to most requests: skip decoding and parsing it.
  if (data.length === PACKED_EMPTY.length && sameBytes(data, PACKED_EMPTY)) {
    return new EmptyContent();
  }
  const { header, payload } = unpackMessage(data);
  return contentFromJson(header, payload);
}

const PACKED_EMPTY = packMessage({ type: "empty" });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Packs a content envelope into bytes.
 *
 * @param content The content.
 * @returns The packed bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packContent, TextContent, unpackContent } from "@meshagent/api";
 * const back = unpackContent(packContent(new TextContent("x")));
 * assert(back instanceof TextContent && back.text === "x");
 * ```
 */
export function packContent(content: Content): Uint8Array {
  return content.pack();
}

/**
 * Decodes a streamed chunk header as the clients do: an object with a known content `type` becomes
 * that content; anything else (tool events from Python hosts, for example) becomes a
 * {@linkcode JsonContent} of the raw value.
 *
 * @param chunk The `chunk` value of a tool-call chunk message.
 * @param payload The chunk's payload bytes.
 * @returns The content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkContent, JsonContent } from "@meshagent/api";
 * assert(chunkContent({ kind: "progress" }) instanceof JsonContent);
 * ```
 */
export function chunkContent(chunk: unknown, payload: Uint8Array = EMPTY): Content {
  if (chunk !== null && typeof chunk === "object" && !Array.isArray(chunk)) {
    const type = (chunk as JsonObject).type;
    if (typeof type === "string" && CONTENT_TYPES.has(type)) {
      return contentFromJson(chunk as JsonObject, payload);
    }
  }
  return new JsonContent(chunk);
}

const CONTENT_TYPES: ReadonlySet<string> = new Set([
  "json",
  "text",
  "file",
  "binary",
  "link",
  "empty",
  "error",
  "control",
]);
