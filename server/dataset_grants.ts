import { type ApiScope, type DatasetGrant, ErrorCode, RoomError } from "@meshagent/api";

/** What a `dataset` tool needs from the caller's `api.dataset` grant. */
export type DatasetPermission = "list" | "read" | "write" | "alter" | "sql";

/**
 * Every `dataset` tool this server answers (protocol-data §3.3.2) → the permission it needs and
 * the request key that names its table. One table drives the grant check and the toolkit's tool
 * list.
 */
export const DATASET_TOOLS: Readonly<
  Record<string, { readonly need: DatasetPermission; readonly table: "name" | "table" | null }>
> = Object.freeze({
  list_tables: { need: "list", table: null },
  create_table: { need: "alter", table: "name" },
  drop_table: { need: "alter", table: "name" },
  rename_table: { need: "alter", table: "name" },
  inspect: { need: "read", table: "table" },
  stats: { need: "read", table: "table" },
  optimize: { need: "write", table: "table" },
  restore: { need: "write", table: "table" },
  list_versions: { need: "read", table: "table" },
  insert: { need: "write", table: "table" },
  merge: { need: "write", table: "table" },
  update: { need: "write", table: "table" },
  delete: { need: "write", table: "table" },
  count: { need: "read", table: "table" },
  search: { need: "read", table: "table" },
  watch_table: { need: "read", table: "table" },
  add_columns: { need: "alter", table: "table" },
  drop_columns: { need: "alter", table: "table" },
  update_column_metadata: { need: "alter", table: "table" },
  create_index: { need: "alter", table: "table" },
  drop_index: { need: "alter", table: "table" },
  list_indexes: { need: "read", table: "table" },
  list_branches: { need: "list", table: null },
  create_branch: { need: "alter", table: null },
  delete_branch: { need: "alter", table: null },
  // Table ↔ storage file; the toolkit also checks the storage grant, and `alter` for an import
  // that creates or replaces the table.
  import_storage: { need: "write", table: "table" },
  export_storage: { need: "read", table: "table" },
  // The SQL tools: a dataset grant, then `read` on every table the query reads
  // (checkDatasetSqlGrant, by the toolkit, which knows an open query's tables).
  open_sql_query: { need: "sql", table: null },
  execute_sql: { need: "sql", table: null },
  execute_sql_statement: { need: "sql", table: null },
  read_sql_query: { need: "sql", table: null },
  close_sql_query: { need: "sql", table: null },
  cancel_sql_query: { need: "sql", table: null },
});

const CHECKS: Readonly<
  Record<DatasetPermission, (g: DatasetGrant, t: string, ns: string[] | null) => boolean>
> = {
  list: (g) => g.listTables,
  read: (g, t, ns) => g.canRead(t, ns),
  write: (g, t, ns) => g.canWrite(t, ns),
  alter: (g, t, ns) => g.canAlter(t, ns),
  sql: () => true,
};

/**
 * Checks a `dataset` request against the caller's `api.dataset` grant: `list_tables` and
 * `list_branches` need `list_tables`; reads (`search`, `count`, `inspect`, …) need `read` on the
 * table, row changes (`insert`, `merge`, `update`, `delete`, `optimize`, `restore`) `write`, and
 * schema changes (`create_table`, `drop_table`, columns, indexes) `alter`. A grant without
 * `tables` allows everything. Branch changes need a grant without `tables`.
 *
 * @param scope The caller's api scope (null or without `dataset` = no access).
 * @param tool The tool name.
 * @param request The request JSON (unary input, start chunk or binary headers).
 * @returns null when allowed, else a {@linkcode RoomError} with code 1001 saying what is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiScope } from "@meshagent/api";
 * const scope = ApiScope.fromJson({ dataset: { tables: [{ name: "docs" }] } });
 * assert.equal(checkDatasetGrant(scope, "search", { table: "docs", namespace: null }), null);
 * assert.equal(checkDatasetGrant(scope, "insert", { table: "docs", namespace: null })?.code, 1001);
 * ```
 */
export function checkDatasetGrant(
  scope: ApiScope | null | undefined,
  tool: string,
  request: Readonly<Record<string, unknown>>,
): RoomError | null {
  const grant = scope?.dataset ?? null;
  if (grant === null) {
    return new RoomError(
      `datasets.${tool} is not allowed: the participant token has no api.dataset grant`,
      ErrorCode.PERMISSION_DENIED,
    );
  }
  const entry = DATASET_TOOLS[tool];
  if (!entry) return null; // unknown tools are answered with 1003 by the toolkit
  const namespace = Array.isArray(request.namespace) &&
      request.namespace.every((s) => typeof s === "string")
    ? request.namespace as string[]
    : null;
  const table = entry.table === null ? "" : String(request[entry.table] ?? "");
  if (entry.table === null && entry.need === "alter") {
    return grant.tables === null ? null : new RoomError(
      `datasets.${tool} is not allowed: the api.dataset grant is limited to some tables`,
      ErrorCode.PERMISSION_DENIED,
    );
  }
  if (CHECKS[entry.need](grant, table, namespace)) return null;
  const what = entry.need === "list"
    ? "list_tables"
    : `${entry.need} on table ${JSON.stringify(table)}`;
  return new RoomError(
    `datasets.${tool} is not allowed: the api.dataset grant does not give ${what}`,
    ErrorCode.PERMISSION_DENIED,
  );
}

/**
 * Checks that the caller's `api.dataset` grant gives `read` on every table an SQL query reads
 * (`open_sql_query`, `execute_sql`, `execute_sql_statement`, and `read_sql_query`,
 * `close_sql_query`, `cancel_sql_query` on an open query).
 *
 * @param scope The caller's api scope.
 * @param tool The tool name.
 * @param tables The tables the query reads.
 * @returns null when allowed, else a {@linkcode RoomError} with code 1001 naming the table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiScope } from "@meshagent/api";
 * const scope = ApiScope.fromJson({ dataset: { tables: [{ name: "docs" }] } });
 * const docs = { name: "docs", namespace: null };
 * assert.equal(checkDatasetSqlGrant(scope, "execute_sql", [docs]), null);
 * const both = [docs, { name: "secrets", namespace: null }];
 * assert.equal(checkDatasetSqlGrant(scope, "execute_sql", both)?.code, 1001);
 * ```
 */
export function checkDatasetSqlGrant(
  scope: ApiScope | null | undefined,
  tool: string,
  tables: readonly { readonly name: string; readonly namespace: readonly string[] | null }[],
): RoomError | null {
  for (const table of tables) {
    const denied = checkDatasetGrant(scope, "search", {
      table: table.name,
      namespace: table.namespace,
    });
    if (denied) {
      return new RoomError(
        denied.message.replace("datasets.search", `datasets.${tool}`),
        denied.code ?? ErrorCode.PERMISSION_DENIED,
      );
    }
  }
  return null;
}
