// Reads a local Parquet file as Arrow IPC chunks, with DuckDB (its built-in parquet extension).
import { ErrorCode, RoomError } from "@meshagent/api";
import { duckMessage, loadDuckDb, openDuckSandbox } from "./_duckdb.ts";
import { DuckBatchReader, DuckResultEncoder } from "./_duckdb_arrow.ts";

/** A Parquet file opened by {@linkcode openParquet}. */
export interface ParquetFile {
  /** Its rows (from the file's metadata). */
  readonly rows: number;
  /** Its columns: an Arrow IPC stream with no rows. */
  readonly schema: Uint8Array;
  /** Its rows as Arrow IPC streams of at most `batchRows` rows each, read as they are asked for. */
  chunks(): AsyncGenerator<Uint8Array>;
  /** Releases DuckDB (also done when {@linkcode chunks} ends). */
  close(): void;
}

/**
 * Opens a local Parquet file with DuckDB (npm `@duckdb/node-api`, loaded now). Column types
 * come back as the SQL tools give them (integers keep their width, timestamps in microseconds).
 *
 * @param path The file.
 * @param options Rows per chunk (default 10000).
 * @returns The file's row count, schema and chunks.
 * @throws {RoomError} 1007 when DuckDB is missing, 1002 when the file is not Parquet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openParquet } from "@meshagent/server";
 * await assert.rejects(openParquet("/nonexistent.parquet"), /could not read/);
 * ```
 */
export async function openParquet(
  path: string,
  options: { batchRows?: number } = {},
): Promise<ParquetFile> {
  const duck = await loadDuckDb();
  const batchRows = Math.max(1, options.batchRows ?? 10_000);
  const { instance, connection } = await openDuckSandbox({
    memoryLimit: "512MB",
    threads: 2,
    files: true,
  });
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    connection.closeSync();
    instance.closeSync();
  };
  try {
    const count = await connection.runAndReadAll("SELECT count(*) FROM read_parquet($path)", {
      path,
    });
    const rows = Number(count.getRows()[0][0]);
    const result = await connection.stream("SELECT * FROM read_parquet($path)", { path });
    const encoder = new DuckResultEncoder(
      result.deduplicatedColumnNames(),
      result.columnTypes(),
      duck,
    );
    return {
      rows,
      schema: encoder.schema(),
      close: release,
      async *chunks(): AsyncGenerator<Uint8Array> {
        const reader = new DuckBatchReader(
          encoder,
          () => result.fetchChunk(),
          duck,
          batchRows,
          rows,
        );
        try {
          while (!released) {
            const batch = await reader.next();
            if (batch === null) return;
            yield batch;
          }
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw new RoomError(
      `could not read ${path} as Parquet: ${duckMessage(error)}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
}
