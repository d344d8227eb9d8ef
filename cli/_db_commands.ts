// The commander wiring of `meshagent room db …`. Private: the exported functions in
// room_db_command.ts are the public API.
import type { Command } from "commander";
import { roomOptions } from "./_room_options.ts";
import {
  dbCreateCommand,
  dbDatabasesCommand,
  dbQueryCommand,
  dbTablesCommand,
} from "./room_db_command.ts";
import type { Output } from "./output.ts";

function connectionOptions(command: Command): Command {
  return roomOptions(command)
    .option("--namespace <path>", "database namespace, segments joined by / (default: none)");
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Adds `db query|tables|databases|create` under `room`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addDbCommands(room: Command, output: Output): void {
  const db = room.command("db").description("work with the room's SQLite databases");
  connectionOptions(db.command("query"))
    .description("run one SQL statement (values go in --param, never in the SQL)")
    .argument("<sql>", "the SQL statement")
    .requiredOption("--database <name>", "database name")
    .option("--param <value>", "a ? parameter, in order (JSON, or else text); repeatable", collect)
    .option("--named <name=value>", "a :name parameter (JSON, or else text); repeatable", collect)
    .option("--json", "print one JSON object per row")
    .action(async (sql: string, opts) => {
      await dbQueryCommand({ ...opts, sql }, output);
    });
  connectionOptions(db.command("tables"))
    .description("list the tables of a database")
    .requiredOption("--database <name>", "database name")
    .option("--json", "print a JSON array")
    .action(async (opts) => {
      await dbTablesCommand(opts, output);
    });
  connectionOptions(db.command("databases"))
    .description("list the room's databases")
    .option("--json", "print a JSON array")
    .action(async (opts) => {
      await dbDatabasesCommand(opts, output);
    });
  connectionOptions(db.command("create"))
    .description("create a database")
    .requiredOption("--database <name>", "database name")
    .option("--if-not-exists", "no error when it exists already")
    .action(async (opts) => {
      await dbCreateCommand(opts, output);
    });
}
