import { ErrorCode, type JsonObject } from "@meshagent/api";
import { ToolError } from "./tool_error.ts";

/**
 * The content kinds a tool may accept or return (the `types` of a `ToolContentSpec`).
 *
 * Note: the official npm client 0.39.9 only knows `json`, `text`, `file`, `link` and `empty`; its
 * `ToolContentSpec.fromJson` throws on `binary`, so a tool that lists `binary` cannot be listed
 * by that client.
 */
export type ToolContentType = "json" | "text" | "file" | "binary" | "link" | "empty";

/** Every {@linkcode ToolContentType}, in wire order. */
export const TOOL_CONTENT_TYPES: readonly ToolContentType[] = [
  "json",
  "text",
  "file",
  "binary",
  "link",
  "empty",
];

/** The fields of a {@linkcode ToolContentSpec}. */
export interface ToolContentSpecInit {
  /** The accepted (or returned) content kinds; at least one. */
  types: readonly ToolContentType[];
  /** True when the value is a stream of contents rather than one content (default false). */
  stream?: boolean;
  /** The JSON Schema that `json` contents must match. */
  schema?: JsonObject;
}

/** The wire shape of a {@linkcode ToolContentSpec}: `{"types": [...], "stream": bool, "schema"?: {...}}`. */
export type ToolContentSpecJson = {
  /** The content kinds. */
  types: ToolContentType[];
  /** Streamed or single. */
  stream: boolean;
  /** The JSON Schema of `json` contents. */
  schema?: JsonObject;
};

function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function checkTypes(types: unknown): ToolContentType[] {
  if (!Array.isArray(types) || types.length === 0) {
    throw new ToolError(
      "ToolContentSpec.types must be a non-empty array of " + TOOL_CONTENT_TYPES.join(", "),
      ErrorCode.INVALID_REQUEST,
    );
  }
  for (const type of types) {
    if (!TOOL_CONTENT_TYPES.includes(type as ToolContentType)) {
      throw new ToolError(
        `unsupported tool content type ${JSON.stringify(type)}; use one of ` +
          TOOL_CONTENT_TYPES.join(", "),
        ErrorCode.INVALID_REQUEST,
      );
    }
  }
  return [...new Set(types as ToolContentType[])];
}

/**
 * Describes what a tool accepts (`input_spec`) or returns (`output_spec`): the content kinds,
 * whether the value is streamed, and the JSON Schema of `json` contents.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ToolContentSpec } from "@meshagent/tools";
 * const spec = new ToolContentSpec({ types: ["json"], schema: { type: "object" } });
 * assert(JSON.stringify(spec.toJson()) === '{"types":["json"],"stream":false,"schema":{"type":"object"}}');
 * ```
 */
export class ToolContentSpec {
  /** The content kinds. */
  readonly types: readonly ToolContentType[];
  /** True for a stream of contents. */
  readonly stream: boolean;
  /** The JSON Schema of `json` contents, if any. */
  readonly schema?: JsonObject;

  /**
   * Creates the value.
   *
   * @param init The kinds, the stream flag and the schema.
   * @throws {ToolError} (code 1002) When `types` is empty or names an unknown kind, or the schema
   * is not an object.
   */
  constructor(init: ToolContentSpecInit) {
    this.types = checkTypes(init.types);
    this.stream = init.stream ?? false;
    if (init.schema !== undefined) {
      if (!isPlainObject(init.schema)) {
        throw new ToolError(
          "ToolContentSpec.schema must be a JSON object",
          ErrorCode.INVALID_REQUEST,
        );
      }
      this.schema = init.schema;
    }
  }

  /**
   * A single `json` content (the spec of every function tool's input).
   *
   * @param schema The JSON Schema of the value.
   * @returns `{"types":["json"],"stream":false,"schema":…}`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ToolContentSpec } from "@meshagent/tools";
   * assert(ToolContentSpec.json({ type: "object" }).types[0] === "json");
   * ```
   */
  static json(schema?: JsonObject): ToolContentSpec {
    return new ToolContentSpec(
      schema === undefined ? { types: ["json"] } : {
        types: ["json"],
        schema,
      },
    );
  }

  /**
   * Whether a content of this wire type fits the spec. An `empty` content fits a spec that lists
   * `json` (it stands for "no arguments", the JSON object `{}`).
   *
   * @param type A content `type`.
   * @returns True when it fits.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ToolContentSpec } from "@meshagent/tools";
   * const spec = ToolContentSpec.json();
   * assert(spec.accepts("empty") && !spec.accepts("text"));
   * ```
   */
  accepts(type: string): boolean {
    if (this.types.includes(type as ToolContentType)) return true;
    return type === "empty" && this.types.includes("json");
  }

  /**
   * The wire shape; `schema` is left out when there is none.
   *
   * @returns `{"types": [...], "stream": bool, "schema"?: {...}}`.
   */
  toJson(): ToolContentSpecJson {
    const out: ToolContentSpecJson = { types: [...this.types], stream: this.stream };
    if (this.schema !== undefined) out.schema = this.schema;
    return out;
  }

  /**
   * Reads a spec from its wire shape.
   *
   * @param value The `input_spec` / `output_spec` value.
   * @returns The spec, or `null` for `null` / `undefined`.
   * @throws {ToolError} (code 1002) When the value is not a valid spec.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ToolContentSpec } from "@meshagent/tools";
   * const spec = ToolContentSpec.fromJson({ types: ["text"], stream: true });
   * assert(spec !== null && spec.stream);
   * assert(ToolContentSpec.fromJson(null) === null);
   * ```
   */
  static fromJson(value: unknown): ToolContentSpec | null {
    if (value === null || value === undefined) return null;
    if (!isPlainObject(value)) {
      throw new ToolError("a ToolContentSpec must be a JSON object", ErrorCode.INVALID_REQUEST);
    }
    const schema = value.schema;
    if (schema !== undefined && schema !== null && !isPlainObject(schema)) {
      throw new ToolError(
        "ToolContentSpec.schema must be a JSON object",
        ErrorCode.INVALID_REQUEST,
      );
    }
    return new ToolContentSpec({
      types: checkTypes(value.types),
      stream: value.stream === true,
      ...(isPlainObject(schema) ? { schema } : {}),
    });
  }
}
