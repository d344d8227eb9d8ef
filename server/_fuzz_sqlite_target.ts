// Private: the sqlite fuzz target: scripts of requests straight into a RoomDatabase (what the sqlite
// toolkit's process runs) and the sqlite grant check, with the toolkit's streams (writers fed
// data chunks, cursors pulled) played by the script.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type JsonObject, RoomError } from "@meshagent/api";
import { RoomDatabase } from "./room_database.ts";
import { checkSqliteGrant } from "./sqlite_grants.ts";
import { type FuzzObject, type FuzzValue, setKey } from "./_fuzz_mutator.ts";
import { FuzzFinding, type FuzzSession, type FuzzTarget } from "./_fuzz_runner.ts";
import {
  bytesOf,
  expectRoomError,
  inputScope,
  isObject,
  scratchDir,
  toJson,
} from "./_fuzz_support.ts";

/** How each sqlite request type reaches the RoomDatabase (as the sqlite toolkit calls it). */
const SQLITE_OPS: Readonly<
  Record<string, (db: RoomDatabase, request: unknown, op: FuzzObject) => unknown>
> = {
  list_databases: (db, r) => db.listDatabases(r as never),
  create_database: (db, r) => db.createDatabase(r as never),
  drop_database: (db, r) => db.dropDatabase(r as never),
  inspect_database: (db, r) => db.inspectDatabase(r as never),
  list_tables: (db, r) => db.listTables(r as never),
  create_table: (db, r, op) => write(db.createTable(r as never, bytesOf(op.payload)), op),
  drop_table: (db, r) => db.dropTable(r as never),
  rename_table: (db, r) => db.renameTable(r as never),
  inspect: (db, r) => db.inspect(r as never),
  inspect_table: (db, r) => db.inspectTable(r as never),
  add_columns: (db, r, op) => db.addColumns(r as never, bytesOf(op.payload) ?? new Uint8Array(0)),
  drop_columns: (db, r) => db.dropColumns(r as never),
  insert: (db, r, op) => write(db.insert(r as never), op),
  update: (db, r) => db.update(r as never),
  delete: (db, r) => db.delete(r as never),
  count: (db, r) => db.count(r as never),
  search: (db, r, op) => {
    const cursor = db.search(r as never);
    try {
      read(cursor, op);
    } finally {
      cursor.close();
    }
  },
  open_sql_query: (db, r) => db.openSqlQuery(r as never),
  execute_sql: (db, r) => db.executeSql(r as never),
  execute_sql_statement: (db, r) => db.executeSqlStatement(r as never),
  read_sql_query: (db, r, op) => read(db.readSqlQuery(r as never), op),
  close_sql_query: (db, r) => db.closeSqlQuery(r as never),
  cancel_sql_query: (db, r) => db.cancelSqlQuery(r as never),
};

function write(writer: ReturnType<RoomDatabase["insert"]>, op: FuzzObject): void {
  try {
    for (const chunk of Array.isArray(op.data) ? op.data : []) {
      const bytes = bytesOf(chunk);
      if (bytes && bytes.length > 0) writer.write(bytes);
    }
    if (op.abort !== true) writer.commit();
  } finally {
    writer.abort();
  }
}

function read(cursor: ReturnType<RoomDatabase["search"]>, op: FuzzObject): void {
  const pulls = typeof op.pulls === "number" ? Math.min(Math.max(op.pulls, 0), 64) : 2;
  for (let i = 0; i < pulls; i++) if (cursor.next() === null) break;
}

/** Query ids of the script: `$q0`, `$q1`… name the queries it opened, in order. */
function bindQueries(value: unknown, queries: string[]): unknown {
  if (typeof value === "string" && /^\$q\d$/.test(value)) return queries[Number(value[2])] ?? value;
  if (Array.isArray(value)) return value.map((v) => bindQueries(v, queries));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, bindQueries(v, queries));
    return out;
  }
  return value;
}

/** sqlite request scripts → checkSqliteGrant and RoomDatabase. */
export const sqliteTarget: FuzzTarget = {
  name: "sqlite",
  description: "sqlite request scripts → checkSqliteGrant and RoomDatabase",
  timeoutMs: 5000,
  knownIssues: [],
  async open(): Promise<FuzzSession> {
    const root = await scratchDir("meshagent-fuzz-sqlite-");
    let n = 0;
    return {
      run(input: FuzzValue) {
        const script = isObject(input) ? input : { ops: input };
        const ops = Array.isArray(script.ops) ? script.ops : [];
        const scope = inputScope(script);
        const dir = join(root, String(n++));
        const db = new RoomDatabase({
          dir,
          batchRows: 8,
          batchBytes: 16 * 1024,
          maxOpenQueries: 8,
          maxBufferedBytes: 256 * 1024,
          maxOpenDatabases: 4,
          busyTimeoutMs: 50,
        });
        const queries: string[] = [];
        try {
          for (const op of ops) {
            if (!isObject(op) || typeof op.op !== "string") continue;
            const run = Object.hasOwn(SQLITE_OPS, op.op) ? SQLITE_OPS[op.op] : undefined;
            const request = bindQueries(toJson(op.request ?? null), queries);
            if (isObject(request as FuzzValue)) {
              let denied: RoomError | null;
              try {
                denied = checkSqliteGrant(
                  scope,
                  op.op,
                  request as JsonObject,
                  (id) => db.queryTarget(id),
                );
              } catch (e) {
                throw new FuzzFinding("checkSqliteGrant threw", { cause: e });
              }
              if (denied !== null && !(denied instanceof RoomError && denied.code === 1001)) {
                throw new FuzzFinding(`checkSqliteGrant returned ${denied}`);
              }
            }
            if (run === undefined) continue;
            let result: unknown;
            try {
              result = run(db, request, op);
            } catch (e) {
              expectRoomError(`sqlite ${op.op}`, e);
            }
            // Remember the queries it opened so later ops can name them ($q0, $q1…).
            const queryId = (result as { query_id?: unknown } | undefined)?.query_id;
            if (typeof queryId === "string") queries.push(queryId);
          }
        } finally {
          db.close();
          // Nothing is on disk when no database was created.
          if (existsSync(dir)) Deno.removeSync(dir, { recursive: true });
        }
      },
      async close() {
        await Deno.remove(root, { recursive: true }).catch(() => {});
      },
    };
  },
};
