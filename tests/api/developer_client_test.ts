// Integration tests of DeveloperClient against our real room server.
import assert from "node:assert/strict";
import type { RoomLogEvent } from "@meshagent/api";
import { connect, roomName, until, withServer } from "./testdata/test_room.ts";

Deno.test("log events reach a logs() subscriber; breaking out ends the subscription", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const watcher = await connect(server, name, "watcher");
    const writer = await connect(server, name, "writer");
    try {
      const seen: RoomLogEvent[] = [];
      const reading = (async () => {
        for await (const event of watcher.developer.logs()) {
          seen.push(event);
          if (event.type === "done") break;
        }
      })();
      // Subscribing is asynchronous: log until the subscriber sees something.
      await until(
        () => {
          if (seen.length === 0) writer.developer.log("probe", { n: 0 }).catch(() => {});
          return seen.length > 0;
        },
        "the first log event",
        10_000,
      );
      await writer.developer.log("build", { step: "compile", ok: true });
      await writer.developer.info("all good", { extra: 1 });
      await writer.developer.log("done", {});
      await reading;
      const interesting = seen.filter((e) => e.type !== "probe");
      assert.deepEqual(interesting, [
        { type: "build", data: { step: "compile", ok: true } },
        { type: "info", data: { extra: 1, message: "all good" } },
        { type: "done", data: {} },
      ]);
      // the room still works for the watcher after its stream closed
      await watcher.developer.log("after", {});
    } finally {
      await watcher.dispose();
      await writer.dispose();
    }
  });
});

Deno.test("logs() ends normally when its signal aborts", async () => {
  await withServer(async (server) => {
    const room = await connect(server, roomName(), "alice");
    try {
      const controller = new AbortController();
      const seen: string[] = [];
      const reading = (async () => {
        for await (const event of room.developer.logs({ signal: controller.signal })) {
          seen.push(event.type);
          if (seen.length === 1) controller.abort();
        }
      })();
      await until(() => {
        if (seen.length === 0) room.developer.log("tick", {}).catch(() => {});
        return seen.length > 0;
      }, "a log event");
      await reading; // ends without throwing
      assert.equal(seen[0], "tick");
    } finally {
      await room.dispose();
    }
  });
});

Deno.test("an already aborted signal gives an empty iteration", async () => {
  await withServer(async (server) => {
    const room = await connect(server, roomName(), "alice");
    try {
      const events = [];
      for await (const e of room.developer.logs({ signal: AbortSignal.abort() })) events.push(e);
      assert.equal(events.length, 0);
    } finally {
      await room.dispose();
    }
  });
});
