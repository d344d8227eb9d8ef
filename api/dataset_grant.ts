import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, entries, flag, names, text } from "./_grant_fields.ts";
import { namespaceMatches } from "./_grant_match.ts";

/**
 * One table entry of a {@linkcode DatasetGrant}.
 *
 * JSON: `{ name, namespace?: string[], read?: boolean (true), write?: boolean (false),
 * alter?: boolean (false) }`. Without `namespace` it matches the table in any namespace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TableGrant } from "@meshagent/api";
 *
 * const table = TableGrant.fromJson({ name: "docs", write: true });
 * assert.equal(table.read, true);
 * assert.equal(table.write, true);
 * assert.deepEqual(table.toJson(), { name: "docs", write: true });
 * ```
 */
export class TableGrant extends ApiGrant {
  static {
    describeGrant(this, "dataset.tables[]", {
      name: text("name"),
      namespace: names("namespace"),
      read: flag("read", true),
      write: flag("write", false),
      alter: flag("alter", false),
    });
  }

  /** Table name. */
  declare readonly name: string;
  /** Namespace the grant is limited to; null = any namespace. */
  declare readonly namespace: readonly string[] | null;
  /** Read rows (default true). */
  declare readonly read: boolean;
  /** Insert/update/delete rows (default false). */
  declare readonly write: boolean;
  /** Change the table's schema (default false). */
  declare readonly alter: boolean;

  /**
   * Creates the table grant.
   *
   * @param options Table name, optional namespace and flags.
   */
  constructor(options: GrantOptions<TableGrant, "name">) {
    super(options);
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
 * import { DatasetGrant } from "@meshagent/api";
 *
 * const grant = DatasetGrant.fromJson({ tables: [{ name: "docs", namespace: ["a"] }] });
 * assert.equal(grant.canRead("docs", ["a"]), true);
 * assert.equal(grant.canRead("docs", ["b"]), false);
 * assert.equal(grant.canWrite("docs", ["a"]), false);
 * assert.equal(grant.canRead("other"), false);
 * assert.equal(new DatasetGrant().canWrite("anything"), true);
 * ```
 */
export class DatasetGrant extends ApiGrant {
  static {
    describeGrant(this, "dataset", {
      tables: entries("tables", TableGrant),
      listTables: flag("list_tables", true, ["listTables"]),
    });
  }

  /** Table grants; null = every table, with every permission. */
  declare readonly tables: readonly TableGrant[] | null;
  /** `dataset.list_tables` allowed (default true). */
  declare readonly listTables: boolean;

  /**
   * Creates the grant.
   *
   * @param options `tables` (null = all tables) and `listTables` (default true).
   */
  constructor(options: GrantOptions<DatasetGrant> = {}) {
    super(options);
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
}
