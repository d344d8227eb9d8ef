import assert from "node:assert/strict";
import { ApiScope, ArrowTable } from "@meshagent/api";
import { startTestServer } from "./testing.ts";

Deno.test("dataset toolkit: the api.dataset grant limits tables and permissions (1001)", async () => {
  const server = await startTestServer();
  const owner = await server.connect("grants", "owner");
  const reader = await server.connect("grants", "reader", {
    api: ApiScope.fromJson({ dataset: { tables: [{ name: "docs" }], list_tables: false } }),
  });
  const none = await server.connect("grants", "none", {
    api: ApiScope.fromJson({ messaging: {} }),
  });
  const denied = (e: { code?: number; message: string }) => {
    assert.equal(e.code, 1001, e.message);
    assert.match(e.message, /not allowed|permission denied/);
    return true;
  };
  try {
    await owner.datasets.createTableFromData({
      name: "docs",
      data: ArrowTable.fromRows([{ id: 1 }]),
    });
    await owner.datasets.createTableFromData({
      name: "secret",
      data: ArrowTable.fromRows([{ id: 2 }]),
    });
    // Read on its table: allowed; write, alter, other tables and listing: refused.
    assert.equal(await reader.datasets.count({ table: "docs" }), 1);
    assert.deepEqual(await reader.datasets.searchRows({ table: "docs" }), [{ id: 1 }]);
    await assert.rejects(reader.datasets.insert({ table: "docs", records: [{ id: 3 }] }), denied);
    await assert.rejects(reader.datasets.dropTable({ name: "docs" }), denied);
    await assert.rejects(reader.datasets.count({ table: "secret" }), denied);
    await assert.rejects(reader.datasets.listTables(), denied);
    await assert.rejects(none.datasets.listTables(), denied);
    assert.equal(await owner.datasets.count({ table: "docs" }), 1);
  } finally {
    await owner.dispose();
    await reader.dispose();
    await none.dispose();
    await server.close();
  }
});
