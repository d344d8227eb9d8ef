import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { ApiScope } from "@meshagent/api";
import { importStorage } from "./_dataset_storage.ts";
import type { DatasetStore, DatasetWriter } from "./dataset_store.ts";
import { LocalFileStore } from "./local_file_store.ts";

/** A store that records what one createTable write receives, and whether it was committed. */
function recordingStore() {
  const seen = { mode: "", chunks: [] as number[], committed: false, aborted: false };
  const writer: DatasetWriter = {
    write(ipc) {
      seen.chunks.push(arrow.tableFromIPC(ipc).numRows);
      return Promise.resolve();
    },
    commit() {
      seen.committed = true;
      return Promise.resolve();
    },
    abort() {
      if (!seen.committed) seen.aborted = true;
    },
  };
  const store = {
    createTable(_ref, options) {
      seen.mode = options.mode;
      return Promise.resolve(writer);
    },
  } as Partial<DatasetStore> as DatasetStore;
  return { store, seen };
}

Deno.test("import_storage hands the store chunks of exactly batch_size rows, as one write", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const files = await LocalFileStore.open({ dataDir, room: "r" });
    const csv = "id,name\n" + Array.from({ length: 25 }, (_, i) => `${i},n${i}`).join("\n");
    await files.writeFile("a.csv", new TextEncoder().encode(csv));
    for (const [batch, chunks] of [[10, [10, 10, 5]], [25, [25]], [100, [25]]] as const) {
      const { store, seen } = recordingStore();
      await importStorage(
        { store, files, scope: ApiScope.full(), maxBytes: 1 << 20 },
        { table: "t", path: "a.csv", mode: "replace", batch_size: batch },
      );
      assert.deepEqual(seen, { mode: "overwrite", chunks, committed: true, aborted: false });
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
