// The commander wiring of `meshagent room sync …`. Private: the exported functions in
// room_sync_command.ts are the public API.
import type { Command } from "commander";
import { syncCreateCommand, syncShowCommand } from "./room_sync_command.ts";
import type { Output } from "./output.ts";

function connectionOptions(command: Command): Command {
  return command
    .option("--room <room>", "room name (default: MESHAGENT_ROOM)")
    .option("--identity <name>", "participant name for a minted token", "cli")
    .option("--role <role>", "role grant for a minted token", "user")
    .option(
      "--api-url <url>",
      "room server URL (default: MESHAGENT_API_URL or http://127.0.0.1:8078)",
    )
    .option("--token <jwt>", "participant token to use (default: MESHAGENT_TOKEN)")
    .option("--key <ma-key>", "API key to sign a token (default: MESHAGENT_API_KEY)")
    .option(
      "--data-dir <dir>",
      "data folder of a local server, whose credentials may sign",
      ".meshagent",
    );
}

/**
 * Adds `sync show|export|create` under `room`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addSyncCommands(room: Command, output: Output): void {
  const sync = room.command("sync").description("work with the room's synchronized documents");
  connectionOptions(sync.command("show"))
    .description("print a document as JSON")
    .argument("<path>", "document path, e.g. notes/today.page")
    .action(async (path: string, opts) => {
      await syncShowCommand({ ...opts, path }, output);
    });
  connectionOptions(sync.command("export"))
    .description("export a document as JSON (to stdout or --output)")
    .argument("<path>", "document path")
    .option("--output <file>", "local file to write")
    .action(async (path: string, opts) => {
      await syncShowCommand({ ...opts, path }, output);
    });
  connectionOptions(sync.command("create"))
    .description("create a document")
    .argument("<path>", "document path")
    .option("--schema <name>", "schema name (.schemas/<name>.json), room path or local JSON file")
    .option("--json <file>", "local file with the initial document JSON")
    .action(async (path: string, opts) => {
      const { json, ...rest } = opts;
      await syncCreateCommand({ ...rest, path, jsonFile: json }, output);
    });
}
