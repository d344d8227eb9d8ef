// The commander wiring of `meshagent room sync …`. Private: the exported functions in
// room_sync_command.ts are the public API.
import type { Command } from "commander";
import { roomOptions } from "./_room_options.ts";
import { syncCreateCommand, syncShowCommand } from "./room_sync_command.ts";
import type { Output } from "./output.ts";

/**
 * Adds `sync show|export|create` under `room`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addSyncCommands(room: Command, output: Output): void {
  const sync = room.command("sync").description("work with the room's synchronized documents");
  roomOptions(sync.command("show"))
    .description("print a document as JSON")
    .argument("<path>", "document path, e.g. notes/today.page")
    .action(async (path: string, opts) => {
      await syncShowCommand({ ...opts, path }, output);
    });
  roomOptions(sync.command("export"))
    .description("export a document as JSON (to stdout or --output)")
    .argument("<path>", "document path")
    .option("--output <file>", "local file to write")
    .action(async (path: string, opts) => {
      await syncShowCommand({ ...opts, path }, output);
    });
  roomOptions(sync.command("create"))
    .description("create a document")
    .argument("<path>", "document path")
    .option("--schema <name>", "schema name (.schemas/<name>.json), room path or local JSON file")
    .option("--json <file>", "local file with the initial document JSON")
    .action(async (path: string, opts) => {
      const { json, ...rest } = opts;
      await syncCreateCommand({ ...rest, path, jsonFile: json }, output);
    });
}
