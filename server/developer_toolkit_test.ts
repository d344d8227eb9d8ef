import assert from "node:assert/strict";
import { BinaryContent, ControlContent, EmptyContent } from "@meshagent/api";
import { TestClient } from "./_test_helpers.ts";
import { startTestServer } from "./testing.ts";

Deno.test("developer.log events reach a logs subscriber; the stream ends when its input closes", async () => {
  const server = await startTestServer();
  try {
    const a = await TestClient.connect(server.roomUrl("dev"), await server.token("dev", "alice"));
    const b = await TestClient.connect(server.roomUrl("dev"), await server.token("dev", "bob"));
    const opened = await a.openStream("developer", "logs", "logs-1");
    assert.ok(opened instanceof ControlContent && opened.method === "open");

    assert.ok(
      (await b.invoke("developer", "log", { type: "info", data: { k: "v" } })) instanceof
        EmptyContent,
    );
    await b.invoke("developer", "warning", { message: "careful", extra: { n: 1 } });
    await a.invoke("developer", "log", { type: "mine", data: {} });

    const first = await a.responseChunk("logs-1");
    assert.ok(first instanceof BinaryContent);
    assert.deepEqual(first.headers, { type: "info" });
    assert.deepEqual(JSON.parse(new TextDecoder().decode(first.data)), { k: "v" });
    const second = (await a.responseChunk("logs-1")) as BinaryContent;
    assert.deepEqual(second.headers, { type: "warning" });
    assert.deepEqual(JSON.parse(new TextDecoder().decode(second.data)), {
      message: "careful",
      n: 1,
    });
    const third = (await a.responseChunk("logs-1")) as BinaryContent;
    assert.deepEqual(third.headers, { type: "mine" });

    assert.ok((await a.chunk("logs-1", ControlContent.close())) instanceof EmptyContent);
    const end = await a.responseChunk("logs-1");
    assert.ok(end instanceof ControlContent && end.method === "close" && end.statusCode === 1000);
    await assert.rejects(b.invoke("developer", "log", { data: {} }), { code: 1002 });
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

Deno.test("developer.logs ends with the caller's disconnect", async () => {
  const server = await startTestServer();
  try {
    const a = await TestClient.connect(server.roomUrl("dev2"), await server.token("dev2", "alice"));
    const b = await TestClient.connect(server.roomUrl("dev2"), await server.token("dev2", "bob"));
    await a.openStream("developer", "logs", "logs-2");
    await a.close();
    // The room keeps working and the dropped subscriber costs nothing.
    await b.invoke("developer", "log", { type: "after", data: {} });
    await b.close();
  } finally {
    await server.close();
  }
});
