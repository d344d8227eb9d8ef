import assert from "node:assert/strict";
import * as Y from "yjs";
import {
  BinaryContent,
  ControlContent,
  EmptyContent,
  ErrorContent,
  fromWireUpdate,
  JsonContent,
  toWireUpdate,
} from "@meshagent/api";
import { TestClient } from "./_test_helpers.ts";
import { startTestServer, type TestServer } from "./testing.ts";

const SCHEMA = {
  $root_tag_ref: "#/$defs/page",
  $defs: {
    page: {
      type: "object",
      properties: {
        page: {
          type: "object",
          properties: {
            title: { type: ["string", "null"] },
            children: { type: "array", items: { anyOf: [{ $ref: "#/$defs/para" }] } },
          },
        },
      },
    },
    para: { type: "object", properties: { para: { type: "object", properties: {} } } },
  },
};

async function join(server: TestServer, room: string, name: string) {
  return await TestClient.connect(server.roomUrl(room), await server.token(room, name));
}

/** Opens sync.open: the invoke, then (without waiting for its answer) the start chunk. */
async function open(client: TestClient, id: string, start: Record<string, unknown>) {
  const opened = client.openStream("sync", "open", id);
  opened.catch(() => {});
  const acked = client.chunk(id, new BinaryContent(new Uint8Array(0), { kind: "start", ...start }));
  acked.catch(() => {});
  return await opened;
}

Deno.test("sync toolkit: state and sync chunks have the exact §2.3 shape; updates reach the others", async () => {
  const server = await startTestServer();
  const a = await join(server, "t1", "a");
  const b = await join(server, "t1", "b");
  try {
    const opened = await open(a, "a1", { path: "/p/doc.page", create: true, schema: SCHEMA });
    assert.ok(opened instanceof ControlContent && opened.method === "open");
    const state = await a.responseChunk("a1");
    assert.ok(state instanceof BinaryContent);
    assert.deepEqual(Object.keys(state.headers).sort(), ["kind", "path", "schema"]);
    assert.equal(state.headers.kind, "state");
    assert.equal(state.headers.path, "p/doc.page");
    assert.equal((state.headers.schema as { $root_tag_ref: string }).$root_tag_ref, "#/$defs/page");

    // b opens the same document by path only (the recorded schema comes back).
    await open(b, "b1", { path: "p/doc.page", create: false });
    const bState = (await b.responseChunk("b1")) as BinaryContent;
    const ydoc = new Y.Doc();
    Y.applyUpdate(ydoc, fromWireUpdate(bState.data));

    // An edit by b reaches a as {kind:"sync", path} with the same base64 payload; b gets no echo.
    ydoc.get("xml", Y.XmlElement).setAttribute("title", "hello");
    const update = Y.encodeStateAsUpdate(ydoc);
    const ack = await b.chunk("b1", new BinaryContent(toWireUpdate(update), { kind: "sync" }));
    assert.ok(ack instanceof EmptyContent);
    const relayed = (await a.responseChunk("a1")) as BinaryContent;
    assert.deepEqual(relayed.headers, { kind: "sync", path: "p/doc.page" });
    const check = new Y.Doc();
    Y.applyUpdate(check, fromWireUpdate(state.data));
    Y.applyUpdate(check, fromWireUpdate(relayed.data));
    assert.equal(check.get("xml", Y.XmlElement).getAttribute("title"), "hello");
    await assert.rejects(b.responseChunk("b1", 150)); // no echo to the sender

    // Reopen with a state vector: only the missing part comes back.
    await open(b, "b2", {
      path: "p/doc.page",
      create: false,
      vector: new TextDecoder().decode(toWireUpdate(Y.encodeStateVector(ydoc))),
    });
    const diff = (await b.responseChunk("b2")) as BinaryContent;
    assert.ok(fromWireUpdate(diff.data).length < Y.encodeStateAsUpdate(ydoc).length);

    // A client close gets the server's close.
    await a.chunk("a1", ControlContent.close());
    const closed = await a.responseChunk("a1");
    assert.ok(closed instanceof ControlContent && closed.method === "close");
    assert.equal(closed.statusCode, 1000);

    // Describe sees the edit; the document is a file in room storage.
    const described = (await a.invoke("sync", "describe", { path: "p/doc.page" })) as JsonContent;
    assert.deepEqual(described.json, { page: { title: "hello", children: [] } });
    const exists = (await a.invoke("storage", "exists", { path: "p/doc.page" })) as JsonContent;
    assert.equal((exists.json as { exists: boolean }).exists, true);
  } finally {
    await a.close();
    await b.close();
    await server.close();
  }
});

Deno.test("sync toolkit: open errors come back as the invoke's answer; bad chunks end the stream", async () => {
  const server = await startTestServer();
  const a = await join(server, "t2", "a");
  try {
    await assert.rejects(open(a, "x1", { path: "nope.page", create: false }), { code: 3001 });
    await assert.rejects(open(a, "x2", { path: "a.page", schema: { bad: true } }), { code: 1002 });
    await assert.rejects(open(a, "x3", { path: "" }), { code: 3004 });
    // Not a start chunk first.
    const first = a.openStream("sync", "open", "x4");
    await a.chunk("x4", new JsonContent({ kind: "start" }));
    await assert.rejects(first, { code: 1002 });
    // A chunk of the wrong kind ends an open stream with an error chunk and a close.
    await open(a, "x5", { path: "ok.page", schema: SCHEMA });
    await a.responseChunk("x5");
    await assert.rejects(
      a.chunk("x5", new BinaryContent(new Uint8Array(0), { kind: "bogus" })),
      { code: 1002 },
    );
    const err = await a.responseChunk("x5");
    assert.ok(err instanceof ErrorContent && err.code === 1002);
    const closed = await a.responseChunk("x5");
    assert.ok(closed instanceof ControlContent && closed.method === "close");
    // create / describe argument errors
    await assert.rejects(a.invoke("sync", "create", { path: 3 }), { code: 1002 });
    await assert.rejects(a.invoke("sync", "describe", { path: "../x" }), { code: 3004 });
  } finally {
    await a.close();
    await server.close();
  }
});
