import type { MeshSchema } from "@meshagent/api";

/** A schema `meshagent room sync create --schema <name>` knows without a file. */
export interface BuiltinSchema {
  /** The name to pass to `--schema`. */
  name: string;
  /** What documents of this schema hold. */
  description: string;
  /** The file extension its documents usually have. */
  extension: string;
  /** Loads the schema (from `@meshagent/agents`, on use: the server never loads it). */
  load(): Promise<MeshSchema>;
}

/**
 * The built-in schemas, by name: `document` (headings, body text, files), `thread` (one agent
 * conversation, as agents store it) and `thread-list` (an agent's thread index).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BUILTIN_SCHEMAS } from "@meshagent/cli";
 * const schema = await BUILTIN_SCHEMAS.document.load();
 * assert(schema.rootTagName === "document");
 * ```
 */
export const BUILTIN_SCHEMAS: Readonly<Record<string, BuiltinSchema>> = {
  document: {
    name: "document",
    description: "a document of headings, body text and files",
    extension: "document",
    load: async () => (await import("@meshagent/agents")).documentSchema,
  },
  thread: {
    name: "thread",
    description: "an agent conversation (what meshagent process keeps in .threads/)",
    extension: "thread",
    load: async () => (await import("@meshagent/agents")).threadSchema,
  },
  "thread-list": {
    name: "thread-list",
    description: "an agent's index of threads",
    extension: "threadl",
    load: async () => (await import("@meshagent/agents")).threadListSchema,
  },
};

/**
 * Finds a built-in schema by name (`thread_list` is accepted for `thread-list`).
 *
 * @param name The `--schema` value.
 * @returns The schema's entry, or `undefined` when the name is not built in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtinSchema } from "@meshagent/cli";
 * assert(builtinSchema("thread_list")?.name === "thread-list");
 * assert(builtinSchema("page") === undefined);
 * ```
 */
export function builtinSchema(name: string): BuiltinSchema | undefined {
  return BUILTIN_SCHEMAS[name.replaceAll("_", "-")];
}
