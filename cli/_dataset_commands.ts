// The commander wiring of `meshagent room dataset …` (the official names, cli.md §4). Private:
// the exported functions in room_dataset_command.ts are the public API.
import type { Command } from "commander";
import { roomOptions } from "./_room_options.ts";
import type { Output } from "./output.ts";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function integer(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} takes a non-negative integer`);
    return n;
  };
}

function common(command: Command, table = true): Command {
  const c = roomOptions(command)
    .option("--namespace <path>", "table namespace, segments joined by / (default: the root)")
    .option("--branch <name>", "branch (default: main)")
    .option("--json", "print one JSON object per line");
  return table ? c.option("--table <name>", "table name") : c;
}

/** One `room dataset <name>` command that makes one call (see `datasetTableCommand`). */
const SIMPLE: readonly {
  name: string;
  description: string;
  options?: (c: Command) => Command;
  rows?: boolean;
}[] = [
  { name: "drop", description: "delete a table" },
  {
    name: "insert",
    description: "append rows given as JSON (an array of objects, or one object)",
    rows: true,
  },
  {
    name: "merge",
    description: "upsert rows given as JSON, keyed on --on",
    rows: true,
    options: (c) => c.requiredOption("--on <column>", "the key column"),
  },
  {
    name: "update",
    description: "set columns of the rows that match --where",
    options: (c) =>
      c.option("--where <sql>", "which rows (default: all)")
        .option("--set <column=value>", "a new value (JSON, or else text); repeatable", collect),
  },
  {
    name: "delete",
    description: "delete the rows that match --where",
    options: (c) => c.requiredOption("--where <sql>", "which rows"),
  },
  {
    name: "count",
    description: "count the rows that match --where",
    options: (c) => c.option("--where <sql>", "which rows (default: all)"),
  },
  {
    name: "add-columns",
    description: "add columns computed by SQL expressions",
    options: (c) => c.option("--column <name=sql>", "a new column; repeatable", collect),
  },
  {
    name: "drop-columns",
    description: "drop columns",
    options: (c) => c.option("--column <name>", "a column to drop; repeatable", collect),
  },
  { name: "optimize", description: "compact files and update indexes" },
  { name: "stats", description: "sizes and fragments of a table" },
  { name: "version", description: "list the versions of a table" },
  {
    name: "restore",
    description: "make an older version the latest",
    // `--version` belongs to the program (commander reads it anywhere).
    options: (c) =>
      c.requiredOption("--table-version <n>", "the version", integer("--table-version")),
  },
  { name: "index", description: "list the indexes of a table" },
  {
    name: "index-create",
    description: "build an index (BTREE, BITMAP, LABEL_LIST, IVF_PQ, IVF_HNSW_SQ, INVERTED, …)",
    options: (c) =>
      c.option("--column <name>", "the column", collect)
        .requiredOption("--type <type>", "the index type")
        .option("--name <name>", "the index name (default <column>_idx)"),
  },
  {
    name: "index-drop",
    description: "drop an index",
    options: (c) => c.requiredOption("--name <name>", "the index name"),
  },
];

/**
 * Adds `room dataset table|inspect|create|import|search|…` (cli.md §4).
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addDatasetCommands(room: Command, output: Output): void {
  const dataset = room.command("dataset").alias("datasets").description(
    "work with the room's datasets (versioned tables with vector search), e.g. meshagent room " +
      "dataset import --table docs docs.csv, then meshagent room dataset search --table docs",
  );
  const load = () => import("./room_dataset_command.ts");
  common(dataset.command("table").alias("tables"), false)
    .description("list the tables of a namespace")
    .action(async (opts) => void await (await load()).datasetTablesCommand(opts, output));
  common(dataset.command("inspect"))
    .description("show the columns of a table")
    .action(async (opts) => void await (await load()).datasetInspectCommand(opts, output));
  common(dataset.command("create"))
    .description("create a table from --columns name:type,… (int64, utf8, vector[768], …)")
    .requiredOption("--columns <list>", "the columns; a ! after a type makes it non-nullable")
    .option("--mode <mode>", "create (default), overwrite or create_if_not_exists")
    .action(async (opts) => void await (await load()).datasetCreateCommand(opts, output));
  common(dataset.command("import"))
    .description("stream a CSV, JSON lines, JSON or Parquet file into a table, with progress")
    .argument("<file>", "the local file (.csv, .jsonl, .json, .parquet)")
    .option("--format <format>", "csv, jsonl, json or parquet (default: from the extension)")
    .option("--mode <mode>", "create (default), overwrite, create_if_not_exists, or append")
    .option("--columns <list>", "column types name:type,… (default: from the data)")
    .option("--batch-rows <n>", "rows per chunk (default 10000)", integer("--batch-rows"))
    .action(async (file: string, opts) =>
      void await (await load()).datasetImportCommand(file, opts, output)
    );
  common(dataset.command("search"))
    .description("print the rows that match (a table, or JSON lines with --json)")
    .option("--where <sql>", "an SQL filter, e.g. \"id > 3 AND name = 'a'\"")
    .option("--vector <json>", "a query vector, e.g. [0.1, 0.2, 0.3]: nearest rows first")
    .option("--text <query>", "a full-text query (needs an INVERTED index)")
    .option("--select <columns>", "columns to show, comma-separated")
    .option("--limit <n>", "most rows", integer("--limit"))
    .option("--offset <n>", "rows to skip", integer("--offset"))
    .option("--table-version <n>", "read an older version", integer("--table-version"))
    .action(async (opts) => void await (await load()).datasetSearchCommand(opts, output));
  common(dataset.command("sql"), false)
    .description("run a read-only SQL query over tables (a table, or JSON lines with --json)")
    .argument("<query>", 'the query, e.g. "SELECT count(*) FROM d"')
    .option("--table <name[=alias]>", "a table the query reads; repeatable", collect)
    .action(async (query: string, opts) =>
      void await (await load()).datasetSqlCommand(query, opts, output)
    );
  for (const spec of SIMPLE) {
    let command = common(dataset.command(spec.name)).description(spec.description);
    if (spec.rows) command = command.argument("<rows>", "the rows as JSON");
    command = spec.options?.(command) ?? command;
    command.action(async (...args: unknown[]) => {
      const opts = (spec.rows ? args[1] : args[0]) as Record<string, unknown>;
      const rows = spec.rows ? args[0] as string : undefined;
      const { datasetTableCommand } = await load();
      await datasetTableCommand(spec.name as "drop", { ...opts, rows }, output);
    });
  }
  const branch = dataset.command("branch").description("branches (this server keeps main only)");
  common(branch.command("list"), false)
    .description("list the branches")
    .action(async (opts) => {
      const { connectRoom } = await import("./room_connection.ts");
      const room = await connectRoom(opts);
      try {
        const branches = await room.datasets.listBranches({
          namespace: opts.namespace?.split("/").filter((s: string) => s !== ""),
        });
        for (const b of branches) output.out(opts.json ? JSON.stringify(b) : b.name);
      } finally {
        await room.dispose();
      }
    });
}
