// The commander wiring of `meshagent room sync …`. Private: the exported functions in
// room_sync_command.ts are the public API.
import { type Command, CommanderError } from "commander";
import { jsonOption, roomOptions } from "./_room_options.ts";
import {
  syncCreateCommand,
  syncGrepCommand,
  syncInspectCommand,
  syncShowCommand,
  syncUpdateCommand,
} from "./room_sync_command.ts";
import { BUILTIN_SCHEMAS } from "./builtin_schemas.ts";
import type { Output } from "./output.ts";

const SCHEMA_HELP = Object.values(BUILTIN_SCHEMAS)
  .map((s) => `  ${s.name.padEnd(12)} ${s.description} (*.${s.extension})`).join("\n");

/**
 * Adds `sync show|get|export|create|update|inspect|grep` under `room`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addSyncCommands(room: Command, output: Output): void {
  const sync = room.command("sync").description("work with the room's synchronized documents");
  jsonOption(roomOptions(sync.command("show").alias("get")), "the JSON on one line")
    .description("print a document as JSON")
    .argument("<path>", "document path, e.g. notes/today.document")
    .action(async (path: string, opts) => {
      await syncShowCommand({ ...opts, path }, output);
    });
  jsonOption(roomOptions(sync.command("export")), "the JSON on one line")
    .description("export a document as JSON (to stdout or --output)")
    .argument("<path>", "document path")
    .option("--output <file>", "local file to write")
    .action(async (path: string, opts) => {
      await syncShowCommand({ ...opts, path }, output);
    });
  roomOptions(sync.command("create"))
    .description("create a document")
    .argument("<path>", "document path, e.g. notes.document")
    .option(
      "--schema <name>",
      "a built-in schema (below), a local JSON file, a room path, or the name of a room schema " +
        "(.schemas/<name>.json); default: the room's .schemas/<extension>.json",
    )
    .option("--json <json>", "the initial document JSON, or a local file holding it")
    .addHelpText(
      "after",
      `\nBuilt-in schemas:\n${SCHEMA_HELP}\n\nExample:\n` +
        "  meshagent room sync create notes.document --schema document \\\n" +
        `    --json '{"document":{"title":"Notes","content":[{"body":{"text":"hello"}}]}}'\n` +
        "  meshagent room sync show notes.document",
    )
    .action(async (path: string, opts) => {
      const { json, ...rest } = opts;
      const isFile = json !== undefined && !json.trimStart().startsWith("{") &&
        await Deno.stat(json).then(() => true, () => false);
      await syncCreateCommand(
        { ...rest, path, ...(isFile ? { jsonFile: json } : { json }) },
        output,
      );
    });
  jsonOption(roomOptions(sync.command("update")), "the updated document as JSON")
    .description("set attributes of an element and/or append a child element")
    .argument("<path>", "document path")
    .option("--patch <json>", 'attributes to set, e.g. \'{"title":"New"}\' (null removes one)')
    .option("--append <json>", 'an element to append, e.g. \'{"body":{"text":"more"}}\'')
    .option("--element <id>", "the element to change, by $id (default: the root)")
    .action(async (path: string, opts) => {
      await syncUpdateCommand({ ...opts, path }, output);
    });
  jsonOption(roomOptions(sync.command("inspect")), "counts and the schema as one JSON object")
    .description("show a document's schema and how many elements of each type it holds")
    .argument("<path>", "document path")
    .action(async (path: string, opts) => {
      await syncInspectCommand({ ...opts, path }, output);
    });
  jsonOption(roomOptions(sync.command("grep")))
    .description("find elements whose attributes or text match a pattern (exit 1 if none)")
    .argument("<pattern>", "a regular expression")
    .argument("<paths...>", "the documents to search")
    .option("-i, --ignore-case", "ignore case")
    .action(async (pattern: string, paths: string[], opts) => {
      const found = await syncGrepCommand({ ...opts, pattern, paths }, output);
      if (found.length === 0) throw new CommanderError(1, "meshagent.sync.nomatch", "");
    });
}
