// ApiScope: the object carried in a participant token's `api` grant (spec §3.3).
//
// Wire rules, applied by every class here:
// - A top-level key that is absent (or null) means that API surface is DENIED; `{}` means the
//   grant with all defaults.
// - Inside a grant, an allow-list that is null/absent means "unrestricted".
// - `toJson()` writes only fields that differ from the default, in snake_case, so the common
//   value is `{}`. `fromJson()` accepts snake_case and the camelCase spellings the TS client
//   accepts (`registerAgent`, `readOnly`, ...), and `database`/`datasets` as aliases of `dataset`.
// - Values of the wrong type are rejected with an `ApiScopeError` (fail closed) instead of being
//   read as "unrestricted".

/**
 * Thrown when an `api` grant scope (or one of its nested grants) has the wrong shape.
 *
 * `path` names the offending field, e.g. `queues.send` or `sqlite.databases[0].name`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => ApiScope.fromJson({ queues: { send: "jobs" } }),
 *   (error: unknown) => error instanceof ApiScopeError && error.path === "queues.send",
 * );
 * ```
 */
export class ApiScopeError extends Error {
  /** Dotted path of the field that is wrong, e.g. `queues.send`. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param path Dotted path of the offending field.
   * @param message What is wrong and what to send instead.
   */
  constructor(path: string, message: string) {
    super(`invalid api scope at ${path}: ${message}`);
    this.name = "ApiScopeError";
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------------
// private helpers

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads `snake` (or `camel`); null counts as absent. */
function field(obj: JsonRecord, snake: string, camel?: string): unknown {
  const value = obj[snake];
  if (value !== undefined && value !== null) return value;
  if (camel !== undefined) {
    const alt = obj[camel];
    if (alt !== undefined && alt !== null) return alt;
  }
  return undefined;
}

function asRecord(value: unknown, path: string): JsonRecord {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    throw new ApiScopeError(path, `expected an object, got ${describe(value)}`);
  }
  return value;
}

function readBool(
  obj: JsonRecord,
  path: string,
  snake: string,
  camel: string | undefined,
  fallback: boolean,
): boolean {
  const value = field(obj, snake, camel);
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new ApiScopeError(`${path}.${snake}`, `expected true or false, got ${describe(value)}`);
  }
  return value;
}

function readString(obj: JsonRecord, path: string, key: string): string {
  const value = obj[key];
  if (typeof value !== "string") {
    throw new ApiScopeError(`${path}.${key}`, `expected a string, got ${describe(value)}`);
  }
  return value;
}

function readStringList(
  obj: JsonRecord,
  path: string,
  snake: string,
  camel?: string,
): string[] | null {
  const value = field(obj, snake, camel);
  if (value === undefined) return null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new ApiScopeError(
      `${path}.${snake}`,
      `expected an array of strings or null, got ${describe(value)}`,
    );
  }
  return [...value];
}

function readList<T>(
  obj: JsonRecord,
  path: string,
  snake: string,
  camel: string | undefined,
  parse: (item: unknown, itemPath: string) => T,
): T[] | null {
  const value = field(obj, snake, camel);
  if (value === undefined) return null;
  if (!Array.isArray(value)) {
    throw new ApiScopeError(
      `${path}.${snake}`,
      `expected an array or null, got ${describe(value)}`,
    );
  }
  return value.map((item, index) => parse(item, `${path}.${snake}[${index}]`));
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `a ${typeof value}`;
}

function copyList(list: readonly string[] | null | undefined): readonly string[] | null {
  return list === undefined || list === null ? null : Object.freeze([...list]);
}

/** `null` allow-list = unrestricted; otherwise exact match or a trailing `*` prefix match. */
function matchesPattern(
  patterns: readonly string[] | null,
  value: string,
  allowIfUnset: boolean,
): boolean {
  if (patterns === null) return allowIfUnset;
  return patterns.some((pattern) =>
    pattern === value || (pattern.endsWith("*") && value.startsWith(pattern.slice(0, -1)))
  );
}

function namespacesEqual(
  left: readonly string[] | null | undefined,
  right: readonly string[] | null | undefined,
): boolean {
  const a = left ?? [];
  const b = right ?? [];
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** A grant without a namespace matches any namespace; with one, only exactly that namespace. */
function namespaceMatches(
  grantNamespace: readonly string[] | null,
  namespace: readonly string[] | null | undefined,
): boolean {
  return grantNamespace === null || namespacesEqual(grantNamespace, namespace);
}

// ---------------------------------------------------------------------------------------------
// livekit

/**
 * `livekit` grant: access to the media (LiveKit) room and its breakout rooms.
 *
 * JSON: `{ breakout_rooms?: string[] }`; absent = any breakout room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = LivekitGrant.fromJson({ breakout_rooms: ["a"] });
 * assert.equal(grant.canJoinBreakoutRoom("a"), true);
 * assert.equal(grant.canJoinBreakoutRoom("b"), false);
 * assert.equal(new LivekitGrant().canJoinBreakoutRoom("b"), true);
 * ```
 */
export class LivekitGrant {
  /** Breakout rooms that may be joined; null = any. */
  readonly breakoutRooms: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options `breakoutRooms`: allow-list of breakout room names (null = any).
   */
  constructor(options: { breakoutRooms?: readonly string[] | null } = {}) {
    this.breakoutRooms = copyList(options.breakoutRooms);
  }

  /**
   * Whether the breakout room `name` may be joined.
   *
   * @param name Breakout room name.
   * @returns true when the allow-list is unset or contains `name`.
   */
  canJoinBreakoutRoom(name: string): boolean {
    return this.breakoutRooms === null || this.breakoutRooms.includes(name);
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.breakoutRooms !== null) json.breakout_rooms = [...this.breakoutRooms];
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `livekit` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "livekit"): LivekitGrant {
    const obj = asRecord(json, path);
    return new LivekitGrant({
      breakoutRooms: readStringList(obj, path, "breakout_rooms", "breakoutRooms"),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// queues

/**
 * `queues` grant: which queues may be sent to, received from, and whether queues may be listed.
 *
 * JSON: `{ send?: string[], receive?: string[], list?: boolean (true) }`; an absent list = all queues.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = QueuesGrant.fromJson({ send: ["jobs"] });
 * assert.equal(grant.canSend("jobs"), true);
 * assert.equal(grant.canSend("other"), false);
 * assert.equal(grant.canReceive("other"), true);
 * assert.equal(grant.canList(), true);
 * assert.deepEqual(new QueuesGrant().toJson(), {});
 * ```
 */
export class QueuesGrant {
  /** Queue names that may be sent to; null = all. */
  readonly send: readonly string[] | null;
  /** Queue names that may be received from; null = all. */
  readonly receive: readonly string[] | null;
  /** Whether `queues.list` is allowed (default true). */
  readonly list: boolean;

  /**
   * Creates the grant.
   *
   * @param options Allow-lists (`null` = all queues) and the `list` flag (default true).
   */
  constructor(
    options: {
      send?: readonly string[] | null;
      receive?: readonly string[] | null;
      list?: boolean;
    } = {},
  ) {
    this.send = copyList(options.send);
    this.receive = copyList(options.receive);
    this.list = options.list ?? true;
  }

  /**
   * Whether messages may be sent to queue `name`.
   *
   * @param name Queue name.
   * @returns true when `send` is unset or contains `name`.
   */
  canSend(name: string): boolean {
    return this.send === null || this.send.includes(name);
  }

  /**
   * Whether messages may be received from queue `name`.
   *
   * @param name Queue name.
   * @returns true when `receive` is unset or contains `name`.
   */
  canReceive(name: string): boolean {
    return this.receive === null || this.receive.includes(name);
  }

  /**
   * Whether `queues.list` is allowed.
   *
   * @returns The `list` flag.
   */
  canList(): boolean {
    return this.list;
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.send !== null) json.send = [...this.send];
    if (this.receive !== null) json.receive = [...this.receive];
    if (this.list !== true) json.list = this.list;
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `queues` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "queues"): QueuesGrant {
    const obj = asRecord(json, path);
    return new QueuesGrant({
      send: readStringList(obj, path, "send"),
      receive: readStringList(obj, path, "receive"),
      list: readBool(obj, path, "list", undefined, true),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// messaging

/**
 * `messaging` grant: direct messages, broadcasts and participant presence.
 *
 * JSON: `{ broadcast?: boolean (true), list?: boolean (true), send?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = MessagingGrant.fromJson({ broadcast: false });
 * assert.equal(grant.broadcast, false);
 * assert.equal(grant.send, true);
 * assert.deepEqual(grant.toJson(), { broadcast: false });
 * ```
 */
export class MessagingGrant {
  /** `messaging.broadcast` allowed (default true). */
  readonly broadcast: boolean;
  /** Participant discovery / presence data delivered (default true). */
  readonly list: boolean;
  /** `messaging.send` (and `messaging.stream`) allowed (default true). */
  readonly send: boolean;

  /**
   * Creates the grant.
   *
   * @param options Flags; each defaults to true.
   */
  constructor(options: { broadcast?: boolean; list?: boolean; send?: boolean } = {}) {
    this.broadcast = options.broadcast ?? true;
    this.list = options.list ?? true;
    this.send = options.send ?? true;
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.broadcast !== true) json.broadcast = this.broadcast;
    if (this.list !== true) json.list = this.list;
    if (this.send !== true) json.send = this.send;
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `messaging` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "messaging"): MessagingGrant {
    const obj = asRecord(json, path);
    return new MessagingGrant({
      broadcast: readBool(obj, path, "broadcast", undefined, true),
      list: readBool(obj, path, "list", undefined, true),
      send: readBool(obj, path, "send", undefined, true),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// dataset

/**
 * One table entry of a {@linkcode DatasetGrant}.
 *
 * JSON: `{ name, namespace?: string[], read?: boolean (true), write?: boolean (false),
 * alter?: boolean (false) }`. Without `namespace` it matches the table in any namespace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const table = TableGrant.fromJson({ name: "docs", write: true });
 * assert.equal(table.read, true);
 * assert.equal(table.write, true);
 * assert.deepEqual(table.toJson(), { name: "docs", write: true });
 * ```
 */
export class TableGrant {
  /** Table name. */
  readonly name: string;
  /** Namespace the grant is limited to; null = any namespace. */
  readonly namespace: readonly string[] | null;
  /** Read rows (default true). */
  readonly read: boolean;
  /** Insert/update/delete rows (default false). */
  readonly write: boolean;
  /** Change the table's schema (default false). */
  readonly alter: boolean;

  /**
   * Creates the table grant.
   *
   * @param options Table name, optional namespace and flags.
   */
  constructor(options: {
    name: string;
    namespace?: readonly string[] | null;
    read?: boolean;
    write?: boolean;
    alter?: boolean;
  }) {
    this.name = options.name;
    this.namespace = copyList(options.namespace);
    this.read = options.read ?? true;
    this.write = options.write ?? false;
    this.alter = options.alter ?? false;
  }

  /**
   * Whether this entry applies to `table` in `namespace`.
   *
   * @param table Table name.
   * @param namespace Namespace of the table (absent = root namespace).
   * @returns true when the name matches and the namespace matches (or is unrestricted).
   */
  matches(table: string, namespace?: readonly string[] | null): boolean {
    return this.name === table && namespaceMatches(this.namespace, namespace);
  }

  /**
   * Serialises `name` plus the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = { name: this.name };
    if (this.namespace !== null) json.namespace = [...this.namespace];
    if (this.read !== true) json.read = this.read;
    if (this.write !== false) json.write = this.write;
    if (this.alter !== false) json.alter = this.alter;
    return json;
  }

  /**
   * Parses the wire JSON.
   *
   * @param json One element of `dataset.tables`.
   * @param path Field path used in error messages.
   * @returns The table grant.
   * @throws {ApiScopeError} When `name` is missing or a field has the wrong type.
   */
  static fromJson(json: unknown, path = "dataset.tables[]"): TableGrant {
    if (!isRecord(json)) {
      throw new ApiScopeError(path, `expected an object with a name, got ${describe(json)}`);
    }
    return new TableGrant({
      name: readString(json, path, "name"),
      namespace: readStringList(json, path, "namespace"),
      read: readBool(json, path, "read", undefined, true),
      write: readBool(json, path, "write", undefined, false),
      alter: readBool(json, path, "alter", undefined, false),
    });
  }
}

/**
 * `dataset` grant (also accepted as `database` / `datasets` on input): table-level access to the
 * room's datasets.
 *
 * JSON: `{ tables?: TableGrant[], list_tables?: boolean (true) }`. When `tables` is set, tables
 * it does not name are denied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = DatasetGrant.fromJson({ tables: [{ name: "docs", namespace: ["a"] }] });
 * assert.equal(grant.canRead("docs", ["a"]), true);
 * assert.equal(grant.canRead("docs", ["b"]), false);
 * assert.equal(grant.canWrite("docs", ["a"]), false);
 * assert.equal(grant.canRead("other"), false);
 * assert.equal(new DatasetGrant().canWrite("anything"), true);
 * ```
 */
export class DatasetGrant {
  /** Table grants; null = every table, with every permission. */
  readonly tables: readonly TableGrant[] | null;
  /** `dataset.list_tables` allowed (default true). */
  readonly listTables: boolean;

  /**
   * Creates the grant.
   *
   * @param options `tables` (null = all tables) and `listTables` (default true).
   */
  constructor(options: { tables?: readonly TableGrant[] | null; listTables?: boolean } = {}) {
    this.tables = options.tables ? Object.freeze([...options.tables]) : null;
    this.listTables = options.listTables ?? true;
  }

  #check(
    table: string,
    namespace: readonly string[] | null | undefined,
    pick: (grant: TableGrant) => boolean,
  ): boolean {
    if (this.tables === null) return true;
    return this.tables.some((grant) => grant.matches(table, namespace) && pick(grant));
  }

  /**
   * Whether rows of `table` may be read.
   *
   * @param table Table name.
   * @param namespace Table namespace.
   * @returns The decision.
   */
  canRead(table: string, namespace?: readonly string[] | null): boolean {
    return this.#check(table, namespace, (grant) => grant.read);
  }

  /**
   * Whether rows of `table` may be written.
   *
   * @param table Table name.
   * @param namespace Table namespace.
   * @returns The decision.
   */
  canWrite(table: string, namespace?: readonly string[] | null): boolean {
    return this.#check(table, namespace, (grant) => grant.write);
  }

  /**
   * Whether the schema of `table` may be changed (create, drop, add columns, indexes, ...).
   *
   * @param table Table name.
   * @param namespace Table namespace.
   * @returns The decision.
   */
  canAlter(table: string, namespace?: readonly string[] | null): boolean {
    return this.#check(table, namespace, (grant) => grant.alter);
  }

  /**
   * Whether `table` may be touched at all (read, write or alter).
   *
   * @param table Table name.
   * @param namespace Table namespace.
   * @returns The decision.
   */
  canAccess(table: string, namespace?: readonly string[] | null): boolean {
    return this.#check(table, namespace, (grant) => grant.read || grant.write || grant.alter);
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.tables !== null) json.tables = this.tables.map((table) => table.toJson());
    if (this.listTables !== true) json.list_tables = this.listTables;
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `dataset` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "dataset"): DatasetGrant {
    const obj = asRecord(json, path);
    return new DatasetGrant({
      tables: readList(obj, path, "tables", undefined, (item, p) => TableGrant.fromJson(item, p)),
      listTables: readBool(obj, path, "list_tables", "listTables", true),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// sqlite

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
export class SqliteTableGrant {
  /** Database the table belongs to. */
  readonly database: string;
  /** Table name. */
  readonly table: string;
  /** Namespace the grant is limited to; null = any. */
  readonly namespace: readonly string[] | null;
  /** Read rows (default true). */
  readonly read: boolean;
  /** Write rows (default false, see the class notes). */
  readonly write: boolean;
  /** Change the table's schema (default false). */
  readonly alter: boolean;

  /**
   * Creates the table grant.
   *
   * @param options Database and table names, optional namespace and flags.
   */
  constructor(options: {
    database: string;
    table: string;
    namespace?: readonly string[] | null;
    read?: boolean;
    write?: boolean;
    alter?: boolean;
  }) {
    this.database = options.database;
    this.table = options.table;
    this.namespace = copyList(options.namespace);
    this.read = options.read ?? true;
    this.write = options.write ?? false;
    this.alter = options.alter ?? false;
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
   * Serialises `database`, `table` and the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = { database: this.database, table: this.table };
    if (this.namespace !== null) json.namespace = [...this.namespace];
    if (this.read !== true) json.read = this.read;
    if (this.write !== false) json.write = this.write;
    if (this.alter !== false) json.alter = this.alter;
    return json;
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
  static fromJson(json: unknown, path = "sqlite.tables[]", database?: string): SqliteTableGrant {
    if (!isRecord(json)) {
      throw new ApiScopeError(path, `expected an object with a table, got ${describe(json)}`);
    }
    const db = json.database === undefined || json.database === null
      ? database
      : readString(json, path, "database");
    if (db === undefined) {
      throw new ApiScopeError(`${path}.database`, "expected a string, got undefined");
    }
    return new SqliteTableGrant({
      database: db,
      table: readString(json, path, "table"),
      namespace: readStringList(json, path, "namespace"),
      read: readBool(json, path, "read", undefined, true),
      write: readBool(json, path, "write", undefined, false),
      alter: readBool(json, path, "alter", undefined, false),
    });
  }
}

/**
 * One database entry of a {@linkcode SqliteGrant}.
 *
 * JSON: `{ name, namespace?: string[], create_table? (true), drop? (false), inspect? (true),
 * list_tables? (true), execute? (true), tables?: SqliteTableGrant[] }`. When `tables` is null,
 * every table in the database is readable and writable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = SqliteDatabaseGrant.fromJson({ name: "main", drop: true });
 * assert.equal(db.drop, true);
 * assert.equal(db.execute, true);
 * assert.deepEqual(db.toJson(), { name: "main", drop: true });
 * ```
 */
export class SqliteDatabaseGrant {
  /** Database name. */
  readonly name: string;
  /** Namespace the grant is limited to; null = any. */
  readonly namespace: readonly string[] | null;
  /** Create tables (default true). */
  readonly createTable: boolean;
  /** Drop the database or its tables (default false). */
  readonly drop: boolean;
  /** Inspect the database and its tables (default true). */
  readonly inspect: boolean;
  /** List tables (default true). */
  readonly listTables: boolean;
  /** Run SQL (default true). */
  readonly execute: boolean;
  /** Per-table grants; null = all tables with full row access. */
  readonly tables: readonly SqliteTableGrant[] | null;

  /**
   * Creates the database grant.
   *
   * @param options Database name, optional namespace, flags and table grants.
   */
  constructor(options: {
    name: string;
    namespace?: readonly string[] | null;
    createTable?: boolean;
    drop?: boolean;
    inspect?: boolean;
    listTables?: boolean;
    execute?: boolean;
    tables?: readonly SqliteTableGrant[] | null;
  }) {
    this.name = options.name;
    this.namespace = copyList(options.namespace);
    this.createTable = options.createTable ?? true;
    this.drop = options.drop ?? false;
    this.inspect = options.inspect ?? true;
    this.listTables = options.listTables ?? true;
    this.execute = options.execute ?? true;
    this.tables = options.tables ? Object.freeze([...options.tables]) : null;
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

  /**
   * Serialises `name` plus the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = { name: this.name };
    if (this.namespace !== null) json.namespace = [...this.namespace];
    if (this.createTable !== true) json.create_table = this.createTable;
    if (this.drop !== false) json.drop = this.drop;
    if (this.inspect !== true) json.inspect = this.inspect;
    if (this.listTables !== true) json.list_tables = this.listTables;
    if (this.execute !== true) json.execute = this.execute;
    if (this.tables !== null) json.tables = this.tables.map((table) => table.toJson());
    return json;
  }

  /**
   * Parses the wire JSON. Table entries without `database` inherit this database's name.
   *
   * @param json One element of `sqlite.databases`.
   * @param path Field path used in error messages.
   * @returns The database grant.
   * @throws {ApiScopeError} When `name` is missing or a field has the wrong type.
   */
  static fromJson(json: unknown, path = "sqlite.databases[]"): SqliteDatabaseGrant {
    if (!isRecord(json)) {
      throw new ApiScopeError(path, `expected an object with a name, got ${describe(json)}`);
    }
    const name = readString(json, path, "name");
    return new SqliteDatabaseGrant({
      name,
      namespace: readStringList(json, path, "namespace"),
      createTable: readBool(json, path, "create_table", "createTable", true),
      drop: readBool(json, path, "drop", undefined, false),
      inspect: readBool(json, path, "inspect", undefined, true),
      listTables: readBool(json, path, "list_tables", "listTables", true),
      execute: readBool(json, path, "execute", undefined, true),
      tables: readList(
        json,
        path,
        "tables",
        undefined,
        (item, p) => SqliteTableGrant.fromJson(item, p, name),
      ),
    });
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
export class SqliteGrant {
  /** Database grants; null = all databases, all permissions. */
  readonly databases: readonly SqliteDatabaseGrant[] | null;
  /** `sqlite.create_database` allowed (default true). */
  readonly createDatabase: boolean;
  /** `sqlite.list_databases` allowed (default true). */
  readonly listDatabases: boolean;

  /**
   * Creates the grant.
   *
   * @param options `databases` (null = all), `createDatabase` and `listDatabases` (default true).
   */
  constructor(
    options: {
      databases?: readonly SqliteDatabaseGrant[] | null;
      createDatabase?: boolean;
      listDatabases?: boolean;
    } = {},
  ) {
    this.databases = options.databases ? Object.freeze([...options.databases]) : null;
    this.createDatabase = options.createDatabase ?? true;
    this.listDatabases = options.listDatabases ?? true;
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

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.databases !== null) json.databases = this.databases.map((db) => db.toJson());
    if (this.createDatabase !== true) json.create_database = this.createDatabase;
    if (this.listDatabases !== true) json.list_databases = this.listDatabases;
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `sqlite` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "sqlite"): SqliteGrant {
    const obj = asRecord(json, path);
    return new SqliteGrant({
      databases: readList(
        obj,
        path,
        "databases",
        undefined,
        (item, p) => SqliteDatabaseGrant.fromJson(item, p),
      ),
      createDatabase: readBool(obj, path, "create_database", "createDatabase", true),
      listDatabases: readBool(obj, path, "list_databases", "listDatabases", true),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// memory

/**
 * One of the permission names of {@linkcode MemoryPermissions}.
 *
 * @example
 * ```ts
 * const permission: MemoryPermission = "recall";
 * ```
 */
export type MemoryPermission =
  | "create"
  | "drop"
  | "inspect"
  | "query"
  | "upsert"
  | "ingest"
  | "recall"
  | "optimize";

const MEMORY_PERMISSIONS: readonly MemoryPermission[] = [
  "create",
  "drop",
  "inspect",
  "query",
  "upsert",
  "ingest",
  "recall",
  "optimize",
];

/**
 * The permissions of one memory entry; all default to true.
 *
 * JSON: `{ create?, drop?, inspect?, query?, upsert?, ingest?, recall?, optimize? }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const permissions = MemoryPermissions.fromJson({ drop: false });
 * assert.equal(permissions.drop, false);
 * assert.equal(permissions.recall, true);
 * assert.deepEqual(permissions.toJson(), { drop: false });
 * ```
 */
export class MemoryPermissions {
  /** Create the memory. */
  readonly create: boolean;
  /** Drop the memory. */
  readonly drop: boolean;
  /** Inspect the memory. */
  readonly inspect: boolean;
  /** Query the memory. */
  readonly query: boolean;
  /** Upsert tables, nodes and relationships. */
  readonly upsert: boolean;
  /** Ingest text, images, files, tables and storage. */
  readonly ingest: boolean;
  /** Recall. */
  readonly recall: boolean;
  /** Optimize. */
  readonly optimize: boolean;

  /**
   * Creates the permissions.
   *
   * @param options Flags; each defaults to true.
   */
  constructor(options: Partial<Record<MemoryPermission, boolean>> = {}) {
    this.create = options.create ?? true;
    this.drop = options.drop ?? true;
    this.inspect = options.inspect ?? true;
    this.query = options.query ?? true;
    this.upsert = options.upsert ?? true;
    this.ingest = options.ingest ?? true;
    this.recall = options.recall ?? true;
    this.optimize = options.optimize ?? true;
  }

  /**
   * Serialises the non-default (false) fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    for (const key of MEMORY_PERMISSIONS) {
      if (this[key] !== true) json[key] = this[key];
    }
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields default to true).
   *
   * @param json A `permissions` object.
   * @param path Field path used in error messages.
   * @returns The permissions.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "memory.memories[].permissions"): MemoryPermissions {
    const obj = asRecord(json, path);
    const options: Partial<Record<MemoryPermission, boolean>> = {};
    for (const key of MEMORY_PERMISSIONS) options[key] = readBool(obj, path, key, undefined, true);
    return new MemoryPermissions(options);
  }
}

/**
 * One memory entry of a {@linkcode MemoryGrant}.
 *
 * JSON: `{ name, namespace?: string[], permissions: MemoryPermissions }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const entry = MemoryEntryGrant.fromJson({ name: "facts", permissions: { drop: false } });
 * assert.equal(entry.permissions.drop, false);
 * assert.deepEqual(entry.toJson(), { name: "facts", permissions: { drop: false } });
 * ```
 */
export class MemoryEntryGrant {
  /** Memory name. */
  readonly name: string;
  /** Namespace the grant is limited to; null = any. */
  readonly namespace: readonly string[] | null;
  /** What may be done with the memory. */
  readonly permissions: MemoryPermissions;

  /**
   * Creates the entry.
   *
   * @param options Memory name, optional namespace and permissions (default: all).
   */
  constructor(options: {
    name: string;
    namespace?: readonly string[] | null;
    permissions?: MemoryPermissions;
  }) {
    this.name = options.name;
    this.namespace = copyList(options.namespace);
    this.permissions = options.permissions ?? new MemoryPermissions();
  }

  /**
   * Whether this entry applies to memory `name` in `namespace`.
   *
   * @param name Memory name.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  matches(name: string, namespace?: readonly string[] | null): boolean {
    return this.name === name && namespaceMatches(this.namespace, namespace);
  }

  /**
   * Serialises the entry (`permissions` is always written, as the official clients do).
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = { name: this.name };
    if (this.namespace !== null) json.namespace = [...this.namespace];
    json.permissions = this.permissions.toJson();
    return json;
  }

  /**
   * Parses the wire JSON.
   *
   * @param json One element of `memory.memories`.
   * @param path Field path used in error messages.
   * @returns The entry.
   * @throws {ApiScopeError} When `name` is missing or a field has the wrong type.
   */
  static fromJson(json: unknown, path = "memory.memories[]"): MemoryEntryGrant {
    if (!isRecord(json)) {
      throw new ApiScopeError(path, `expected an object with a name, got ${describe(json)}`);
    }
    return new MemoryEntryGrant({
      name: readString(json, path, "name"),
      namespace: readStringList(json, path, "namespace"),
      permissions: MemoryPermissions.fromJson(json.permissions, `${path}.permissions`),
    });
  }
}

/**
 * `memory` grant: the room's memories (knowledge graphs).
 *
 * JSON: `{ list?: boolean (true), memories?: MemoryEntryGrant[] }`; `memories` null = all
 * memories with all permissions, otherwise unnamed memories are denied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = MemoryGrant.fromJson({
 *   memories: [{ name: "facts", permissions: { drop: false } }],
 * });
 * assert.equal(grant.can("facts", "recall"), true);
 * assert.equal(grant.can("facts", "drop"), false);
 * assert.equal(grant.can("other", "recall"), false);
 * assert.equal(new MemoryGrant().can("other", "drop"), true);
 * ```
 */
export class MemoryGrant {
  /** `memory.list` allowed (default true). */
  readonly list: boolean;
  /** Memory entries; null = all memories, all permissions. */
  readonly memories: readonly MemoryEntryGrant[] | null;

  /**
   * Creates the grant.
   *
   * @param options `list` (default true) and `memories` (null = all).
   */
  constructor(options: { list?: boolean; memories?: readonly MemoryEntryGrant[] | null } = {}) {
    this.list = options.list ?? true;
    this.memories = options.memories ? Object.freeze([...options.memories]) : null;
  }

  /**
   * Whether `permission` is granted on memory `name`.
   *
   * @param name Memory name.
   * @param permission The permission to check.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  can(name: string, permission: MemoryPermission, namespace?: readonly string[] | null): boolean {
    if (this.memories === null) return true;
    return this.memories.some((entry) =>
      entry.matches(name, namespace) && entry.permissions[permission]
    );
  }

  /**
   * Whether an existing memory may be used in any way other than creating it.
   *
   * @param name Memory name.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  canAccessExisting(name: string, namespace?: readonly string[] | null): boolean {
    return MEMORY_PERMISSIONS.some((permission) =>
      permission !== "create" && this.can(name, permission, namespace)
    );
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.list !== true) json.list = this.list;
    if (this.memories !== null) json.memories = this.memories.map((entry) => entry.toJson());
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `memory` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "memory"): MemoryGrant {
    const obj = asRecord(json, path);
    return new MemoryGrant({
      list: readBool(obj, path, "list", undefined, true),
      memories: readList(
        obj,
        path,
        "memories",
        undefined,
        (item, p) => MemoryEntryGrant.fromJson(item, p),
      ),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// sync and storage

/**
 * A path entry of {@linkcode SyncGrant} or {@linkcode StorageGrant}.
 *
 * JSON: `{ path, read_only?: boolean (false) }` (`readOnly` accepted on input).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = PathGrant.fromJson({ path: "docs/", readOnly: true });
 * assert.equal(grant.readOnly, true);
 * assert.deepEqual(grant.toJson(), { path: "docs/", read_only: true });
 * ```
 */
export class PathGrant {
  /** Path or path pattern. */
  readonly path: string;
  /** Read only (default false). */
  readonly readOnly: boolean;

  /**
   * Creates the entry.
   *
   * @param options The path and `readOnly` (default false).
   */
  constructor(options: { path: string; readOnly?: boolean }) {
    this.path = options.path;
    this.readOnly = options.readOnly ?? false;
  }

  /**
   * Serialises `path` plus `read_only` when true.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = { path: this.path };
    if (this.readOnly !== false) json.read_only = this.readOnly;
    return json;
  }

  /**
   * Parses the wire JSON.
   *
   * @param json One element of `paths`.
   * @param path Field path used in error messages.
   * @returns The entry.
   * @throws {ApiScopeError} When `path` is missing or a field has the wrong type.
   */
  static fromJson(json: unknown, path = "paths[]"): PathGrant {
    if (!isRecord(json)) {
      throw new ApiScopeError(path, `expected an object with a path, got ${describe(json)}`);
    }
    return new PathGrant({
      path: readString(json, path, "path"),
      readOnly: readBool(json, path, "read_only", "readOnly", false),
    });
  }
}

type PathMatcher = (grant: PathGrant, path: string) => boolean;

function pathsCanRead(
  paths: readonly PathGrant[] | null,
  path: string,
  match: PathMatcher,
): boolean {
  return paths === null || paths.some((grant) => match(grant, path));
}

/** The first matching entry decides, as in the official TS client. */
function pathsCanWrite(
  paths: readonly PathGrant[] | null,
  path: string,
  match: PathMatcher,
): boolean {
  if (paths === null) return true;
  const first = paths.find((grant) => match(grant, path));
  return first !== undefined && !first.readOnly;
}

function pathsToJson(paths: readonly PathGrant[] | null): Record<string, unknown> {
  return paths !== null ? { paths: paths.map((grant) => grant.toJson()) } : {};
}

function readPaths(json: unknown, path: string): PathGrant[] | null {
  const obj = asRecord(json, path);
  return readList(obj, path, "paths", undefined, (item, p) => PathGrant.fromJson(item, p));
}

const syncMatch: PathMatcher = (grant, path) =>
  grant.path === path || (grant.path.endsWith("*") && path.startsWith(grant.path.slice(0, -1)));

const storageMatch: PathMatcher = (grant, path) => path.startsWith(grant.path);

/**
 * `sync` grant: which documents may be opened through `sync.*`.
 *
 * JSON: `{ paths?: [{path, read_only?}] }`. A `path` ending in `*` matches by prefix; any other
 * path must match exactly. For writes, the first matching entry decides.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = SyncGrant.fromJson({
 *   paths: [{ path: "notes/*" }, { path: "readme.md", read_only: true }],
 * });
 * assert.equal(grant.canWrite("notes/a.doc"), true);
 * assert.equal(grant.canRead("readme.md"), true);
 * assert.equal(grant.canWrite("readme.md"), false);
 * assert.equal(grant.canRead("readme.md.bak"), false);
 * ```
 */
export class SyncGrant {
  /** Path grants; null = every path, read and write. */
  readonly paths: readonly PathGrant[] | null;

  /**
   * Creates the grant.
   *
   * @param options `paths` (null = every path).
   */
  constructor(options: { paths?: readonly PathGrant[] | null } = {}) {
    this.paths = options.paths ? Object.freeze([...options.paths]) : null;
  }

  /**
   * Whether document `path` may be read.
   *
   * @param path The path, already normalised by the caller (no `..`, no leading `/`).
   * @returns true when `paths` is unset or any entry matches.
   */
  canRead(path: string): boolean {
    return pathsCanRead(this.paths, path, syncMatch);
  }

  /**
   * Whether document `path` may be written: the first matching entry must not be read-only.
   *
   * @param path The path, already normalised by the caller.
   * @returns The decision.
   */
  canWrite(path: string): boolean {
    return pathsCanWrite(this.paths, path, syncMatch);
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return pathsToJson(this.paths);
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `sync` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "sync"): SyncGrant {
    return new SyncGrant({ paths: readPaths(json, path) });
  }
}

/**
 * `storage` grant: which room files may be read and written.
 *
 * JSON: `{ paths?: [{path, read_only?}] }`. Matching is a plain prefix match
 * (`path.startsWith(grant.path)`), so grant `"docs/"` rather than `"docs"` to avoid also granting
 * `"docs-private/"`. Normalise the requested path (strip `/`, resolve `..`) before checking. For
 * writes, the first matching entry decides.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = StorageGrant.fromJson({ paths: [{ path: "public/", read_only: true }] });
 * assert.equal(grant.canRead("public/a.txt"), true);
 * assert.equal(grant.canWrite("public/a.txt"), false);
 * assert.equal(grant.canRead("private/a.txt"), false);
 * assert.equal(new StorageGrant().canWrite("anything"), true);
 * ```
 */
export class StorageGrant {
  /** Path grants; null = every path, read and write. */
  readonly paths: readonly PathGrant[] | null;

  /**
   * Creates the grant.
   *
   * @param options `paths` (null = every path).
   */
  constructor(options: { paths?: readonly PathGrant[] | null } = {}) {
    this.paths = options.paths ? Object.freeze([...options.paths]) : null;
  }

  /**
   * Whether file `path` may be read.
   *
   * @param path The path, already normalised by the caller (no `..`, no leading `/`).
   * @returns true when `paths` is unset or any entry is a prefix of it.
   */
  canRead(path: string): boolean {
    return pathsCanRead(this.paths, path, storageMatch);
  }

  /**
   * Whether file `path` may be written: the first matching entry must not be read-only.
   *
   * @param path The path, already normalised by the caller.
   * @returns The decision.
   */
  canWrite(path: string): boolean {
    return pathsCanWrite(this.paths, path, storageMatch);
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return pathsToJson(this.paths);
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `storage` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "storage"): StorageGrant {
    return new StorageGrant({ paths: readPaths(json, path) });
  }
}

// ---------------------------------------------------------------------------------------------
// containers

/**
 * The `registry` part of a {@linkcode ContainersGrant}: repository patterns (exact, or prefix
 * with a trailing `*`) for the room's container registry.
 *
 * JSON: `{ list?, pull?, run?, write? }`, each `string[]`; absent = unrestricted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const registry = ContainerRegistryGrant.fromJson({ pull: ["team/*"] });
 * assert.equal(registry.canPull("team/app"), true);
 * assert.equal(registry.canPull("other/app"), false);
 * assert.equal(registry.canList("team/app"), true);
 * assert.equal(registry.canWrite("other/app"), true);
 * ```
 */
export class ContainerRegistryGrant {
  /** Repositories that may be listed; null = derived from pull/run/write. */
  readonly list: readonly string[] | null;
  /** Repositories that may be pulled; null = any. */
  readonly pull: readonly string[] | null;
  /** Repositories that may be run; null = any. */
  readonly run: readonly string[] | null;
  /** Repositories that may be pushed to; null = any. */
  readonly write: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options Pattern lists; null = unrestricted.
   */
  constructor(
    options: {
      list?: readonly string[] | null;
      pull?: readonly string[] | null;
      run?: readonly string[] | null;
      write?: readonly string[] | null;
    } = {},
  ) {
    this.list = copyList(options.list);
    this.pull = copyList(options.pull);
    this.run = copyList(options.run);
    this.write = copyList(options.write);
  }

  /**
   * Whether `repository` may be listed: by `list` when set, otherwise by any of pull/run/write
   * that is set, otherwise always.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canList(repository: string): boolean {
    if (this.list !== null) return matchesPattern(this.list, repository, false);
    const lists = [this.pull, this.run, this.write].filter((list) => list !== null);
    if (lists.length === 0) return true;
    return lists.some((list) => matchesPattern(list, repository, false));
  }

  /**
   * Whether `repository` may be pulled.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canPull(repository: string): boolean {
    return matchesPattern(this.pull, repository, true);
  }

  /**
   * Whether images of `repository` may be run.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRun(repository: string): boolean {
    return matchesPattern(this.run, repository, true);
  }

  /**
   * Whether `repository` may be pushed to.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canWrite(repository: string): boolean {
    return matchesPattern(this.write, repository, true);
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.list !== null) json.list = [...this.list];
    if (this.pull !== null) json.pull = [...this.pull];
    if (this.run !== null) json.run = [...this.run];
    if (this.write !== null) json.write = [...this.write];
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `containers.registry` value.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "containers.registry"): ContainerRegistryGrant {
    const obj = asRecord(json, path);
    return new ContainerRegistryGrant({
      list: readStringList(obj, path, "list"),
      pull: readStringList(obj, path, "pull"),
      run: readStringList(obj, path, "run"),
      write: readStringList(obj, path, "write"),
    });
  }
}

/**
 * `containers` grant: running containers in the room.
 *
 * JSON: `{ use_containers? (true), logs? (true), pull?: string[], run?: string[],
 * registry?: ContainerRegistryGrant }`. Image patterns are exact or prefix with a trailing `*`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = ContainersGrant.fromJson({ run: ["python:*"], use_containers: true });
 * assert.equal(grant.canRun("python:3.12"), true);
 * assert.equal(grant.canRun("node:22"), false);
 * assert.equal(grant.canPull("node:22"), true);
 * assert.deepEqual(grant.toJson(), { run: ["python:*"] });
 * ```
 */
export class ContainersGrant {
  /** Use containers at all (default true). */
  readonly useContainers: boolean;
  /** Read container logs (default true). */
  readonly logs: boolean;
  /** Image tags that may be pulled; null = any. */
  readonly pull: readonly string[] | null;
  /** Image tags that may be run; null = any. */
  readonly run: readonly string[] | null;
  /** Registry permissions; null = unrestricted. */
  readonly registry: ContainerRegistryGrant | null;

  /**
   * Creates the grant.
   *
   * @param options Flags (default true), image pattern lists and registry grant.
   */
  constructor(
    options: {
      useContainers?: boolean;
      logs?: boolean;
      pull?: readonly string[] | null;
      run?: readonly string[] | null;
      registry?: ContainerRegistryGrant | null;
    } = {},
  ) {
    this.useContainers = options.useContainers ?? true;
    this.logs = options.logs ?? true;
    this.pull = copyList(options.pull);
    this.run = copyList(options.run);
    this.registry = options.registry ?? null;
  }

  /**
   * Whether image `tag` may be pulled.
   *
   * @param tag Image tag, e.g. `python:3.12`.
   * @returns The decision.
   */
  canPull(tag: string): boolean {
    return this.useContainers && matchesPattern(this.pull, tag, true);
  }

  /**
   * Whether image `tag` may be run.
   *
   * @param tag Image tag.
   * @returns The decision.
   */
  canRun(tag: string): boolean {
    return this.useContainers && matchesPattern(this.run, tag, true);
  }

  /**
   * Whether registry `repository` may be listed.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryList(repository: string): boolean {
    return this.registry === null || this.registry.canList(repository);
  }

  /**
   * Whether registry `repository` may be pulled.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryPull(repository: string): boolean {
    return this.registry === null || this.registry.canPull(repository);
  }

  /**
   * Whether registry `repository` may be run.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryRun(repository: string): boolean {
    return this.registry === null || this.registry.canRun(repository);
  }

  /**
   * Whether registry `repository` may be pushed to.
   *
   * @param repository Repository name.
   * @returns The decision.
   */
  canRegistryWrite(repository: string): boolean {
    return this.registry === null || this.registry.canWrite(repository);
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.useContainers !== true) json.use_containers = this.useContainers;
    if (this.logs !== true) json.logs = this.logs;
    if (this.pull !== null) json.pull = [...this.pull];
    if (this.run !== null) json.run = [...this.run];
    if (this.registry !== null) json.registry = this.registry.toJson();
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `containers` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "containers"): ContainersGrant {
    const obj = asRecord(json, path);
    const registry = field(obj, "registry");
    return new ContainersGrant({
      useContainers: readBool(obj, path, "use_containers", "useContainers", true),
      logs: readBool(obj, path, "logs", undefined, true),
      pull: readStringList(obj, path, "pull"),
      run: readStringList(obj, path, "run"),
      registry: registry === undefined
        ? null
        : ContainerRegistryGrant.fromJson(registry, `${path}.registry`),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// developer, agents, llm, admin, secrets, tunnels, services

/**
 * `developer` grant: developer logs (`developer.*`).
 *
 * JSON: `{ logs?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(DeveloperGrant.fromJson({}).logs, true);
 * assert.deepEqual(new DeveloperGrant({ logs: false }).toJson(), { logs: false });
 * ```
 */
export class DeveloperGrant {
  /** Emit and read developer logs (default true). */
  readonly logs: boolean;

  /**
   * Creates the grant.
   *
   * @param options `logs` (default true).
   */
  constructor(options: { logs?: boolean } = {}) {
    this.logs = options.logs ?? true;
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return this.logs !== true ? { logs: this.logs } : {};
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `developer` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "developer"): DeveloperGrant {
    const obj = asRecord(json, path);
    return new DeveloperGrant({ logs: readBool(obj, path, "logs", undefined, true) });
  }
}

/**
 * `agents` grant: registering, listing and calling toolkits and agents.
 *
 * JSON: `{ register_agent?, register_public_toolkit?, register_private_toolkit?, call?,
 * use_agents?, use_tools? (all true), allowed_toolkits?: string[] }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = AgentsGrant.fromJson({ allowed_toolkits: ["search"], registerPublicToolkit: false });
 * assert.equal(grant.canCallToolkit("search"), true);
 * assert.equal(grant.canCallToolkit("shell"), false);
 * assert.equal(grant.canRegisterToolkit(true), false);
 * assert.equal(grant.canRegisterToolkit(false), true);
 * assert.deepEqual(grant.toJson(), {
 *   register_public_toolkit: false,
 *   allowed_toolkits: ["search"],
 * });
 * ```
 */
export class AgentsGrant {
  /** Register an agent (default true). */
  readonly registerAgent: boolean;
  /** Register a public toolkit (default true). */
  readonly registerPublicToolkit: boolean;
  /** Register a private toolkit (default true). */
  readonly registerPrivateToolkit: boolean;
  /** Invoke tools of participant toolkits and `room.call` (default true). */
  readonly call: boolean;
  /** Use agents (default true). */
  readonly useAgents: boolean;
  /** List toolkits (default true). */
  readonly useTools: boolean;
  /** Toolkits that may be called; null = any. */
  readonly allowedToolkits: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options Flags (default true) and `allowedToolkits` (null = any).
   */
  constructor(
    options: {
      registerAgent?: boolean;
      registerPublicToolkit?: boolean;
      registerPrivateToolkit?: boolean;
      call?: boolean;
      useAgents?: boolean;
      useTools?: boolean;
      allowedToolkits?: readonly string[] | null;
    } = {},
  ) {
    this.registerAgent = options.registerAgent ?? true;
    this.registerPublicToolkit = options.registerPublicToolkit ?? true;
    this.registerPrivateToolkit = options.registerPrivateToolkit ?? true;
    this.call = options.call ?? true;
    this.useAgents = options.useAgents ?? true;
    this.useTools = options.useTools ?? true;
    this.allowedToolkits = copyList(options.allowedToolkits);
  }

  /**
   * Whether tools of participant-hosted toolkit `name` may be invoked: `call` and, when set,
   * `allowed_toolkits` contains `name`.
   *
   * @param name Toolkit name.
   * @returns The decision.
   */
  canCallToolkit(name: string): boolean {
    return this.call && (this.allowedToolkits === null || this.allowedToolkits.includes(name));
  }

  /**
   * Whether a toolkit may be registered.
   *
   * @param isPublic Whether the registration is public.
   * @returns `registerPublicToolkit` or `registerPrivateToolkit`.
   */
  canRegisterToolkit(isPublic: boolean): boolean {
    return isPublic ? this.registerPublicToolkit : this.registerPrivateToolkit;
  }

  /**
   * Whether `room.list_toolkits` is allowed.
   *
   * @returns `useTools`.
   */
  canListToolkits(): boolean {
    return this.useTools;
  }

  /**
   * Whether `room.call` is allowed.
   *
   * @returns `call` and `useAgents`.
   */
  canCallAgents(): boolean {
    return this.call && this.useAgents;
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    if (this.registerAgent !== true) json.register_agent = this.registerAgent;
    if (this.registerPublicToolkit !== true) {
      json.register_public_toolkit = this.registerPublicToolkit;
    }
    if (this.registerPrivateToolkit !== true) {
      json.register_private_toolkit = this.registerPrivateToolkit;
    }
    if (this.call !== true) json.call = this.call;
    if (this.useAgents !== true) json.use_agents = this.useAgents;
    if (this.useTools !== true) json.use_tools = this.useTools;
    if (this.allowedToolkits !== null) json.allowed_toolkits = [...this.allowedToolkits];
    return json;
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `agents` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "agents"): AgentsGrant {
    const obj = asRecord(json, path);
    return new AgentsGrant({
      registerAgent: readBool(obj, path, "register_agent", "registerAgent", true),
      registerPublicToolkit: readBool(
        obj,
        path,
        "register_public_toolkit",
        "registerPublicToolkit",
        true,
      ),
      registerPrivateToolkit: readBool(
        obj,
        path,
        "register_private_toolkit",
        "registerPrivateToolkit",
        true,
      ),
      call: readBool(obj, path, "call", undefined, true),
      useAgents: readBool(obj, path, "use_agents", "useAgents", true),
      useTools: readBool(obj, path, "use_tools", "useTools", true),
      allowedToolkits: readStringList(obj, path, "allowed_toolkits", "allowedToolkits"),
    });
  }
}

/**
 * `llm` grant: the LLM proxy (HTTP, not the room socket).
 *
 * JSON: `{ models?: string[] }` with `provider/model` patterns (exact, or prefix with `*`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = LLMGrant.fromJson({ models: ["openai/gpt-5*"] });
 * assert.equal(grant.canUseModel("openai", "gpt-5-mini"), true);
 * assert.equal(grant.canUseModel("anthropic", "claude"), false);
 * assert.equal(grant.canUseProvider("openai"), true);
 * ```
 */
export class LLMGrant {
  /** Allowed `provider/model` patterns; null = any. */
  readonly models: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options `models` (null = any).
   */
  constructor(options: { models?: readonly string[] | null } = {}) {
    this.models = copyList(options.models);
  }

  /**
   * Whether any model of `provider` may be used.
   *
   * @param provider Provider name, e.g. `openai`.
   * @returns The decision (false for an empty provider).
   */
  canUseProvider(provider: string): boolean {
    const name = provider.trim();
    if (name === "") return false;
    if (this.models === null) return true;
    return this.models.some((pattern) => pattern.trim().startsWith(`${name}/`));
  }

  /**
   * Whether `provider/model` may be used.
   *
   * @param provider Provider name.
   * @param model Model name.
   * @returns The decision (false for an empty provider or model).
   */
  canUseModel(provider: string, model: string): boolean {
    const p = provider.trim();
    const m = model.trim();
    if (p === "" || m === "") return false;
    return matchesPattern(this.models, `${p}/${m}`, true);
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return this.models !== null ? { models: [...this.models] } : {};
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `llm` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "llm"): LLMGrant {
    const obj = asRecord(json, path);
    return new LLMGrant({ models: readStringList(obj, path, "models") });
  }
}

/**
 * `admin` grant: the admin configuration surface (REST).
 *
 * JSON: `{ config?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(AdminGrant.fromJson({}).config, true);
 * assert.deepEqual(new AdminGrant().toJson(), {});
 * ```
 */
export class AdminGrant {
  /** Change the configuration (default true). */
  readonly config: boolean;

  /**
   * Creates the grant.
   *
   * @param options `config` (default true).
   */
  constructor(options: { config?: boolean } = {}) {
    this.config = options.config ?? true;
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return this.config !== true ? { config: this.config } : {};
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `admin` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "admin"): AdminGrant {
    const obj = asRecord(json, path);
    return new AdminGrant({ config: readBool(obj, path, "config", undefined, true) });
  }
}

/**
 * An OAuth endpoint a {@linkcode SecretsGrant} may request tokens for.
 *
 * JSON: `{ endpoint, client_id }` (`clientId` accepted on input). `endpoint` may end with `*`
 * for a prefix match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const endpoint = OAuthEndpointGrant.fromJson({ endpoint: "https://idp/*", clientId: "app" });
 * assert.deepEqual(endpoint.toJson(), { endpoint: "https://idp/*", client_id: "app" });
 * ```
 */
export class OAuthEndpointGrant {
  /** Authorization endpoint (or prefix pattern ending in `*`). */
  readonly endpoint: string;
  /** OAuth client id. */
  readonly clientId: string;

  /**
   * Creates the entry.
   *
   * @param options Endpoint and client id.
   */
  constructor(options: { endpoint: string; clientId: string }) {
    this.endpoint = options.endpoint;
    this.clientId = options.clientId;
  }

  /**
   * Serialises the entry.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return { endpoint: this.endpoint, client_id: this.clientId };
  }

  /**
   * Parses the wire JSON.
   *
   * @param json One element of `secrets.request_oauth_token`.
   * @param path Field path used in error messages.
   * @returns The entry.
   * @throws {ApiScopeError} When `endpoint` or `client_id` is missing.
   */
  static fromJson(json: unknown, path = "secrets.request_oauth_token[]"): OAuthEndpointGrant {
    if (!isRecord(json)) {
      throw new ApiScopeError(path, `expected {endpoint, client_id}, got ${describe(json)}`);
    }
    const clientId = field(json, "client_id", "clientId");
    if (typeof clientId !== "string") {
      throw new ApiScopeError(`${path}.client_id`, `expected a string, got ${describe(clientId)}`);
    }
    return new OAuthEndpointGrant({ endpoint: readString(json, path, "endpoint"), clientId });
  }
}

/**
 * `secrets` grant: the room secret routes (HTTP).
 *
 * JSON: `{}`, or `{ request_oauth_token?: [{endpoint, client_id}] }` as the TS client writes it.
 * The Python SDK rejects any field here; we accept the TS field and ignore unknown ones, because
 * a server should not refuse a token minted by either client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = SecretsGrant.fromJson({
 *   request_oauth_token: [{ endpoint: "https://idp/authorize", client_id: "app" }],
 * });
 * assert.equal(grant.canRequestOauthToken("https://idp/authorize", "app"), true);
 * assert.equal(grant.canRequestOauthToken("https://idp/authorize", "other"), false);
 * assert.equal(new SecretsGrant().canRequestOauthToken("https://x", "y"), true);
 * ```
 */
export class SecretsGrant {
  /** OAuth endpoints tokens may be requested for; null = any. */
  readonly requestOauthToken: readonly OAuthEndpointGrant[] | null;

  /**
   * Creates the grant.
   *
   * @param options `requestOauthToken` (null = any).
   */
  constructor(options: { requestOauthToken?: readonly OAuthEndpointGrant[] | null } = {}) {
    this.requestOauthToken = options.requestOauthToken
      ? Object.freeze([...options.requestOauthToken])
      : null;
  }

  /**
   * Whether an OAuth token may be requested from `authorizationEndpoint` for `clientId`.
   *
   * @param authorizationEndpoint The authorization endpoint URL.
   * @param clientId The OAuth client id.
   * @returns The decision.
   */
  canRequestOauthToken(authorizationEndpoint: string, clientId: string): boolean {
    if (this.requestOauthToken === null) return true;
    const endpoint = authorizationEndpoint.trim();
    const client = clientId.trim();
    if (endpoint === "" || client === "") return false;
    return this.requestOauthToken.some((grant) =>
      grant.clientId === client && matchesPattern([grant.endpoint], endpoint, false)
    );
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return this.requestOauthToken !== null
      ? { request_oauth_token: this.requestOauthToken.map((grant) => grant.toJson()) }
      : {};
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `secrets` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "secrets"): SecretsGrant {
    const obj = asRecord(json, path);
    return new SecretsGrant({
      requestOauthToken: readList(
        obj,
        path,
        "request_oauth_token",
        "requestOauthToken",
        (item, p) => OAuthEndpointGrant.fromJson(item, p),
      ),
    });
  }
}

/**
 * `tunnels` grant: port-forward tunnels. Absent from the scope = no tunnels.
 *
 * JSON: `{ ports?: string[] }`; null or empty = every port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const grant = TunnelsGrant.fromJson({ ports: ["8080"] });
 * assert.equal(grant.canUsePort(8080), true);
 * assert.equal(grant.canUsePort("22"), false);
 * assert.equal(new TunnelsGrant({ ports: [] }).canUsePort(22), true);
 * ```
 */
export class TunnelsGrant {
  /** Allowed ports as strings; null or empty = all. */
  readonly ports: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options `ports` (null or empty = all).
   */
  constructor(options: { ports?: readonly string[] | null } = {}) {
    this.ports = copyList(options.ports);
  }

  /**
   * Whether a tunnel to `port` may be opened.
   *
   * @param port Port number or its string form.
   * @returns The decision.
   */
  canUsePort(port: number | string): boolean {
    if (this.ports === null || this.ports.length === 0) return true;
    return this.ports.includes(String(port).trim());
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return this.ports !== null ? { ports: [...this.ports] } : {};
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `tunnels` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "tunnels"): TunnelsGrant {
    const obj = asRecord(json, path);
    return new TunnelsGrant({ ports: readStringList(obj, path, "ports") });
  }
}

/**
 * `services` grant: room services.
 *
 * JSON: `{ list?: boolean (true) }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(ServicesGrant.fromJson({}).list, true);
 * assert.deepEqual(new ServicesGrant({ list: false }).toJson(), { list: false });
 * ```
 */
export class ServicesGrant {
  /** `services.list` allowed (default true). */
  readonly list: boolean;

  /**
   * Creates the grant.
   *
   * @param options `list` (default true).
   */
  constructor(options: { list?: boolean } = {}) {
    this.list = options.list ?? true;
  }

  /**
   * Serialises the non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return this.list !== true ? { list: this.list } : {};
  }

  /**
   * Parses the wire JSON (null/absent fields take their defaults).
   *
   * @param json The `services` value of an api scope.
   * @param path Field path used in error messages.
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson(json: unknown, path = "services"): ServicesGrant {
    const obj = asRecord(json, path);
    return new ServicesGrant({ list: readBool(obj, path, "list", undefined, true) });
  }
}

// ---------------------------------------------------------------------------------------------
// ApiScope

/**
 * The top-level API surfaces of an {@linkcode ApiScope}, in wire order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const surface: ApiSurface = "queues";
 * assert.equal(ApiScope.full().allows(surface), true);
 * ```
 */
export type ApiSurface =
  | "livekit"
  | "queues"
  | "messaging"
  | "dataset"
  | "sqlite"
  | "memory"
  | "sync"
  | "storage"
  | "containers"
  | "developer"
  | "agents"
  | "llm"
  | "admin"
  | "secrets"
  | "tunnels"
  | "services";

const SURFACES: readonly ApiSurface[] = [
  "livekit",
  "queues",
  "messaging",
  "dataset",
  "sqlite",
  "memory",
  "sync",
  "storage",
  "containers",
  "developer",
  "agents",
  "llm",
  "admin",
  "secrets",
  "tunnels",
  "services",
];

/**
 * The room API permissions of a participant: the scope of the token's `api` grant.
 *
 * Each field is a grant object, or `null` when that API surface is denied (its key was absent
 * from the JSON). A token with no `api` grant at all should be denied every room API call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const scope = ApiScope.fromJson({ queues: { send: ["jobs"] }, storage: {} });
 * assert.equal(scope.queues?.canSend("jobs"), true);
 * assert.equal(scope.storage?.canWrite("a.txt"), true);
 * assert.equal(scope.messaging, null); // absent = denied
 * assert.deepEqual(scope.toJson(), { queues: { send: ["jobs"] }, storage: {} });
 *
 * assert.deepEqual(Object.keys(ApiScope.agentDefault().toJson()), [
 *   "livekit", "queues", "messaging", "dataset", "sqlite", "memory", "sync", "storage",
 *   "containers", "developer", "agents", "llm", "services",
 * ]);
 * ```
 */
export class ApiScope {
  /** LiveKit media access; null = denied. */
  readonly livekit: LivekitGrant | null;
  /** Queues; null = denied. */
  readonly queues: QueuesGrant | null;
  /** Messaging; null = denied. */
  readonly messaging: MessagingGrant | null;
  /** Datasets; null = denied. */
  readonly dataset: DatasetGrant | null;
  /** SQLite databases; null = denied. */
  readonly sqlite: SqliteGrant | null;
  /** Memories; null = denied. */
  readonly memory: MemoryGrant | null;
  /** Sync documents; null = denied. */
  readonly sync: SyncGrant | null;
  /** Room storage; null = denied. */
  readonly storage: StorageGrant | null;
  /** Containers; null = denied. */
  readonly containers: ContainersGrant | null;
  /** Developer logs; null = denied. */
  readonly developer: DeveloperGrant | null;
  /** Toolkits and agents; null = denied. */
  readonly agents: AgentsGrant | null;
  /** LLM proxy; null = denied. */
  readonly llm: LLMGrant | null;
  /** Admin configuration; null = denied. */
  readonly admin: AdminGrant | null;
  /** Room secrets; null = denied. */
  readonly secrets: SecretsGrant | null;
  /** Tunnels; null = denied. */
  readonly tunnels: TunnelsGrant | null;
  /** Services; null = denied. */
  readonly services: ServicesGrant | null;

  /**
   * Creates a scope; surfaces not given are denied.
   *
   * @param options One grant per allowed surface.
   */
  constructor(
    options: {
      livekit?: LivekitGrant | null;
      queues?: QueuesGrant | null;
      messaging?: MessagingGrant | null;
      dataset?: DatasetGrant | null;
      sqlite?: SqliteGrant | null;
      memory?: MemoryGrant | null;
      sync?: SyncGrant | null;
      storage?: StorageGrant | null;
      containers?: ContainersGrant | null;
      developer?: DeveloperGrant | null;
      agents?: AgentsGrant | null;
      llm?: LLMGrant | null;
      admin?: AdminGrant | null;
      secrets?: SecretsGrant | null;
      tunnels?: TunnelsGrant | null;
      services?: ServicesGrant | null;
    } = {},
  ) {
    this.livekit = options.livekit ?? null;
    this.queues = options.queues ?? null;
    this.messaging = options.messaging ?? null;
    this.dataset = options.dataset ?? null;
    this.sqlite = options.sqlite ?? null;
    this.memory = options.memory ?? null;
    this.sync = options.sync ?? null;
    this.storage = options.storage ?? null;
    this.containers = options.containers ?? null;
    this.developer = options.developer ?? null;
    this.agents = options.agents ?? null;
    this.llm = options.llm ?? null;
    this.admin = options.admin ?? null;
    this.secrets = options.secrets ?? null;
    this.tunnels = options.tunnels ?? null;
    this.services = options.services ?? null;
  }

  /**
   * The scope both official clients give agents: livekit, queues, messaging, dataset, sqlite,
   * memory, sync, storage, containers, developer, agents, llm and services, all with defaults.
   * No admin, no secrets; tunnels only when asked for (as in the Python SDK).
   *
   * @param options `tunnels`: also grant tunnels (default false).
   * @returns A new scope.
   */
  static agentDefault(options: { tunnels?: boolean } = {}): ApiScope {
    return new ApiScope({
      livekit: new LivekitGrant(),
      queues: new QueuesGrant(),
      messaging: new MessagingGrant(),
      dataset: new DatasetGrant(),
      sqlite: new SqliteGrant(),
      memory: new MemoryGrant(),
      sync: new SyncGrant(),
      storage: new StorageGrant(),
      containers: new ContainersGrant(),
      developer: new DeveloperGrant(),
      agents: new AgentsGrant(),
      llm: new LLMGrant(),
      services: new ServicesGrant(),
      tunnels: options.tunnels ? new TunnelsGrant() : null,
    });
  }

  /**
   * The scope for human users.
   *
   * Choice: we follow the TS client, whose `userDefault` equals `agentDefault` and so
   * **includes `llm`**. The Python SDK leaves `llm` out; drop it explicitly if you want that.
   *
   * @returns A new scope.
   */
  static userDefault(): ApiScope {
    return ApiScope.agentDefault();
  }

  /**
   * Everything `agentDefault` grants, plus `admin` and `tunnels`. Still no `secrets`, as in both
   * official clients.
   *
   * @returns A new scope.
   */
  static full(): ApiScope {
    return new ApiScope({
      ...ApiScope.agentDefault().#grants(),
      admin: new AdminGrant(),
      tunnels: new TunnelsGrant(),
    });
  }

  #grants(): Pick<ApiScope, ApiSurface> {
    return {
      livekit: this.livekit,
      queues: this.queues,
      messaging: this.messaging,
      dataset: this.dataset,
      sqlite: this.sqlite,
      memory: this.memory,
      sync: this.sync,
      storage: this.storage,
      containers: this.containers,
      developer: this.developer,
      agents: this.agents,
      llm: this.llm,
      admin: this.admin,
      secrets: this.secrets,
      tunnels: this.tunnels,
      services: this.services,
    };
  }

  /**
   * Whether API surface `surface` is granted at all.
   *
   * @param surface Top-level key, e.g. `"queues"`.
   * @returns true when the scope has a grant for it.
   */
  allows(surface: ApiSurface): boolean {
    return this.#grants()[surface] != null;
  }

  /**
   * Serialises the scope: one key per granted surface, each with only its non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    const grants = this.#grants();
    for (const surface of SURFACES) {
      const grant = grants[surface];
      if (grant !== null) json[surface] = grant.toJson();
    }
    return json;
  }

  /**
   * Same as {@linkcode ApiScope.toJson}, so `JSON.stringify(scope)` gives the wire form.
   *
   * @returns The wire JSON object.
   */
  toJSON(): Record<string, unknown> {
    return this.toJson();
  }

  /**
   * Parses an `api` grant scope. Absent or null top-level keys are denied surfaces; `dataset`
   * may also arrive as `database` or `datasets`; unknown top-level keys are ignored.
   *
   * @param json The scope object.
   * @returns The scope.
   * @throws {ApiScopeError} When the scope or one of its grants has the wrong shape.
   */
  static fromJson(json: unknown): ApiScope {
    if (!isRecord(json)) {
      throw new ApiScopeError("api", `expected an object, got ${describe(json)}`);
    }
    const grant = <T>(key: string, parse: (value: unknown, path: string) => T): T | null => {
      const value = json[key];
      if (value === undefined || value === null) return null;
      if (!isRecord(value)) {
        throw new ApiScopeError(
          key,
          `expected an object (use {} for the defaults), got ${describe(value)}`,
        );
      }
      return parse(value, key);
    };
    const datasetKey =
      ["dataset", "database", "datasets"].find((key) =>
        json[key] !== undefined && json[key] !== null
      ) ?? "dataset";
    return new ApiScope({
      livekit: grant("livekit", LivekitGrant.fromJson),
      queues: grant("queues", QueuesGrant.fromJson),
      messaging: grant("messaging", MessagingGrant.fromJson),
      dataset: grant(datasetKey, DatasetGrant.fromJson),
      sqlite: grant("sqlite", SqliteGrant.fromJson),
      memory: grant("memory", MemoryGrant.fromJson),
      sync: grant("sync", SyncGrant.fromJson),
      storage: grant("storage", StorageGrant.fromJson),
      containers: grant("containers", ContainersGrant.fromJson),
      developer: grant("developer", DeveloperGrant.fromJson),
      agents: grant("agents", AgentsGrant.fromJson),
      llm: grant("llm", LLMGrant.fromJson),
      admin: grant("admin", AdminGrant.fromJson),
      secrets: grant("secrets", SecretsGrant.fromJson),
      tunnels: grant("tunnels", TunnelsGrant.fromJson),
      services: grant("services", ServicesGrant.fromJson),
    });
  }
}
