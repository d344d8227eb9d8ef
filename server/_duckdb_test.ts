import assert from "node:assert/strict";
import { openDuckSandbox } from "./_duckdb.ts";

Deno.test("a DuckDB sandbox with a folder reads and writes there only, and cannot widen it", async () => {
  const inside = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  await Deno.writeTextFile(`${inside}/a.csv`, "x\n1\n");
  await Deno.writeTextFile(`${outside}/secret.csv`, "s\n42\n");
  const { instance, connection } = await openDuckSandbox({
    memoryLimit: "64MB",
    threads: 1,
    files: false,
    dir: inside,
  });
  try {
    const read = await connection.runAndReadAll(`SELECT x FROM read_csv('${inside}/a.csv')`);
    assert.deepEqual(read.getRows(), [[1n]]);
    await connection.run(`COPY (SELECT 1 AS y) TO '${inside}/o.csv' (FORMAT csv)`);
    assert.equal(await Deno.readTextFile(`${inside}/o.csv`), "y\n1\n");
    await assert.rejects(
      connection.run(`SELECT * FROM read_csv('${outside}/secret.csv')`),
      /disabled by configuration/,
    );
    await assert.rejects(
      connection.run(`COPY (SELECT 1) TO '${outside}/o.csv' (FORMAT csv)`),
      /disabled by configuration/,
    );
    await assert.rejects(
      connection.run(`SET allowed_directories = ['${outside}/']`),
      /lock|configuration/i,
    );
    await assert.rejects(
      connection.run(`SET enable_external_access = true`),
      /lock|configuration/i,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
    await Deno.remove(inside, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
