import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import {
  describeGrant,
  entries,
  flag,
  inherited,
  names,
  readGrant,
  text,
} from "./_grant_fields.ts";
import { namespaceMatches } from "./_grant_match.ts";

/**
 * One table entry inside a {@linkcode SqliteDatabaseGrant}.
 *
 * JSON: `{ database, table, namespace?: string[], read?: boolean (true), write?: boolean (false),
 * alter?: boolean (false) }`.
 *
 * Choice: the TS client defaults `write` to **true**, the Python SDK to **false**, and both omit the
 * default from JSON, so an absent `write` is ambiguous (spec §14, open question 9). We follow
 * Python: absent `write` means **false** (the safer reading), and `toJson()` writes `write: true`
 * explicitly whenever it is granted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteTableGrant } from "@meshagent/api";
 *
 * const table = SqliteTableGrant.fromJson({ database: "main", table: "notes" });
 * assert.equal(table.read, true);
 * assert.equal(table.write, false); // the Python default
 * assert.deepEqual(
 *   new SqliteTableGrant({ database: "main", table: "notes", write: true }).toJson(),
 *   { database: "main", table: "notes", write: true },
 * );
 * ```
 */
export class SqliteTableGrant extends ApiGrant {
  static {
    describeGrant(this, "sqlite.tables[]", {
      database: inherited("database"),
      table: text("table"),
      namespace: names("namespace"),
      read: flag("read", true),
      write: flag("write", false),
      alter: flag("alter", false),
    });
  }

  /** Database the table belongs to. */
  declare readonly database: string;
  /** Table name. */
  declare readonly table: string;
  /** Namespace the grant is limited to; null = any. */
  declare readonly namespace: readonly string[] | null;
  /** Read rows (default true). */
  declare readonly read: boolean;
  /** Write rows (default false, see the class notes). */
  declare readonly write: boolean;
  /** Change the table's schema (default false). */
  declare readonly alter: boolean;

  /**
   * Creates the table grant.
   *
   * @param options Database and table names, optional namespace and flags.
   */
  constructor(options: GrantOptions<SqliteTableGrant, "database" | "table">) {
    super(options);
  }

  /**
   * Whether this entry applies to `table` of `database` in `namespace`.
   *
   * @param database Database name.
   * @param table Table name.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  matches(database: string, table: string, namespace?: readonly string[] | null): boolean {
    return this.database === database && this.table === table &&
      namespaceMatches(this.namespace, namespace);
  }

  /**
   * Parses the wire JSON.
   *
   * @param json One table grant.
   * @param path Field path used in error messages.
   * @param database Database name used when the entry has no `database` (it sits inside a
   *   database grant, which already names it).
   * @returns The table grant.
   * @throws {ApiScopeError} When `table` is missing or a field has the wrong type.
   */
  static override fromJson<G extends ApiGrant>(
    this: new (options: never) => G,
    json: unknown,
    path?: string,
    database?: string,
  ): G {
    return readGrant(this, json, path, { database });
  }
}

/**
 * One database entry of a {@linkcode SqliteGrant}.
 *
 * JSON: `{ name, namespace?: string[], create_table? (true), drop? (false), inspect? (true),
 * list_tables? (true), execute? (true), tables?: SqliteTableGrant[] }`. When `tables` is null,
 * every table in the database is readable and writable. Table entries without `database`
 * inherit this database's name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteDatabaseGrant } from "@meshagent/api";
 *
 * const db = SqliteDatabaseGrant.fromJson({ name: "main", drop: true });
 * assert.equal(db.drop, true);
 * assert.equal(db.execute, true);
 * assert.deepEqual(db.toJson(), { name: "main", drop: true });
 * ```
 */
export class SqliteDatabaseGrant extends ApiGrant {
  static {
    describeGrant(this, "sqlite.databases[]", {
      name: text("name"),
      namespace: names("namespace"),
      createTable: flag("create_table", true, ["createTable"]),
      drop: flag("drop", false),
      inspect: flag("inspect", true),
      listTables: flag("list_tables", true, ["listTables"]),
      execute: flag("execute", true),
      tables: entries("tables", SqliteTableGrant, { pass: { database: "name" } }),
    });
  }

  /** Database name. */
  declare readonly name: string;
  /** Namespace the grant is limited to; null = any. */
  declare readonly namespace: readonly string[] | null;
  /** Create tables (default true). */
  declare readonly createTable: boolean;
  /** Drop the database or its tables (default false). */
  declare readonly drop: boolean;
  /** Inspect the database and its tables (default true). */
  declare readonly inspect: boolean;
  /** List tables (default true). */
  declare readonly listTables: boolean;
  /** Run SQL (default true). */
  declare readonly execute: boolean;
  /** Per-table grants; null = all tables with full row access. */
  declare readonly tables: readonly SqliteTableGrant[] | null;

  /**
   * Creates the database grant.
   *
   * @param options Database name, optional namespace, flags and table grants.
   */
  constructor(options: GrantOptions<SqliteDatabaseGrant, "name">) {
    super(options);
  }

  /**
   * Whether this entry applies to database `name` in `namespace`.
   *
   * @param name Database name.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  matches(name: string, namespace?: readonly string[] | null): boolean {
    return this.name === name && namespaceMatches(this.namespace, namespace);
  }
}

/**
 * `sqlite` grant: the room's SQLite databases.
 *
 * JSON: `{ databases?: SqliteDatabaseGrant[], create_database? (true), list_databases? (true) }`.
 * `databases` null = every database with every permission; when set, databases it does not name
 * are denied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteGrant } from "@meshagent/api";
 *
 * const grant = SqliteGrant.fromJson({
 *   databases: [{ name: "main", tables: [{ table: "notes", write: true }] }],
 * });
 * assert.equal(grant.canExecute("main"), true);
 * assert.equal(grant.canWrite("main", "notes"), true);
 * assert.equal(grant.canWrite("main", "other"), false);
 * assert.equal(grant.canDrop("main"), false);
 * assert.equal(grant.canExecute("other"), false);
 * assert.equal(new SqliteGrant().canDrop("anything"), true);
 * ```
 */
export class SqliteGrant extends ApiGrant {
  static {
    describeGrant(this, "sqlite", {
      databases: entries("databases", SqliteDatabaseGrant),
      createDatabase: flag("create_database", true, ["createDatabase"]),
      listDatabases: flag("list_databases", true, ["listDatabases"]),
    });
  }

  /** Database grants; null = all databases, all permissions. */
  declare readonly databases: readonly SqliteDatabaseGrant[] | null;
  /** `sqlite.create_database` allowed (default true). */
  declare readonly createDatabase: boolean;
  /** `sqlite.list_databases` allowed (default true). */
  declare readonly listDatabases: boolean;

  /**
   * Creates the grant.
   *
   * @param options `databases` (null = all), `createDatabase` and `listDatabases` (default true).
   */
  constructor(options: GrantOptions<SqliteGrant> = {}) {
    super(options);
  }

  /**
   * Finds the database grant for `name`.
   *
   * @param name Database name.
   * @param namespace Namespace (absent = root).
   * @returns The first matching grant, `"unrestricted"` when `databases` is null, or null when
   *   the database is not granted.
   */
  database(
    name: string,
    namespace?: readonly string[] | null,
  ): SqliteDatabaseGrant | "unrestricted" | null {
    if (this.databases === null) return "unrestricted";
    return this.databases.find((grant) => grant.matches(name, namespace)) ?? null;
  }

  #db(
    name: string,
    namespace: readonly string[] | null | undefined,
    pick: (grant: SqliteDatabaseGrant) => boolean,
  ): boolean {
    const grant = this.database(name, namespace);
    return grant === "unrestricted" || (grant !== null && pick(grant));
  }

  #table(
    database: string,
    table: string,
    namespace: readonly string[] | null | undefined,
    pick: (grant: SqliteTableGrant) => boolean,
  ): boolean {
    const grant = this.database(database, namespace);
    if (grant === "unrestricted") return true;
    if (grant === null) return false;
    if (grant.tables === null) return true;
    return grant.tables.some((t) => t.matches(database, table, namespace) && pick(t));
  }

  /**
   * Whether a database named `name` may be created.
   *
   * @param name Database name.
   * @param namespace Namespace.
   * @returns `createDatabase` and the database is granted.
   */
  canCreateDatabase(name: string, namespace?: readonly string[] | null): boolean {
    return this.createDatabase && this.#db(name, namespace, () => true);
  }

  /**
   * Whether database `name` is granted at all.
   *
   * @param name Database name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canAccessDatabase(name: string, namespace?: readonly string[] | null): boolean {
    return this.#db(name, namespace, () => true);
  }

  /**
   * Whether database `name` (or its tables) may be dropped.
   *
   * @param name Database name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canDrop(name: string, namespace?: readonly string[] | null): boolean {
    return this.#db(name, namespace, (grant) => grant.drop);
  }

  /**
   * Whether tables may be created in database `name`.
   *
   * @param name Database name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canCreateTable(name: string, namespace?: readonly string[] | null): boolean {
    return this.#db(name, namespace, (grant) => grant.createTable);
  }

  /**
   * Whether database `name` may be inspected.
   *
   * @param name Database name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canInspect(name: string, namespace?: readonly string[] | null): boolean {
    return this.#db(name, namespace, (grant) => grant.inspect);
  }

  /**
   * Whether the tables of database `name` may be listed.
   *
   * @param name Database name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canListTables(name: string, namespace?: readonly string[] | null): boolean {
    return this.#db(name, namespace, (grant) => grant.listTables);
  }

  /**
   * Whether SQL may be run against database `name`.
   *
   * @param name Database name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canExecute(name: string, namespace?: readonly string[] | null): boolean {
    return this.#db(name, namespace, (grant) => grant.execute);
  }

  /**
   * Whether rows of `table` in `database` may be read.
   *
   * @param database Database name.
   * @param table Table name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canRead(database: string, table: string, namespace?: readonly string[] | null): boolean {
    return this.#table(database, table, namespace, (grant) => grant.read);
  }

  /**
   * Whether rows of `table` in `database` may be written.
   *
   * @param database Database name.
   * @param table Table name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canWrite(database: string, table: string, namespace?: readonly string[] | null): boolean {
    return this.#table(database, table, namespace, (grant) => grant.write);
  }

  /**
   * Whether the schema of `table` in `database` may be changed.
   *
   * @param database Database name.
   * @param table Table name.
   * @param namespace Namespace.
   * @returns The decision.
   */
  canAlter(database: string, table: string, namespace?: readonly string[] | null): boolean {
    return this.#table(database, table, namespace, (grant) => grant.alter);
  }
}
