import { type ApiScope, ErrorCode, RoomError, type SqliteGrant } from "@meshagent/api";

/** The 22 request types of the `sqlite` toolkit (protocol-data §3.2). */
export const SQLITE_TOOLS: readonly string[] = Object.freeze([
  "list_databases",
  "create_database",
  "drop_database",
  "inspect_database",
  "list_tables",
  "create_table",
  "drop_table",
  "rename_table",
  "inspect",
  "add_columns",
  "drop_columns",
  "insert",
  "update",
  "delete",
  "search",
  "count",
  "open_sql_query",
  "execute_sql",
  "read_sql_query",
  "close_sql_query",
  "cancel_sql_query",
  "execute_sql_statement",
]);

/** Finds the database an open SQL query runs on (`RoomDatabase.queryTarget`). */
export type QueryTargetResolver = (
  queryId: string,
) => { database: string; namespace: readonly string[] | null } | null;

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function namespaceOf(request: Readonly<Record<string, unknown>>): readonly string[] | null {
  const value = request.namespace;
  return Array.isArray(value) && value.every((item) => typeof item === "string")
    ? value as string[]
    : null;
}

/**
 * Checks a `sqlite` request against the caller's `api.sqlite` grant (protocol-core §3.3):
 *
 * | tool | needs |
 * |---|---|
 * | `list_databases` | `list_databases` |
 * | `create_database` | `create_database` and the database granted (+ `drop` for mode `overwrite`) |
 * | `drop_database`, `drop_table` | `drop` on the database |
 * | `inspect_database`, `inspect` | `inspect` on the database |
 * | `list_tables` | `list_tables` on the database |
 * | `create_table` | `create_table` on the database (+ `drop` for mode `overwrite`) |
 * | `rename_table`, `add_columns`, `drop_columns` | `alter` on the table |
 * | `insert`, `update`, `delete` | `write` on the table (absent `write` = false, as in Python) |
 * | `search`, `count` | `read` on the table |
 * | `open_sql_query`, `execute_sql`, `execute_sql_statement` | `execute` on the database |
 * | `read_sql_query`, `close_sql_query`, `cancel_sql_query` | `execute` on the query's database |
 *
 * A `null` `databases` list allows every database; a database grant without `tables` allows
 * every table of it.
 *
 * @param scope The caller's api scope (null or without `sqlite` = no access).
 * @param tool The tool name.
 * @param request The request JSON (unary input, start chunk or binary headers).
 * @param resolveQuery Finds the database of a `query_id` (ids not open are let through: the
 *   store answers them).
 * @returns null when allowed, else a {@linkcode RoomError} with code 1001 saying what is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiScope } from "@meshagent/api";
 *
 * const scope = ApiScope.fromJson({
 *   sqlite: { databases: [{ name: "main", tables: [{ table: "notes" }] }] },
 * });
 * assert.equal(checkSqliteGrant(scope, "search", { database: "main", table: "notes" }), null);
 * const denied = checkSqliteGrant(scope, "insert", { database: "main", table: "notes" });
 * assert.equal(denied?.code, 1001);
 * ```
 */
export function checkSqliteGrant(
  scope: ApiScope | null | undefined,
  tool: string,
  request: Readonly<Record<string, unknown>>,
  resolveQuery?: QueryTargetResolver,
): RoomError | null {
  const grant: SqliteGrant | null = scope?.sqlite ?? null;
  if (grant === null) {
    return new RoomError(
      `sqlite.${tool} is not allowed: the participant token has no api.sqlite grant`,
      ErrorCode.PERMISSION_DENIED,
    );
  }
  const namespace = namespaceOf(request);
  const deny = (what: string): RoomError =>
    new RoomError(
      `sqlite.${tool} is not allowed: the api.sqlite grant does not give ${what}`,
      ErrorCode.PERMISSION_DENIED,
    );
  const db = (key: "name" | "database") => text(request[key]);
  const onDb = (name: string) => `on database ${JSON.stringify(name)}`;
  const onTable = (database: string, table: string) =>
    `on table ${JSON.stringify(table)} of database ${JSON.stringify(database)}`;

  switch (tool) {
    case "list_databases":
      return grant.listDatabases ? null : deny("list_databases");
    case "create_database": {
      const name = db("name");
      if (!grant.canCreateDatabase(name, namespace)) {
        return deny(`create_database ${onDb(name)}`);
      }
      if (request.mode === "overwrite" && !grant.canDrop(name, namespace)) {
        return deny(`drop ${onDb(name)} (needed by mode "overwrite")`);
      }
      return null;
    }
    case "drop_database": {
      const name = db("name");
      return grant.canDrop(name, namespace) ? null : deny(`drop ${onDb(name)}`);
    }
    case "inspect_database": {
      const name = db("name");
      return grant.canInspect(name, namespace) ? null : deny(`inspect ${onDb(name)}`);
    }
    case "list_tables": {
      const name = db("database");
      return grant.canListTables(name, namespace) ? null : deny(`list_tables ${onDb(name)}`);
    }
    case "create_table": {
      const name = db("database");
      if (!grant.canCreateTable(name, namespace)) return deny(`create_table ${onDb(name)}`);
      if (request.mode === "overwrite" && !grant.canDrop(name, namespace)) {
        return deny(`drop ${onDb(name)} (needed by mode "overwrite")`);
      }
      return null;
    }
    case "drop_table": {
      const name = db("database");
      return grant.canDrop(name, namespace) ? null : deny(`drop ${onDb(name)}`);
    }
    case "inspect": {
      const name = db("database");
      return grant.canInspect(name, namespace) ? null : deny(`inspect ${onDb(name)}`);
    }
    case "rename_table":
    case "add_columns":
    case "drop_columns": {
      const name = db("database");
      const table = text(tool === "rename_table" ? request.name : request.table);
      return grant.canAlter(name, table, namespace) ? null : deny(`alter ${onTable(name, table)}`);
    }
    case "insert":
    case "update":
    case "delete": {
      const name = db("database");
      const table = text(request.table);
      return grant.canWrite(name, table, namespace) ? null : deny(`write ${onTable(name, table)}`);
    }
    case "search":
    case "count": {
      const name = db("database");
      const table = text(request.table);
      return grant.canRead(name, table, namespace) ? null : deny(`read ${onTable(name, table)}`);
    }
    case "open_sql_query":
    case "execute_sql":
    case "execute_sql_statement": {
      const name = db("database");
      return grant.canExecute(name, namespace) ? null : deny(`execute ${onDb(name)}`);
    }
    case "read_sql_query":
    case "close_sql_query":
    case "cancel_sql_query": {
      const target = resolveQuery?.(text(request.query_id)) ?? null;
      if (target === null) return null;
      return grant.canExecute(target.database, target.namespace)
        ? null
        : deny(`execute ${onDb(target.database)}`);
    }
    default:
      return null;
  }
}
