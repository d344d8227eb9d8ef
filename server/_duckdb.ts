// Private: DuckDB (npm @duckdb/node-api, a native addon), loaded on the first dataset SQL call
// only, and the one kind of database this server opens with it: in memory, no file or network
// access, its settings locked. Notes in DATASETS.md.
import { ErrorCode, RoomError } from "@meshagent/api";

/** The part of `@duckdb/node-api` the server uses. */
export type DuckDb = typeof import("@duckdb/node-api");

/** A DuckDB instance with one connection. */
export type DuckInstance = import("@duckdb/node-api").DuckDBInstance;
/** A DuckDB connection. */
export type DuckConnection = import("@duckdb/node-api").DuckDBConnection;

let loading: Promise<DuckDb> | undefined;

/**
 * Loads DuckDB once per process.
 *
 * @throws {RoomError} 1007 when the package or its native addon for this platform is missing.
 */
export async function loadDuckDb(): Promise<DuckDb> {
  try {
    return await (loading ??= import("@duckdb/node-api"));
  } catch (error) {
    loading = undefined;
    throw new RoomError(
      `SQL over datasets needs DuckDB (npm @duckdb/node-api with its native addon for this ` +
        `platform), which could not be loaded: ${
          error instanceof Error ? error.message.split("\n")[0] : String(error)
        }`,
      ErrorCode.DEPENDENCY_MISSING,
    );
  }
}

/** Limits of one sandboxed DuckDB database. */
export interface DuckSandboxLimits {
  /** DuckDB's `memory_limit` (e.g. "256MB"). */
  memoryLimit: string;
  /** DuckDB's worker threads. */
  threads: number;
  /** Whether the database may read local files (`enable_external_access`). */
  files: boolean;
  /**
   * With `files` false: the one local folder it may still read and write (DuckDB's
   * `allowed_directories`), e.g. a private temp folder holding a file to import.
   */
  dir?: string;
}

/**
 * Opens an in-memory DuckDB database and its connection. [impl] The settings are locked
 * (`lock_configuration`), so SQL cannot raise its memory or threads or turn file access back on;
 * extensions are never installed or auto-loaded (the built-in ones are parquet, json, icu).
 */
export async function openDuckSandbox(
  limits: DuckSandboxLimits,
): Promise<{ instance: DuckInstance; connection: DuckConnection }> {
  const duck = await loadDuckDb();
  // allowed_directories can only be set while file access is on, so a sandbox with a folder is
  // locked by SET statements before it is handed out.
  const folder = limits.dir !== undefined && !limits.files;
  const instance = await duck.DuckDBInstance.create(":memory:", {
    memory_limit: limits.memoryLimit,
    threads: String(limits.threads),
    enable_external_access: String(limits.files || folder),
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
    allow_community_extensions: "false",
    lock_configuration: String(!folder),
  });
  try {
    const connection = await instance.connect();
    if (folder) {
      const dir = `${limits.dir!.replace(/\/+$/, "")}/`.replaceAll("'", "''");
      await connection.run(`SET allowed_directories = ['${dir}']`);
      await connection.run("SET enable_external_access = false");
      await connection.run("SET lock_configuration = true");
    }
    return { instance, connection };
  } catch (error) {
    instance.closeSync();
    throw error;
  }
}

/** DuckDB's message without a trailing stack or blank lines; it holds no file paths of ours. */
export function duckMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\n\s*\n/g, "\n").trim();
}
