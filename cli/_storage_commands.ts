// The commander wiring of `meshagent room storage …`. Private: the exported functions in
// room_storage_command.ts are the public API.
import type { Command } from "commander";
import { roomOptions } from "./_room_options.ts";
import {
  storageCpCommand,
  storageLsCommand,
  storageMvCommand,
  storageRmCommand,
  storageStatCommand,
} from "./room_storage_command.ts";
import type { Output } from "./output.ts";

/**
 * Adds `storage ls|cp|rm|mv|stat` under `room`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addStorageCommands(room: Command, output: Output): void {
  const storage = room.command("storage").description("work with the room's files");
  roomOptions(storage.command("ls"))
    .description("list a folder (folders end in /)")
    .argument("[path]", "room folder, e.g. docs or room://docs", "")
    .option("-l, --long", "show size and modification time")
    .option("--json", "print a JSON array")
    .action(async (path: string, opts) => {
      await storageLsCommand({ ...opts, path }, output);
    });
  roomOptions(storage.command("stat"))
    .description("print a file's or folder's details as JSON")
    .argument("<path>", "room path")
    .action(async (path: string, opts) => {
      await storageStatCommand({ ...opts, path }, output);
    });
  roomOptions(storage.command("cp"))
    .description("copy a local file into the room or a room file to the local disk")
    .argument("<source>", "local path or room://path")
    .argument("<destination>", "room://path or local path")
    .option("--overwrite", "replace an existing room file")
    .option("--progress", "show progress on stderr (default: on a terminal, for files ≥ 1 MiB)")
    .action(async (source: string, destination: string, opts) => {
      await storageCpCommand({ ...opts, source, destination }, output);
    });
  roomOptions(storage.command("mv"))
    .description("move or rename a room file or folder")
    .argument("<source>", "room path")
    .argument("<destination>", "new room path")
    .option("--overwrite", "replace what is at the destination")
    .action(async (source: string, destination: string, opts) => {
      await storageMvCommand({ ...opts, source, destination }, output);
    });
  roomOptions(storage.command("rm"))
    .description("delete a room file, or a folder with -r")
    .argument("<path>", "room path")
    .option("-r, --recursive", "delete a folder and everything in it")
    .action(async (path: string, opts) => {
      await storageRmCommand({ ...opts, path }, output);
    });
}
