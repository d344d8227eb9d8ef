/**
 * The request and result shapes of {@linkcode RoomDatabase}: the JSON of the `sqlite` toolkit's
 * requests (protocol-data §3.2), snake_case as on the wire.
 *
 * @module
 */
import type { ColumnType } from "./arrow_codec.ts";
import type { CreateMode } from "./sqlite_table_writer.ts";

/** A database namespace: a list of strings, or null (= the root namespace, same as `[]`). */
export type Namespace = readonly string[] | null;

/**
 * A row filter: an SQL boolean expression (with `?` or named placeholders bound from
 * `params`), an object `{column: encodedValue}` meaning equality on every column (AND), or
 * null for every row.
 */
export type Where = string | Readonly<Record<string, unknown>> | null;

/** Bound parameters: a JSON array for `?` placeholders, an object for named ones, or null. */
export type SqlParams = readonly unknown[] | Readonly<Record<string, unknown>> | null;

/** `list_databases` input. */
export interface ListDatabasesRequest {
  /** The namespace to list (exact match). */
  namespace?: Namespace;
}

/** `create_database` input. */
export interface CreateDatabaseRequest {
  /** Database name. */
  name: string;
  /** Namespace. */
  namespace?: Namespace;
  /** `create` (default; 1004 if it exists), `overwrite` or `create_if_not_exists`. */
  mode?: CreateMode;
}

/** `drop_database` input. */
export interface DropDatabaseRequest {
  /** Database name. */
  name: string;
  /** Namespace. */
  namespace?: Namespace;
  /** No error when it does not exist. */
  ignore_missing?: boolean;
}

/** `inspect_database` input. */
export interface InspectDatabaseRequest {
  /** Database name. */
  name: string;
  /** Namespace. */
  namespace?: Namespace;
}

/** `inspect_database` output (exact keys). */
export interface InspectDatabaseResult {
  /** Database name. */
  name: string;
  /** Namespace, as sent. */
  namespace: string[] | null;
  /** Number of tables. */
  tables: number;
  /** Size on disk in bytes. */
  size_bytes: number;
}

/** `list_tables` input. */
export interface ListTablesRequest {
  /** Database name. */
  database: string;
  /** Namespace. */
  namespace?: Namespace;
}

/** `create_table` start chunk (`kind: "start"` may be present and is ignored). */
export interface CreateTableRequest {
  /** Database name. */
  database: string;
  /** Table name. */
  name: string;
  /** `create` (default), `overwrite` or `create_if_not_exists`. */
  mode?: CreateMode;
  /** Namespace. */
  namespace?: Namespace;
}

/** `drop_table` input. */
export interface DropTableRequest {
  /** Database name. */
  database: string;
  /** Table name. */
  name: string;
  /** No error when it does not exist. */
  ignore_missing?: boolean;
  /** Namespace. */
  namespace?: Namespace;
}

/** `rename_table` input. */
export interface RenameTableRequest {
  /** Database name. */
  database: string;
  /** Current table name. */
  name: string;
  /** New table name. */
  new_name: string;
  /** Namespace. */
  namespace?: Namespace;
}

/** Input naming one table: `inspect`, `add_columns` headers, `insert` start. */
export interface TableRequest {
  /** Database name. */
  database: string;
  /** Table name. */
  table: string;
  /** Namespace. */
  namespace?: Namespace;
}

/** `drop_columns` input. */
export interface DropColumnsRequest extends TableRequest {
  /** Names of the columns to drop. */
  columns: readonly string[];
}

/** One `update` assignment. */
export interface UpdateValue {
  /** Column to set. */
  column: string;
  /** JSON text of an encoded value (`{"expression": "<sql>"}` computes it from the row). */
  value_json?: string;
  /** The encoded value itself (accepted instead of `value_json`). */
  value?: unknown;
}

/** `update` input. */
export interface UpdateRequest extends TableRequest {
  /** Which rows (null = all). */
  where?: Where;
  /** Assignments. */
  values: readonly UpdateValue[];
  /** Parameters of a string `where`. */
  params?: SqlParams;
}

/** `delete` input. */
export interface DeleteRequest extends TableRequest {
  /** Which rows (null = all). */
  where?: Where;
  /** Parameters of a string `where`. */
  params?: SqlParams;
}

/** `count` input. */
export interface CountRequest extends TableRequest {
  /** Which rows (null = all). */
  where?: Where;
  /** Parameters of a string `where`. */
  params?: SqlParams;
}

/** One ordering term of a `search` (an extension: the wire protocol orders by insertion). */
export interface OrderTerm {
  /** Column to order by. */
  column: string;
  /** Descending instead of ascending. */
  descending?: boolean;
}

/** `search` start chunk. */
export interface SearchRequest extends TableRequest {
  /** Which rows (null = all). */
  where?: Where;
  /** Parameters of a string `where`. */
  params?: SqlParams;
  /** Rows to skip (after filtering). */
  offset?: number | null;
  /** Most rows to return (null = all). */
  limit?: number | null;
  /** Columns to return, in this order (null = all, in table order). */
  select?: readonly string[] | null;
  /** Ordering (null = insertion order). Not part of the official protocol. */
  order_by?: readonly OrderTerm[] | null;
}

/** `open_sql_query`, `execute_sql` and `execute_sql_statement` input (binary headers). */
export interface SqlRequest {
  /** Database name. */
  database: string;
  /** The SQL. `execute_sql_statement` and `execute_sql` also take scripts (no params then). */
  query: string;
  /** Bound parameters. */
  params?: SqlParams;
  /** Namespace. */
  namespace?: Namespace;
}

/** Input naming an open SQL query. */
export interface QueryIdRequest {
  /** The id from `open_sql_query` / `execute_sql`. */
  query_id: string;
}

/** A row-returning SQL query that was opened: reply `B{kind, query_id}` + `schema`. */
export interface OpenQueryResult {
  /** Always `query`. */
  kind: "query";
  /** The id for `read_sql_query`, `close_sql_query`, `cancel_sql_query`. */
  query_id: string;
  /** The Arrow schema of the result (IPC stream with no batches). */
  schema: Uint8Array;
}

/** A statement that returned no rows: reply `J{kind, rows_affected}`. */
export interface StatementResult {
  /** Always `statement`. */
  kind: "statement";
  /** Rows inserted, updated or deleted. */
  rows_affected: number;
}

/** `cancel_sql_query` output. */
export interface CancelResult {
  /** `cancelled`, or `not_cancellable` for a query already finished or closed. */
  status: "cancelled" | "cancelling" | "not_cancellable";
}

/** One column as {@linkcode RoomDatabase.inspectTable} describes it. */
export interface TableColumnInfo {
  /** Column name. */
  name: string;
  /** Our column type (null when it has no declared type). */
  type: ColumnType | null;
  /** The SQLite declared type as written ("" when none). */
  declared_type: string;
  /** False for NOT NULL columns. */
  nullable: boolean;
  /** 1-based position in the primary key, 0 when not part of it. */
  primary_key: number;
}

/** {@linkcode RoomDatabase.inspectTable} output. */
export interface TableInfo {
  /** The table name as stored. */
  name: string;
  /** The columns in table order. */
  columns: TableColumnInfo[];
}
