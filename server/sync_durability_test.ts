import assert from "node:assert/strict";
import { MeshSchema, RoomClient } from "@meshagent/api";
import { type ServerProcess, startServerProcess } from "./testdata/server_process.ts";

/**
 * Connects, retrying: against a server in another process, the first connection of our client
 * (npm ws under Deno) sometimes never sees room_ready (the frames that arrive together with the
 * 101 response seem to be lost; reported). A retry on a fresh socket works.
 */
async function connect(server: ServerProcess, room: string, name: string): Promise<RoomClient> {
  for (let attempt = 1;; attempt++) {
    const client = new RoomClient({
      url: server.roomUrl(room),
      token: await server.token(room, name),
      reconnectTimeout: 0,
    });
    try {
      await client.start({ timeout: 3000 });
      return client;
    } catch (e) {
      await client.dispose();
      if (attempt >= 5) throw e;
    }
  }
}

const schema = MeshSchema.fromJson({
  $root_tag_ref: "#/$defs/log",
  $defs: {
    log: {
      type: "object",
      properties: {
        log: {
          type: "object",
          properties: {
            n: { type: ["number", "null"] },
            entries: { type: "array", items: { anyOf: [{ $ref: "#/$defs/entry" }] } },
          },
        },
      },
    },
    entry: {
      type: "object",
      properties: { entry: { type: "object", properties: { i: { type: ["number", "null"] } } } },
    },
  },
});

Deno.test("sync durability: SIGKILL right after acknowledged updates loses nothing", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "meshagent-sync-kill-" });
  try {
    let server = await startServerProcess(dataDir);
    const room = await connect(server, "durable", "writer");
    let expected: unknown;
    try {
      const path = "logs/crash.log";
      const doc = await room.sync.open(path, { schema });
      // Many small acknowledged updates, the last one right before the kill (well inside the
      // 200 ms save debounce, so only the log can hold it).
      for (let i = 0; i < 30; i++) {
        doc.root.createChildElement("entry", { i });
        if (i % 3 === 0) await room.sync.flush(path);
      }
      doc.root.setAttribute("n", 30);
      await room.sync.flush(path);
      expected = doc.toJson();
      const status = await server.kill("SIGKILL");
      assert.equal(status.success, false);
    } finally {
      await room.dispose();
    }
    server = await startServerProcess(dataDir);
    const reader = await connect(server, "durable", "reader");
    try {
      const described = await reader.sync.describe("logs/crash.log");
      assert.deepEqual(described, expected);
      assert.equal((described.log as { entries: unknown[] }).entries.length, 30);
    } finally {
      await reader.dispose();
      await server.kill("SIGTERM");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
