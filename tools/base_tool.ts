import { ErrorCode, type JsonObject } from "@meshagent/api";
import { ToolContentSpec, type ToolContentSpecInit } from "./tool_content_spec.ts";
import { ToolError } from "./tool_error.ts";

/** The metadata of a tool. */
export interface BaseToolOptions {
  /** The tool name: the `tool` of `room.invoke_tool` and the key in the toolkit's `tools` map. */
  name: string;
  /** A human-readable title (default: the name). */
  title?: string;
  /** What the tool does, for people and models (default `""`). */
  description?: string;
  /** Extra instructions for a model that uses the tool. Local only: not sent on the wire. */
  rules?: readonly string[];
  /**
   * The JSON Schema of a single `json` input. Shorthand for
   * `inputSpec: { types: ["json"], stream: false, schema }`; with `inputSpec`, it replaces the
   * spec's schema.
   */
  inputSchema?: JsonObject;
  /** What the tool accepts (content kinds, streamed or not, schema). */
  inputSpec?: ToolContentSpec | ToolContentSpecInit;
  /** The JSON Schema of a single `json` output; the output counterpart of `inputSchema`. */
  outputSchema?: JsonObject;
  /** What the tool returns. */
  outputSpec?: ToolContentSpec | ToolContentSpecInit;
  /** Shared JSON Schema definitions, reachable from both schemas as `#/$defs/<name>`. */
  defs?: JsonObject | null;
  /**
   * Whether the input schema follows the strict rules of model providers (every property
   * required, no additional properties). Sent as `strict`; `null`/absent means unspecified.
   */
  strict?: boolean | null;
  /** An image URL for UIs (sent as `thumbnail_url`). */
  thumbnailUrl?: string;
  /** Free-form string annotations (local only, e.g. for adapters). */
  annotations?: Readonly<Record<string, string>>;
}

/**
 * The wire shape of one tool in `room.register_toolkit` and `room.list_toolkits` (a `ToolDesc`).
 * `thumbnail_url` is present only when set.
 */
export type ToolDescriptionJson = {
  /** The title. */
  title: string;
  /** The description. */
  description: string;
  /** What the tool accepts, or null. */
  input_spec: JsonObject | null;
  /** What the tool returns, or null. */
  output_spec: JsonObject | null;
  /** Shared schema definitions, or null. */
  defs: JsonObject | null;
  /** Whether the input schema is strict, or null when unspecified. */
  strict: boolean | null;
  /** An image URL for UIs. */
  thumbnail_url?: string;
};

function makeSpec(
  spec: ToolContentSpec | ToolContentSpecInit | undefined,
  schema: JsonObject | undefined,
): ToolContentSpec | null {
  if (spec === undefined) return schema === undefined ? null : ToolContentSpec.json(schema);
  if (schema === undefined) {
    return spec instanceof ToolContentSpec ? spec : new ToolContentSpec(spec);
  }
  return new ToolContentSpec({ types: spec.types, stream: spec.stream ?? false, schema });
}

/**
 * The metadata every tool has, and its wire description ({@linkcode BaseTool.toJson}). Subclass
 * {@linkcode Tool} (or use {@linkcode FunctionTool}) to make a tool that runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BaseTool } from "@meshagent/tools";
 * class Described extends BaseTool {}
 * const tool = new Described({ name: "add", inputSchema: { type: "object" } });
 * assert(tool.title === "add");
 * assert(JSON.stringify(tool.toJson().input_spec) === '{"types":["json"],"stream":false,"schema":{"type":"object"}}');
 * ```
 */
export abstract class BaseTool {
  /** The tool name. */
  readonly name: string;
  /** The title. */
  readonly title: string;
  /** The description. */
  readonly description: string;
  /** Extra instructions for a model (local only). */
  readonly rules: readonly string[];
  /** What the tool accepts, or null when it accepts anything. */
  readonly inputSpec: ToolContentSpec | null;
  /** What the tool returns, or null when it may return anything. */
  readonly outputSpec: ToolContentSpec | null;
  /** Shared JSON Schema definitions, or null. */
  readonly defs: JsonObject | null;
  /** Whether the input schema is strict, or null when unspecified. */
  readonly strict: boolean | null;
  /** An image URL for UIs. */
  readonly thumbnailUrl?: string;
  /** Free-form string annotations (local only). */
  readonly annotations: Readonly<Record<string, string>>;

  /**
   * Creates the value.
   *
   * @param options The metadata.
   * @throws {ToolError} (code 1002) When the name is empty or a spec is invalid.
   */
  constructor(options: BaseToolOptions) {
    if (typeof options.name !== "string" || options.name.trim() === "") {
      throw new ToolError("a tool needs a non-empty name", ErrorCode.INVALID_REQUEST);
    }
    this.name = options.name;
    this.title = options.title ?? options.name;
    this.description = options.description ?? "";
    this.rules = [...(options.rules ?? [])];
    this.inputSpec = makeSpec(options.inputSpec, options.inputSchema);
    this.outputSpec = makeSpec(options.outputSpec, options.outputSchema);
    this.defs = options.defs ?? null;
    this.strict = options.strict ?? null;
    if (options.thumbnailUrl !== undefined) this.thumbnailUrl = options.thumbnailUrl;
    this.annotations = { ...options.annotations };
  }

  /** The input JSON Schema (the input spec's schema), if any. */
  get inputSchema(): JsonObject | undefined {
    return this.inputSpec?.schema;
  }

  /** The output JSON Schema (the output spec's schema), if any. */
  get outputSchema(): JsonObject | undefined {
    return this.outputSpec?.schema;
  }

  /**
   * The wire description of the tool (`ToolDesc`, protocol §7.1).
   *
   * @returns `{title, description, input_spec, output_spec, defs, strict}` plus `thumbnail_url`
   * when set.
   */
  toJson(): ToolDescriptionJson {
    const out: ToolDescriptionJson = {
      title: this.title,
      description: this.description,
      input_spec: this.inputSpec?.toJson() ?? null,
      output_spec: this.outputSpec?.toJson() ?? null,
      defs: this.defs,
      strict: this.strict,
    };
    if (this.thumbnailUrl !== undefined) out.thumbnail_url = this.thumbnailUrl;
    return out;
  }
}
