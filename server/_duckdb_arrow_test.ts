import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { loadDuckDb, openDuckSandbox } from "./_duckdb.ts";
import { DuckBatchReader, DuckResultEncoder } from "./_duckdb_arrow.ts";

Deno.test("DuckBatchReader throws when a result with a known count ends short, and not when it is whole", async () => {
  const duck = await loadDuckDb();
  const { instance, connection } = await openDuckSandbox({
    memoryLimit: "64MB",
    threads: 1,
    files: false,
  });
  try {
    for (const cut of [false, true]) {
      const result = await connection.stream("SELECT * FROM range(5000) t(x)");
      const encoder = new DuckResultEncoder(
        result.deduplicatedColumnNames(),
        result.columnTypes(),
        duck,
      );
      // A stream that stops after its first chunk is what DuckDB gives after an error part way.
      let chunks = 0;
      const fetch = async () => (cut && chunks++ === 1 ? null : await result.fetchChunk());
      const reader = new DuckBatchReader(encoder, fetch, duck, 1000, 5000);
      let rows = 0;
      const read = async () => {
        for (let batch = await reader.next(); batch !== null; batch = await reader.next()) {
          rows += arrow.tableFromIPC(batch).numRows;
        }
      };
      if (cut) {
        await assert.rejects(read(), /stopped reading after 2048 of 5000 rows/);
      } else {
        await read();
        assert.equal(rows, 5000);
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
