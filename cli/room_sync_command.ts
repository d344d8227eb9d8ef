import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import { parseJsonObject } from "./room_messaging_command.ts";
import type { Output } from "./output.ts";

/** Flags of `meshagent room sync show` and `export`. */
export interface SyncShowCommandOptions extends RoomConnectionOptions {
  /** The document path. */
  path: string;
  /** `export` only: write the JSON to this local file instead of stdout. */
  output?: string;
}

/**
 * `meshagent room sync show PATH` / `export PATH [--output file]`: prints (or writes) a document's
 * JSON (`{"<root>": {...}}`), read with `sync.describe`.
 *
 * @param options The command's flags.
 * @param output Where the JSON goes.
 * @param env Reads environment variables.
 * @returns The document JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncCreateCommand, syncShowCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const schema = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(schema, JSON.stringify({
 *   $root_tag_ref: "#/$defs/note",
 *   $defs: { note: { properties: { note: { properties: { title: { type: "string" } } } } } },
 * }));
 * const quiet = { out: () => {}, err: () => {} };
 * await syncCreateCommand({ ...flags, path: "a.note", schema, json: '{"note":{"title":"hi"}}' }, quiet);
 * const doc = await syncShowCommand({ ...flags, path: "a.note" }, quiet);
 * assert(JSON.stringify(doc) === '{"note":{"title":"hi"}}');
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * await Deno.remove(schema);
 * ```
 */
export async function syncShowCommand(
  options: SyncShowCommandOptions,
  output: Output,
  env?: Env,
): Promise<Record<string, unknown>> {
  const room = await connectRoom(options, env);
  try {
    const json = await room.sync.describe(options.path);
    const text = JSON.stringify(json, null, 2);
    if (options.output) {
      await Deno.writeTextFile(options.output, text + "\n");
      output.err(`wrote ${options.path} to ${options.output}`);
    } else {
      output.out(text);
    }
    return json;
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room sync create`. */
export interface SyncCreateCommandOptions extends RoomConnectionOptions {
  /** The document path. */
  path: string;
  /**
   * The schema: a schema name (`page` → the room's `.schemas/page.json`), a room path of a schema
   * file (containing `/` or ending in `.json` and not found locally), or a local JSON file.
   */
  schema?: string;
  /** The initial document JSON, as text or (with `jsonFile`) from a file. */
  json?: string;
  /** A local file with the initial document JSON. */
  jsonFile?: string;
}

/**
 * `meshagent room sync create PATH --schema NAME [--json FILE]`: creates a document.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes.
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncCreateCommand } from "@meshagent/cli";
 * assert(typeof syncCreateCommand === "function");
 * ```
 */
export async function syncCreateCommand(
  options: SyncCreateCommandOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  let json: Record<string, unknown> | undefined;
  if (options.jsonFile !== undefined) {
    json = parseJsonObject(await Deno.readTextFile(options.jsonFile), options.jsonFile);
  } else if (options.json !== undefined) {
    json = parseJsonObject(options.json, "--json");
  }
  let schema: Record<string, unknown> | undefined;
  let schemaPath: string | undefined;
  const s = options.schema;
  if (s !== undefined) {
    let local: string | undefined;
    try {
      local = await Deno.readTextFile(s);
    } catch { /* not a local file */ }
    if (local !== undefined) schema = parseJsonObject(local, s);
    else if (s.includes("/") || s.endsWith(".json")) schemaPath = s;
    else schemaPath = `.schemas/${s}.json`;
  }
  const { MeshSchema } = await import("@meshagent/api");
  const room = await connectRoom(options, env);
  try {
    await room.sync.create(options.path, {
      json: json as never,
      schema: schema ? MeshSchema.fromJson(schema) : undefined,
      schemaPath,
    });
    output.err(`created ${options.path}`);
  } finally {
    await room.dispose();
  }
}
