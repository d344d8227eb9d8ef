// The commander wiring of `meshagent room storage …`. Private: the exported functions in
// room_storage_command.ts are the public API.
import { type Command, CommanderError } from "commander";
import { jsonOption, roomOptions } from "./_room_options.ts";
import {
  storageCpCommand,
  storageExistsCommand,
  storageGetCommand,
  storageLsCommand,
  storageMvCommand,
  storageRmCommand,
  storageStatCommand,
} from "./room_storage_command.ts";
import type { Output } from "./output.ts";

/**
 * Adds `storage ls|stat|exists|get|cp|mv|rm` under `room`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addStorageCommands(room: Command, output: Output): void {
  const storage = room.command("storage").description(
    "work with the room's files (room paths need no room:// prefix, except to mark the room side of cp)",
  );
  jsonOption(roomOptions(storage.command("ls")))
    .description("list a folder: name (folders end in /), size, modified")
    .argument("[path]", "room folder, e.g. docs or room://docs", "")
    .option("-l, --long", "(the default now; kept for old scripts)")
    .action(async (path: string, opts) => {
      await storageLsCommand({ ...opts, path }, output);
    });
  jsonOption(roomOptions(storage.command("stat")))
    .description("show a file's or folder's details")
    .argument("<path>", "room path")
    .action(async (path: string, opts) => {
      await storageStatCommand({ ...opts, path }, output);
    });
  jsonOption(roomOptions(storage.command("exists")))
    .description("say whether a file or folder exists (exit code 0 if it does, 1 if not)")
    .argument("<path>", "room path")
    .action(async (path: string, opts) => {
      if (!await storageExistsCommand({ ...opts, path }, output)) {
        throw new CommanderError(1, "meshagent.storage.missing", "");
      }
    });
  jsonOption(roomOptions(storage.command("get")))
    .description("print a room file to stdout, or save it with --output")
    .argument("<path>", "room path")
    .option("--output <file>", "save to this local file")
    .option("--overwrite", "replace an existing local file")
    .action(async (path: string, opts) => {
      await storageGetCommand({ ...opts, path }, output);
    });
  jsonOption(roomOptions(storage.command("cp")))
    .description(
      "copy a local file into the room or a room file to the local disk, e.g. " +
        "cp ./report.pdf docs/ or cp docs/report.pdf .",
    )
    .argument("<source>", "local path, or room path (room:// optional)")
    .argument("<destination>", "room path (room:// optional), or local path")
    .option("--overwrite", "replace an existing file at the destination (room or local)")
    .option("--progress", "show progress on stderr (default: on a terminal, for files ≥ 1 MiB)")
    .action(async (source: string, destination: string, opts) => {
      await storageCpCommand({ ...opts, source, destination }, output);
    });
  jsonOption(roomOptions(storage.command("mv")))
    .description("move or rename a room file or folder")
    .argument("<source>", "room path")
    .argument("<destination>", "new room path")
    .option("--overwrite", "replace what is at the destination")
    .action(async (source: string, destination: string, opts) => {
      await storageMvCommand({ ...opts, source, destination }, output);
    });
  jsonOption(roomOptions(storage.command("rm")))
    .description("delete a room file, or a folder with -r")
    .argument("<path>", "room path")
    .option("-r, --recursive", "delete a folder and everything in it")
    .action(async (path: string, opts) => {
      await storageRmCommand({ ...opts, path }, output);
    });
}
