// listDocuments against a real room: documents (at the root, nested, made with an inline schema)
// are listed; plain files, folders and .schemas are not.
import assert from "node:assert/strict";
import { MeshSchema } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";
import { listDocuments } from "./_document_list.ts";

const SCHEMA = MeshSchema.fromJson({
  $root_tag_ref: "#/$defs/page",
  $defs: {
    page: {
      type: "object",
      properties: { page: { type: "object", properties: { title: { type: ["string", "null"] } } } },
    },
  },
});

Deno.test("listDocuments lists the room's documents and nothing else", async () => {
  const server = await startTestServer();
  const room = await server.connect("docs", "reader");
  try {
    for (const path of ["notes.page", "deep/er/plan.page"]) {
      await room.sync.open(path, { schema: SCHEMA, initialJson: { page: { title: path } } });
      await room.sync.flush(path);
    }
    await room.storage.upload("readme.txt", new TextEncoder().encode("not a document"));
    await room.storage.upload("deep/data.json", new TextEncoder().encode("{}"));
    await room.storage.upload(".schemas/page.json", new TextEncoder().encode(""));
    assert.deepEqual(await listDocuments(room), {
      paths: ["deep/er/plan.page", "notes.page"],
      truncated: false,
    });
    assert.deepEqual((await listDocuments(room, "deep")).paths, ["deep/er/plan.page"]);
  } finally {
    for (const path of room.sync.openPaths) await room.sync.close(path);
    await room.dispose();
    await server.close();
  }
});
