// The commander wiring of `meshagent room sqlite …` (the official name; `room db` is an alias).
// Private: the exported functions in room_db_command.ts are the public API.
import type { Command } from "commander";
import { jsonOption, roomOptions } from "./_room_options.ts";
import {
  dbCreateCommand,
  dbDatabasesCommand,
  dbDropCommand,
  dbInspectCommand,
  dbQueryCommand,
  dbTablesCommand,
} from "./room_db_command.ts";
import type { Output } from "./output.ts";

function connectionOptions(command: Command): Command {
  return jsonOption(roomOptions(command))
    .option("--namespace <path>", "database namespace, segments joined by / (default: none)");
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function createCommand(command: Command, output: Output): Command {
  return connectionOptions(command)
    .description("create a database")
    .requiredOption("--database <name>", "database name")
    .option("--if-not-exists", "no error when it exists already")
    .action(async (opts) => {
      await dbCreateCommand(opts, output);
    });
}

function listCommand(command: Command, output: Output): Command {
  return connectionOptions(command)
    .description("list the room's databases")
    .action(async (opts) => {
      await dbDatabasesCommand(opts, output);
    });
}

/**
 * Adds `sqlite query|tables|databases|create` and `sqlite database list|create|drop|inspect`
 * under `room`, with `db` as an alias of `sqlite` and `sql` of `query`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addDbCommands(room: Command, output: Output): void {
  const sqlite = room.command("sqlite").alias("db").description(
    "work with the room's SQLite databases, e.g. meshagent room sqlite database create " +
      '--database main, then meshagent room sqlite query --database main "SELECT 1"',
  );
  connectionOptions(sqlite.command("query").alias("sql"))
    .description("run one SQL statement (values go in --param, never in the SQL)")
    .argument("<sql>", "the SQL statement")
    .requiredOption("--database <name>", "database name")
    .option("--param <value>", "a ? parameter, in order (JSON, or else text); repeatable", collect)
    .option("--named <name=value>", "a :name parameter (JSON, or else text); repeatable", collect)
    .action(async (sql: string, opts) => {
      await dbQueryCommand({ ...opts, sql }, output);
    });
  connectionOptions(sqlite.command("tables"))
    .description("list the tables of a database")
    .requiredOption("--database <name>", "database name")
    .action(async (opts) => {
      await dbTablesCommand(opts, output);
    });
  listCommand(sqlite.command("databases"), output);
  createCommand(sqlite.command("create"), output);

  const database = sqlite.command("database").description("create, list, inspect, drop databases");
  listCommand(database.command("list"), output);
  createCommand(database.command("create"), output);
  connectionOptions(database.command("drop"))
    .description("delete a database and all its tables")
    .requiredOption("--database <name>", "database name")
    .option("--if-exists", "no error when it does not exist")
    .action(async (opts) => {
      await dbDropCommand(opts, output);
    });
  connectionOptions(database.command("inspect"))
    .description("show a database's table count and size")
    .requiredOption("--database <name>", "database name")
    .action(async (opts) => {
      await dbInspectCommand(opts, output);
    });
}
