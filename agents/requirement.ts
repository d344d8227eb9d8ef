import { ErrorCode, type JsonObject, MeshSchema } from "@meshagent/api";
import { RequirementError } from "./requirement_error.ts";

/**
 * The JSON of a {@linkcode RequiredToolkit}, exactly as the Python SDK writes it (protocol-core
 * §7.7): every key present, `null` for "not set".
 */
export interface RequiredToolkitJson {
  /** The toolkit name. */
  toolkit: string;
  /** The tools the agent needs from it, or null for all of them. */
  tools: string[] | null;
  /** The `name` of the participant that must host it, or null for any host. */
  participant_name: string | null;
  /** Whether the agent calls the toolkit's tools, or null (unspecified). */
  callable: boolean | null;
}

/**
 * The JSON of a {@linkcode RequiredSchema}, exactly as the Python SDK writes it (protocol-core
 * §7.7): every key present, `null` for "not set".
 */
export interface RequiredSchemaJson {
  /** The schema name (its file in the room is `.schemas/<name>.json`). */
  schema: string;
  /** Whether the agent calls the schema's provider, or null (unspecified). */
  callable: boolean | null;
  /** The MeshSchema JSON to install, or null when it must already be in the room. */
  json: JsonObject | null;
}

/** The JSON of any {@linkcode Requirement}. */
export type RequirementJson = RequiredToolkitJson | RequiredSchemaJson;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function bad(message: string, name?: string): RequirementError {
  return new RequirementError(message, ErrorCode.INVALID_REQUEST, name);
}

function checkName(kind: string, name: unknown): string {
  if (typeof name !== "string" || name.trim() === "") {
    throw bad(`a ${kind} requirement needs a non-empty name, got ${JSON.stringify(name)}`);
  }
  return name;
}

function optionalBoolean(value: unknown, key: string, name: string): boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "boolean") {
    throw bad(`requirement ${name}: "${key}" must be a boolean or null`, name);
  }
  return value;
}

/**
 * Something an agent needs in its room before it can work: a toolkit another participant hosts
 * ({@linkcode RequiredToolkit}) or a document schema ({@linkcode RequiredSchema}). Agents list
 * them in `requires`; {@linkcode SingleRoomAgent} installs or waits for them when it starts.
 * The JSON is the one the official SDKs exchange in agent metadata.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequiredToolkit, Requirement } from "@meshagent/agents";
 * const r = Requirement.fromJson({ toolkit: "math-toolkit", tools: ["add"] });
 * assert(r instanceof RequiredToolkit && r.name === "math-toolkit");
 * ```
 */
export abstract class Requirement {
  /** The toolkit or schema name. */
  readonly name: string;
  /** Whether the agent calls it; null when unspecified. */
  readonly callable: boolean | null;

  /**
   * Creates the value.
   *
   * @param name The toolkit or schema name.
   * @param callable Whether the agent calls it (null: unspecified).
   */
  constructor(name: string, callable: boolean | null = null) {
    this.name = name;
    this.callable = callable;
  }

  /**
   * The requirement's JSON.
   *
   * @returns The JSON object, with every key of its kind present.
   */
  abstract toJson(): RequirementJson;

  /**
   * Parses requirement JSON as the Python or TypeScript SDK writes it: `{"toolkit", …}` is a
   * {@linkcode RequiredToolkit}, `{"schema", …}` a {@linkcode RequiredSchema}. Keys the
   * TypeScript SDK omits (`callable`, `json`) read as null.
   *
   * @param json The requirement JSON.
   * @returns The requirement.
   * @throws {RequirementError} (1002) For anything else, or a field of the wrong type.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RequiredSchema, Requirement } from "@meshagent/agents";
   * const r = Requirement.fromJson({ schema: "thread", callable: null, json: null });
   * assert(r instanceof RequiredSchema && r.json === null);
   * ```
   */
  static fromJson(json: unknown): Requirement {
    if (!isObject(json)) throw bad("requirement JSON must be an object");
    if ("toolkit" in json) return RequiredToolkit.fromJson(json);
    if ("schema" in json) return RequiredSchema.fromJson(json);
    if ("table" in json) {
      throw bad(
        `requirement for table ${JSON.stringify(json.table)}: RequiredTable is not supported ` +
          "by this SDK yet",
        typeof json.table === "string" ? json.table : undefined,
      );
    }
    throw bad(
      `invalid requirement JSON: expected a "toolkit" or "schema" key, got keys ` +
        `${Object.keys(json).join(", ") || "(none)"}`,
    );
  }
}

/** The fields of a {@linkcode RequiredToolkit}. */
export interface RequiredToolkitInit {
  /** The toolkit name. */
  name: string;
  /** The tools the agent needs from it (default: all of them). */
  tools?: readonly string[] | null;
  /** Only a toolkit hosted by the participant with this `name` (default: any host). */
  participantName?: string | null;
  /** Whether the agent calls the tools (default null: unspecified). */
  callable?: boolean | null;
}

/**
 * A toolkit the agent needs, hosted by another participant (or a built-in one). When the agent
 * starts, it waits until the toolkit is listed in the room — with the listed tools, and hosted
 * by `participantName` when given — and wraps it as a `RemoteToolkit`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequiredToolkit } from "@meshagent/agents";
 * const math = new RequiredToolkit({ name: "math-toolkit", tools: ["add"], participantName: "math-tools" });
 * assert(
 *   JSON.stringify(math.toJson()) ===
 *     '{"toolkit":"math-toolkit","tools":["add"],"participant_name":"math-tools","callable":null}',
 * );
 * ```
 */
export class RequiredToolkit extends Requirement {
  /** The tools needed, or null for all of them. */
  readonly tools: readonly string[] | null;
  /** The host's participant name, or null for any host. */
  readonly participantName: string | null;

  /**
   * Creates the value.
   *
   * @param init The toolkit name, tools, host and `callable`.
   * @throws {RequirementError} (1002) When the name is empty or a tool name is not a string.
   */
  constructor(init: RequiredToolkitInit) {
    const name = checkName("toolkit", init.name);
    super(name, init.callable ?? null);
    if (init.tools != null) {
      if (!Array.isArray(init.tools) || init.tools.some((t) => typeof t !== "string")) {
        throw bad(`required toolkit ${name}: "tools" must be a list of tool names or null`, name);
      }
      this.tools = Object.freeze([...init.tools]);
    } else {
      this.tools = null;
    }
    const host = init.participantName ?? null;
    if (host !== null && typeof host !== "string") {
      throw bad(`required toolkit ${name}: "participant_name" must be a string or null`, name);
    }
    this.participantName = host;
  }

  /**
   * The JSON, `{"toolkit", "tools", "participant_name", "callable"}`.
   *
   * @returns The JSON object.
   */
  toJson(): RequiredToolkitJson {
    return {
      toolkit: this.name,
      tools: this.tools === null ? null : [...this.tools],
      participant_name: this.participantName,
      callable: this.callable,
    };
  }

  /**
   * Parses `{"toolkit", "tools"?, "participant_name"?, "callable"?}`.
   *
   * @param json The JSON object.
   * @returns The requirement.
   * @throws {RequirementError} (1002) When a field has the wrong type.
   */
  static override fromJson(json: unknown): RequiredToolkit {
    if (!isObject(json)) throw bad("required toolkit JSON must be an object");
    const name = checkName("toolkit", json.toolkit);
    return new RequiredToolkit({
      name,
      tools: (json.tools ?? null) as string[] | null,
      participantName: (json.participant_name ?? null) as string | null,
      callable: optionalBoolean(json.callable, "callable", name),
    });
  }
}

/** The fields of a {@linkcode RequiredSchema}. */
export interface RequiredSchemaInit {
  /** The schema name; installed as `.schemas/<name>.json` in room storage. */
  name: string;
  /** The schema to install (a MeshSchema or its JSON); default: it must be in the room already. */
  json?: MeshSchema | JsonObject | null;
  /** Whether the agent calls the schema's provider (default null: unspecified). */
  callable?: boolean | null;
}

/**
 * A document schema the agent needs. With `json`, the agent writes it to room storage as
 * `.schemas/<name>.json` when it starts (replacing an older copy); without, the file must be
 * there already.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequiredSchema } from "@meshagent/agents";
 * const notes = new RequiredSchema({
 *   name: "notes",
 *   json: {
 *     $root_tag_ref: "#/$defs/notes",
 *     $defs: { notes: { type: "object", properties: { notes: { type: "object", properties: {} } } } },
 *   },
 * });
 * assert(notes.toJson().schema === "notes" && notes.path === ".schemas/notes.json");
 * ```
 */
export class RequiredSchema extends Requirement {
  /** The MeshSchema JSON to install, or null. */
  readonly json: JsonObject | null;

  /**
   * Creates the value.
   *
   * @param init The name, the schema and `callable`.
   * @throws {RequirementError} (1002) When the name is empty, contains `/`, or `json` is not a
   *   valid MeshSchema.
   */
  constructor(init: RequiredSchemaInit) {
    const name = checkName("schema", init.name);
    if (name.includes("/") || name.includes("\\")) {
      throw bad(`required schema ${name}: the name must not contain a path separator`, name);
    }
    super(name, init.callable ?? null);
    const json = init.json ?? null;
    if (json === null) {
      this.json = null;
    } else if (json instanceof MeshSchema) {
      this.json = json.toJson();
    } else {
      try {
        MeshSchema.fromJson(json);
      } catch (e) {
        throw new RequirementError(
          `required schema ${name}: "json" is not a valid MeshSchema: ${(e as Error).message}`,
          ErrorCode.INVALID_REQUEST,
          name,
          { cause: e },
        );
      }
      this.json = structuredClone(json);
    }
  }

  /** Where the schema lives in room storage: `.schemas/<name>.json`. */
  get path(): string {
    return `.schemas/${this.name}.json`;
  }

  /**
   * The JSON, `{"schema", "callable", "json"}`.
   *
   * @returns The JSON object.
   */
  toJson(): RequiredSchemaJson {
    return {
      schema: this.name,
      callable: this.callable,
      json: this.json === null ? null : structuredClone(this.json),
    };
  }

  /**
   * Parses `{"schema", "callable"?, "json"?}`.
   *
   * @param json The JSON object.
   * @returns The requirement.
   * @throws {RequirementError} (1002) When a field has the wrong type.
   */
  static override fromJson(json: unknown): RequiredSchema {
    if (!isObject(json)) throw bad("required schema JSON must be an object");
    const name = checkName("schema", json.schema);
    const schema = json.json ?? null;
    if (schema !== null && !isObject(schema)) {
      throw bad(`required schema ${name}: "json" must be a MeshSchema object or null`, name);
    }
    return new RequiredSchema({
      name,
      json: schema,
      callable: optionalBoolean(json.callable, "callable", name),
    });
  }
}
