import type { Element, JsonObject, MeshSchema } from "@meshagent/api";
import type { Env, RoomConnectionOptions } from "./room_connection.ts";
import { parseJsonObject } from "./room_messaging_command.ts";
import type { Output } from "./output.ts";
import { withRoom } from "./_with_room.ts";
import { plural, printDone, printList } from "./_format.ts";
import { builtinSchema } from "./builtin_schemas.ts";

/** Flags of `meshagent room sync show`, `get` and `export`. */
export interface SyncShowCommandOptions extends RoomConnectionOptions {
  /** The document path. */
  path: string;
  /** `export` only: write the JSON to this local file instead of stdout. */
  output?: string;
  /** Print the JSON on one line instead of indented. */
  json?: boolean;
}

/**
 * `meshagent room sync show PATH` (official name `get`) / `export PATH [--output file]`: prints
 * (or writes) a document's JSON (`{"<root>": {...}}`, indented; one line with `--json`), read
 * with `sync.describe`.
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
 * const quiet = { out: () => {}, err: () => {} };
 * await syncCreateCommand(
 *   { ...flags, path: "a.document", schema: "document", json: '{"document":{"title":"hi"}}' },
 *   quiet,
 * );
 * const doc = await syncShowCommand({ ...flags, path: "a.document" }, quiet);
 * assert.deepEqual(doc, { document: { title: "hi", content: [] } });
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function syncShowCommand(
  options: SyncShowCommandOptions,
  output: Output,
  env?: Env,
): Promise<Record<string, unknown>> {
  return await withRoom(options, env, async (room) => {
    const json = await room.sync.describe(options.path);
    const text = JSON.stringify(json, null, options.json ? 0 : 2);
    if (options.output) {
      await Deno.writeTextFile(options.output, text + "\n");
      printDone(output, options.json, `wrote ${options.path} to ${options.output}`, {
        path: options.path,
        saved_to: options.output,
      });
    } else {
      output.out(text);
    }
    return json;
  });
}

/** Flags of `meshagent room sync create`. */
export interface SyncCreateCommandOptions extends RoomConnectionOptions {
  /** The document path. */
  path: string;
  /**
   * The schema: a built-in schema's name (`document`, `thread`, `thread-list`), a local JSON
   * file, a room path of a schema file (containing `/` or ending in `.json`), or the name of one
   * of the room's schemas (`page` → the room's `.schemas/page.json`).
   */
  schema?: string;
  /** The initial document JSON, as text or (with `jsonFile`) from a file. */
  json?: string;
  /** A local file with the initial document JSON. */
  jsonFile?: string;
}

/** What `--schema` resolved to: a schema to send, or a room path the server reads. */
async function resolveSchema(
  value: string,
): Promise<{ schema?: MeshSchema; schemaPath?: string }> {
  const { MeshSchema } = await import("@meshagent/api");
  const builtin = builtinSchema(value);
  if (builtin) return { schema: await builtin.load() };
  let local: string | undefined;
  try {
    local = await Deno.readTextFile(value);
  } catch { /* not a local file */ }
  if (local !== undefined) return { schema: MeshSchema.fromJson(parseJsonObject(local, value)) };
  if (value.includes("/") || value.endsWith(".json")) return { schemaPath: value };
  return { schemaPath: `.schemas/${value}.json` };
}

/**
 * `meshagent room sync create PATH [--schema NAME] [--json JSON|FILE]`: creates a document. The
 * schema is a built-in one (`--schema document`), a local or room JSON file, or — without
 * `--schema` — the room's `.schemas/<extension>.json`.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes (stderr).
 * @param env Reads environment variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncCreateCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const lines: string[] = [];
 * await syncCreateCommand(
 *   { ...flags, path: "notes.document", schema: "document" },
 *   { out: () => {}, err: (l) => lines.push(l) },
 * );
 * assert(lines[0].startsWith("created notes.document"));
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
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
  const schema = options.schema === undefined ? {} : await resolveSchema(options.schema);
  await withRoom(options, env, async (room) => {
    await room.sync.create(options.path, { json: json as never, ...schema });
    const from = options.schema ? ` (schema ${options.schema})` : "";
    output.err(
      `created ${options.path}${from}; see it with meshagent room sync show ${options.path}`,
    );
  });
}

/** Flags of `meshagent room sync update`. */
export interface SyncUpdateCommandOptions extends RoomConnectionOptions {
  /** The document path. */
  path: string;
  /** Attributes to set, as a JSON object (`null` removes one). */
  patch?: string;
  /** An element to append, as element JSON (`{"<tag>": {...}}`). */
  append?: string;
  /** The element to change (its `$id`; default the root). */
  element?: string;
  /** Print the changed document as JSON on stdout instead of a sentence on stderr. */
  json?: boolean;
}

/**
 * `meshagent room sync update PATH --patch '{"title":"new"}' [--append '{"body":{...}}']
 * [--element ID]`: changes a document in place — sets (or, with `null`, removes) attributes of
 * the root or of element `ID`, and appends a child element — through the live CRDT, so open
 * copies see the change at once.
 *
 * @param options The command's flags.
 * @param output Where the confirmation goes.
 * @param env Reads environment variables.
 * @returns The document's JSON after the change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncCreateCommand, syncUpdateCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), path: "a.document" };
 * const quiet = { out: () => {}, err: () => {} };
 * await syncCreateCommand({ ...flags, schema: "document" }, quiet);
 * const doc = await syncUpdateCommand(
 *   { ...flags, patch: '{"title":"Plans"}', append: '{"body":{"text":"first"}}' },
 *   quiet,
 * );
 * assert.deepEqual(doc, { document: { title: "Plans", content: [{ body: { text: "first" } }] } });
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function syncUpdateCommand(
  options: SyncUpdateCommandOptions,
  output: Output,
  env?: Env,
): Promise<JsonObject> {
  if (options.patch === undefined && options.append === undefined) {
    throw new Error(
      `what to change? pass --patch '{"attribute":"value"}' and/or --append '{"tag":{...}}'`,
    );
  }
  const patch = options.patch === undefined ? undefined : parseJsonObject(options.patch, "--patch");
  const append = options.append === undefined
    ? undefined
    : parseJsonObject(options.append, "--append");
  return await withRoom(options, env, async (room) => {
    const doc = await room.sync.open(options.path, { create: false });
    try {
      const target = options.element === undefined ? doc.root : doc.getElementById(options.element);
      if (!target) {
        throw new Error(
          `${options.path} has no element with $id ${options.element} (see the ids: ` +
            `meshagent room sync show ${options.path})`,
        );
      }
      doc.transact(() => {
        for (const [name, value] of Object.entries(patch ?? {})) {
          if (value === null) target.removeAttribute(name);
          else if (["string", "number", "boolean"].includes(typeof value)) {
            target.setAttribute(name, value as string | number | boolean);
          } else {
            throw new Error(`--patch: ${name} must be a string, number, boolean or null`);
          }
        }
        if (append) target.appendJson(append);
      });
      await room.sync.flush(options.path);
      const json = doc.toJson();
      const what = [
        patch ? plural(Object.keys(patch).length, "attribute") : "",
        append ? "1 element appended" : "",
      ].filter((s) => s !== "").join(", ");
      printDone(output, false, `updated ${options.path} (${what})`, {});
      if (options.json) output.out(JSON.stringify(json));
      return json;
    } finally {
      await room.sync.close(options.path);
    }
  });
}

/** Flags of `meshagent room sync inspect`. */
export interface SyncInspectCommandOptions extends RoomConnectionOptions {
  /** The document path. */
  path: string;
  /** One JSON object (counts and the schema) instead of a table. */
  json?: boolean;
}

/** Counts a document's elements by tag (the root included). */
function countTags(root: Element, counts: Map<string, number> = new Map()): Map<string, number> {
  counts.set(root.tagName, (counts.get(root.tagName) ?? 0) + 1);
  for (const child of root.children) countTags(child, counts);
  return counts;
}

/**
 * `meshagent room sync inspect PATH`: the document's schema and contents at a glance — each
 * element type of its schema, its attributes, and how many elements of it the document holds.
 *
 * @param options The command's flags.
 * @param output Where the table goes.
 * @param env Reads environment variables.
 * @returns The element counts by tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncCreateCommand, syncInspectCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key), path: "a.document" };
 * const quiet = { out: () => {}, err: () => {} };
 * await syncCreateCommand({ ...flags, schema: "document" }, quiet);
 * const counts = await syncInspectCommand(flags, quiet);
 * assert(counts.document === 1 && counts.body === 0);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function syncInspectCommand(
  options: SyncInspectCommandOptions,
  output: Output,
  env?: Env,
): Promise<Record<string, number>> {
  return await withRoom(options, env, async (room) => {
    const doc = await room.sync.open(options.path, { create: false });
    try {
      const counts = countTags(doc.root);
      const rows = doc.schema.elements.map((type) => ({
        tag: type.tagName,
        count: counts.get(type.tagName) ?? 0,
        attributes: type.properties.filter((p) => p.kind === "value").map((p) => p.name),
        children: type.childProperty?.childTagNames ?? [],
      }));
      const byTag = Object.fromEntries(rows.map((r) => [r.tag, r.count]));
      if (options.json) {
        output.out(JSON.stringify({
          path: options.path,
          root: doc.schema.rootTagName,
          elements: byTag,
          schema: doc.schema.toJson(),
        }));
        return byTag;
      }
      output.out(`${options.path}: a document of schema root "${doc.schema.rootTagName}"`);
      printList(output, rows, {
        columns: [
          { header: "element", value: (r) => r.tag },
          { header: "count", value: (r) => r.count },
          { header: "attributes", value: (r) => r.attributes.join(", ") || "-" },
          { header: "children", value: (r) => r.children.join(", ") || "-" },
        ],
        empty: "its schema has no element types",
      });
      return byTag;
    } finally {
      await room.sync.close(options.path);
    }
  });
}

/** Flags of `meshagent room sync grep`. */
export interface SyncGrepCommandOptions extends RoomConnectionOptions {
  /** The regular expression. */
  pattern: string;
  /** The documents to search. */
  paths: readonly string[];
  /** Ignore case. */
  ignoreCase?: boolean;
  /** One JSON object per match instead of lines. */
  json?: boolean;
}

/** One match of `sync grep`. */
export interface SyncGrepMatch {
  /** The document. */
  path: string;
  /** The element's tag. */
  tag: string;
  /** The element's `$id`, when it has one. */
  id?: string;
  /** The attribute that matched (`text` for a text element's content). */
  attribute: string;
  /** The attribute's value. */
  value: string;
}

function grepElement(path: string, element: Element, re: RegExp, out: SyncGrepMatch[]): void {
  const values: [string, string][] = Object.entries(element.attributes)
    .filter(([name, v]) => name !== "$id" && v !== null)
    .map(([name, v]) => [name, String(v)]);
  if (element.isText) values.push(["text", element.text]);
  for (const [attribute, value] of values) {
    if (re.test(value)) out.push({ path, tag: element.tagName, id: element.id, attribute, value });
  }
  for (const child of element.children) grepElement(path, child, re, out);
}

/**
 * `meshagent room sync grep PATTERN PATH…`: finds the elements of documents whose attribute
 * values (or text) match a regular expression, like `grep` over the documents' contents. The
 * command exits 1 when nothing matched, as `grep` does.
 *
 * @param options The command's flags.
 * @param output Where the matches go.
 * @param env Reads environment variables.
 * @returns The matches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncCreateCommand, syncGrepCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const flags = { room: "demo", apiUrl: server.url, key: formatApiKey(key) };
 * const quiet = { out: () => {}, err: () => {} };
 * const json = '{"document":{"content":[{"body":{"text":"Buy milk"}}]}}';
 * await syncCreateCommand({ ...flags, path: "a.document", schema: "document", json }, quiet);
 * const found = await syncGrepCommand({ ...flags, pattern: "milk", paths: ["a.document"] }, quiet);
 * assert(found[0].tag === "body" && found[0].value === "Buy milk");
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function syncGrepCommand(
  options: SyncGrepCommandOptions,
  output: Output,
  env?: Env,
): Promise<SyncGrepMatch[]> {
  let re: RegExp;
  try {
    re = new RegExp(options.pattern, options.ignoreCase ? "i" : "");
  } catch (e) {
    throw new Error(`PATTERN is not a regular expression: ${(e as Error).message}`);
  }
  if (options.paths.length === 0) throw new Error("which documents? pass one or more paths");
  return await withRoom(options, env, async (room) => {
    const matches: SyncGrepMatch[] = [];
    for (const path of options.paths) {
      const doc = await room.sync.open(path, { create: false });
      try {
        grepElement(path, doc.root, re, matches);
      } finally {
        await room.sync.close(path);
      }
    }
    if (options.json) {
      for (const m of matches) output.out(JSON.stringify(m));
    } else if (matches.length === 0) {
      output.out(`no match for ${options.pattern} in ${options.paths.join(", ")}`);
    } else {
      for (const m of matches) {
        output.out(`${m.path}: ${m.tag}${m.id ? `#${m.id}` : ""} ${m.attribute}: ${m.value}`);
      }
    }
    return matches;
  });
}
