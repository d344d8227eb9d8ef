import assert from "node:assert/strict";
import { ApiScope, RoomError } from "@meshagent/api";
import { checkSqliteGrant, SQLITE_TOOLS } from "./sqlite_grants.ts";

const T = { database: "main", table: "notes" };

/** A request for every tool aimed at database `main`, table `notes`. */
const REQUESTS: Record<string, Record<string, unknown>> = {
  list_databases: { namespace: null },
  create_database: { name: "main", namespace: null, mode: "create" },
  drop_database: { name: "main", namespace: null, ignore_missing: false },
  inspect_database: { name: "main", namespace: null },
  list_tables: { database: "main", namespace: null },
  create_table: { kind: "start", database: "main", name: "notes", mode: "create" },
  drop_table: { database: "main", name: "notes", ignore_missing: false },
  rename_table: { database: "main", name: "notes", new_name: "n2" },
  inspect: T,
  add_columns: T,
  drop_columns: { ...T, columns: ["a"] },
  insert: { kind: "start", ...T },
  update: { ...T, where: null, values: [] },
  delete: { ...T, where: null },
  search: { kind: "start", ...T },
  count: T,
  open_sql_query: { database: "main", query: "SELECT 1" },
  execute_sql: { database: "main", query: "SELECT 1" },
  read_sql_query: { kind: "start", query_id: "q1" },
  close_sql_query: { query_id: "q1" },
  cancel_sql_query: { query_id: "q1" },
  execute_sql_statement: { database: "main", query: "SELECT 1" },
};

const resolve = (id: string) => id === "q1" ? { database: "main", namespace: null } : null;

function allowed(scopeJson: Record<string, unknown>): string[] {
  const scope = ApiScope.fromJson(scopeJson);
  return SQLITE_TOOLS.filter((tool) =>
    checkSqliteGrant(scope, tool, REQUESTS[tool], resolve) === null
  );
}

Deno.test("SQLITE_TOOLS lists the 22 request types, each with a test request", () => {
  assert.equal(SQLITE_TOOLS.length, 22);
  assert.deepEqual([...SQLITE_TOOLS].sort(), Object.keys(REQUESTS).sort());
});

Deno.test("checkSqliteGrant: no api scope or no sqlite key denies everything with 1001", () => {
  for (const tool of SQLITE_TOOLS) {
    const error = checkSqliteGrant(null, tool, REQUESTS[tool]);
    assert.ok(error instanceof RoomError);
    assert.equal(error.code, 1001);
    assert.match(error.message, new RegExp(`sqlite\\.${tool}.*api\\.sqlite`));
  }
  assert.deepEqual(allowed({ storage: {} }), []);
});

Deno.test("checkSqliteGrant: `sqlite: {}` allows every tool", () => {
  assert.deepEqual(allowed({ sqlite: {} }), [...SQLITE_TOOLS]);
});

Deno.test("checkSqliteGrant: top-level flags", () => {
  const denied = SQLITE_TOOLS.filter((tool) =>
    !allowed({ sqlite: { list_databases: false, create_database: false } }).includes(tool)
  );
  assert.deepEqual(denied, ["list_databases", "create_database"]);
});

Deno.test("checkSqliteGrant: a database grant with its defaults (drop false, tables null)", () => {
  const tools = allowed({ sqlite: { databases: [{ name: "main" }] } });
  assert.deepEqual(
    SQLITE_TOOLS.filter((tool) => !tools.includes(tool)),
    ["drop_database", "drop_table"],
  );
  // create_database in mode overwrite also needs drop
  const scope = ApiScope.fromJson({ sqlite: { databases: [{ name: "main" }] } });
  assert.match(
    checkSqliteGrant(scope, "create_database", { name: "main", mode: "overwrite" })!.message,
    /drop on database "main" \(needed by mode "overwrite"\)/,
  );
  assert.equal(
    checkSqliteGrant(scope, "create_table", { database: "main", name: "x", mode: "overwrite" })
      ?.code,
    1001,
  );
  // an unlisted database is denied
  assert.equal(
    checkSqliteGrant(scope, "search", { database: "other", table: "notes" })?.code,
    1001,
  );
  assert.equal(checkSqliteGrant(scope, "create_database", { name: "other" })?.code, 1001);
});

Deno.test("checkSqliteGrant: table grants (write defaults to false, as in Python)", () => {
  const readOnly = allowed({
    sqlite: { databases: [{ name: "main", tables: [{ table: "notes" }] }] },
  });
  for (const tool of ["search", "count", "inspect", "execute_sql"]) {
    assert.ok(readOnly.includes(tool), tool);
  }
  for (
    const tool of ["insert", "update", "delete", "add_columns", "drop_columns", "rename_table"]
  ) {
    assert.ok(!readOnly.includes(tool), tool);
  }
  const writer = allowed({
    sqlite: { databases: [{ name: "main", tables: [{ table: "notes", write: true }] }] },
  });
  for (const tool of ["insert", "update", "delete"]) assert.ok(writer.includes(tool), tool);
  assert.ok(!writer.includes("add_columns"));
  const alter = allowed({
    sqlite: {
      databases: [{ name: "main", tables: [{ table: "notes", alter: true, read: false }] }],
    },
  });
  for (const tool of ["add_columns", "drop_columns", "rename_table"]) {
    assert.ok(alter.includes(tool), tool);
  }
  for (const tool of ["search", "count"]) assert.ok(!alter.includes(tool), tool);
  const scope = ApiScope.fromJson({
    sqlite: { databases: [{ name: "main", tables: [{ table: "notes", write: true }] }] },
  });
  const error = checkSqliteGrant(scope, "insert", { database: "main", table: "other" });
  assert.equal(error?.code, 1001);
  assert.match(error!.message, /write on table "other" of database "main"/);
});

Deno.test("checkSqliteGrant: execute gates SQL, including queries found by query_id", () => {
  const scope = ApiScope.fromJson({ sqlite: { databases: [{ name: "main", execute: false }] } });
  for (const tool of ["open_sql_query", "execute_sql", "execute_sql_statement"]) {
    assert.equal(checkSqliteGrant(scope, tool, REQUESTS[tool], resolve)?.code, 1001, tool);
  }
  for (const tool of ["read_sql_query", "close_sql_query", "cancel_sql_query"]) {
    assert.equal(checkSqliteGrant(scope, tool, REQUESTS[tool], resolve)?.code, 1001, tool);
    // an id that is not open is left to the store (it answers 1003 or not_cancellable)
    assert.equal(checkSqliteGrant(scope, tool, { query_id: "gone" }, resolve), null, tool);
  }
});

Deno.test("checkSqliteGrant: namespaces in database grants must match exactly", () => {
  const scope = ApiScope.fromJson({
    sqlite: { databases: [{ name: "main", namespace: ["team"] }] },
  });
  assert.equal(checkSqliteGrant(scope, "search", { ...T, namespace: ["team"] }), null);
  assert.equal(checkSqliteGrant(scope, "search", { ...T, namespace: ["other"] })?.code, 1001);
  assert.equal(checkSqliteGrant(scope, "search", { ...T, namespace: null })?.code, 1001);
});

Deno.test("checkSqliteGrant: an unknown tool is not a grant question", () => {
  assert.equal(checkSqliteGrant(ApiScope.fromJson({ sqlite: {} }), "frobnicate", {}), null);
});
