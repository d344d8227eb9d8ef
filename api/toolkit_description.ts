import type { JsonObject } from "./packing.ts";

/** What a tool takes or gives: content kinds, whether it streams, and a JSON schema. */
export interface ToolContentSpec {
  /** The accepted content kinds (`json`, `text`, `file`, `binary`, `link`, `empty`). */
  types: string[];
  /** True when the contents are streamed. */
  stream: boolean;
  /** A JSON schema for `json` contents. */
  schema?: JsonObject;
}

/** One tool of a toolkit, as listed by the room. */
export interface ToolDescription {
  /** The tool name (the key used to invoke it). */
  name: string;
  /** A display title. */
  title: string;
  /** What the tool does. */
  description: string;
  /** What it takes. */
  inputSpec?: ToolContentSpec;
  /** What it gives. */
  outputSpec?: ToolContentSpec;
  /** Shared JSON schema definitions. */
  defs?: JsonObject;
  /** Whether the schema is strict (Python hosts). */
  strict?: boolean;
  /** A thumbnail image URL. */
  thumbnailUrl?: string;
}

/** A toolkit registered in the room, as listed by `room.list_toolkits`. */
export interface ToolkitDescription {
  /** The toolkit name (the key used to invoke it). */
  name: string;
  /** A display title. */
  title: string;
  /** What the toolkit is for. */
  description: string;
  /** The participant hosting it, when the room said. */
  participantId?: string;
  /** Free-form string annotations. */
  annotations?: Record<string, string>;
  /** A thumbnail image URL. */
  thumbnailUrl?: string;
  /** The tools. */
  tools: ToolDescription[];
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

function parseSpec(value: unknown): ToolContentSpec | undefined {
  if (!isObject(value)) return undefined;
  const types = Array.isArray(value.types) ? value.types.filter((t) => typeof t === "string") : [];
  const spec: ToolContentSpec = { types, stream: value.stream === true };
  if (isObject(value.schema)) spec.schema = value.schema;
  return spec;
}

function parseTool(name: string, json: JsonObject): ToolDescription {
  const tool: ToolDescription = {
    name: str(json.name, name),
    title: str(json.title, name),
    description: str(json.description),
  };
  const input = parseSpec(json.input_spec) ??
    (isObject(json.input_schema)
      ? { types: ["json"], stream: false, schema: json.input_schema }
      : undefined);
  const output = parseSpec(json.output_spec) ??
    (isObject(json.output_schema)
      ? { types: ["json"], stream: false, schema: json.output_schema }
      : undefined);
  if (input) tool.inputSpec = input;
  if (output) tool.outputSpec = output;
  if (isObject(json.defs)) tool.defs = json.defs;
  if (typeof json.strict === "boolean") tool.strict = json.strict;
  if (typeof json.thumbnail_url === "string") tool.thumbnailUrl = json.thumbnail_url;
  return tool;
}

function entries(value: unknown): [string, JsonObject][] {
  if (Array.isArray(value)) {
    return value.filter(isObject).map((v) => [str(v.name), v]);
  }
  if (isObject(value)) {
    return Object.entries(value).filter((e): e is [string, JsonObject] => isObject(e[1]));
  }
  return [];
}

/**
 * Reads the `json` result of `room.list_toolkits` (`{tools: {<name>: {…}}}`; a list instead of a
 * map is accepted at both levels, as are the legacy `input_schema`/`output_schema` fields).
 *
 * @param json The `json` value of the response.
 * @returns The toolkits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseToolkitList } from "@meshagent/api";
 * const [kit] = parseToolkitList({
 *   tools: {
 *     math: {
 *       title: "Math",
 *       description: "",
 *       participant_id: "p-1",
 *       tools: { sum: { title: "Sum", description: "", input_spec: { types: ["json"], stream: false } } },
 *     },
 *   },
 * });
 * assert(kit.name === "math" && kit.tools[0].name === "sum" && kit.participantId === "p-1");
 * ```
 */
export function parseToolkitList(json: unknown): ToolkitDescription[] {
  const tools = isObject(json) ? json.tools : undefined;
  return entries(tools).map(([name, kit]) => {
    const out: ToolkitDescription = {
      name,
      title: str(kit.title, name),
      description: str(kit.description),
      tools: entries(kit.tools).map(([toolName, tool]) => parseTool(toolName, tool)),
    };
    if (typeof kit.participant_id === "string") out.participantId = kit.participant_id;
    if (typeof kit.thumbnail_url === "string") out.thumbnailUrl = kit.thumbnail_url;
    if (isObject(kit.annotations)) {
      const annotations: Record<string, string> = {};
      for (const [k, v] of Object.entries(kit.annotations)) {
        if (typeof v === "string") annotations[k] = v;
      }
      out.annotations = annotations;
    }
    return out;
  });
}
