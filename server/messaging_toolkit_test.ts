import assert from "node:assert/strict";
import { ApiScope, EmptyContent } from "@meshagent/api";
import { TestClient } from "./_test_helpers.ts";
import { startTestServer, type TestServer } from "./testing.ts";

async function join(server: TestServer, room: string, name: string, api?: ApiScope) {
  return await TestClient.connect(
    server.roomUrl(room),
    await server.token(room, name, api ? { api } : {}),
  );
}

Deno.test("messaging.enable: snapshot, participant.enabled, participant.disabled on disable and disconnect", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "presence", "alice");
    const b = await join(server, "presence", "bob");

    const r = await a.invoke("messaging", "enable", {}, { tool_call_id: "t1" });
    assert.ok(r instanceof EmptyContent);
    const snapA = await a.message("messaging.enabled");
    assert.deepEqual(snapA.header.message, { participants: [] });
    assert.equal(snapA.header.from_participant_id, a.id);

    await b.invoke("messaging", "enable");
    const snapB = await b.message("messaging.enabled");
    assert.deepEqual(snapB.header.message, {
      participants: [{ id: a.id, role: "user", attributes: { name: "alice", role: "user" } }],
    });
    const added = await a.message("participant.enabled");
    assert.equal(added.header.from_participant_id, b.id);
    assert.deepEqual(added.header.message, {
      id: b.id,
      role: "user",
      attributes: { name: "bob", role: "user" },
    });

    await b.invoke("messaging", "disable");
    const removed = await a.message("participant.disabled");
    assert.deepEqual(removed.header.message, { id: b.id });

    await b.invoke("messaging", "enable");
    await a.message("participant.enabled");
    await b.close();
    const gone = await a.message("participant.disabled");
    assert.deepEqual(gone.header.message, { id: b.id });
    await a.close();
  } finally {
    await server.close();
  }
});

Deno.test("set_attributes merges and fans out participant.attributes (no response)", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "attrs", "alice");
    const b = await join(server, "attrs", "bob");
    await a.invoke("messaging", "enable");
    await b.invoke("messaging", "enable");
    await a.message("participant.enabled");

    b.send("set_attributes", { status: "ready", __meshagent__: { v: 1 } });
    const update = await a.message("participant.attributes");
    assert.equal(update.header.from_participant_id, b.id);
    assert.deepEqual(update.header.message, { attributes: { status: "ready" } });

    // A later participant sees the merged attributes in its snapshot.
    const c = await join(server, "attrs", "carol");
    await c.invoke("messaging", "enable");
    const snap = await c.message("messaging.enabled");
    const bob = (snap.header.message as { participants: { id: string; attributes: unknown }[] })
      .participants.find((p) => p.id === b.id);
    assert.deepEqual(bob?.attributes, { name: "bob", role: "user", status: "ready" });
    assert.equal(b.pending("__response__").length, 0);
    for (const x of [a, b, c]) await x.close();
  } finally {
    await server.close();
  }
});

Deno.test("messaging.send delivers a binary attachment byte-exact, in order", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "send", "alice");
    const b = await join(server, "send", "bob");
    const bytes = new Uint8Array(5000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const sends = [];
    sends.push(a.invoke("messaging", "send", {
      to_participant_id: b.id,
      type: "file",
      message_json: JSON.stringify({ n: 0 }),
      attachment_base64: bytes.toBase64(),
    }));
    for (let n = 1; n <= 50; n++) {
      sends.push(a.invoke("messaging", "send", {
        to_participant_id: b.id,
        type: "chat",
        message_json: JSON.stringify({ n }),
        attachment_base64: null,
      }));
    }
    for (const r of await Promise.all(sends)) assert.ok(r instanceof EmptyContent);
    const first = await b.message("file");
    assert.equal(first.header.from_participant_id, a.id);
    assert.deepEqual(first.header.message, { n: 0 });
    assert.deepEqual(first.payload, bytes);
    for (let n = 1; n <= 50; n++) {
      const m = await b.message("chat");
      assert.deepEqual(m.header.message, { n });
      assert.equal(m.payload.length, 0);
    }
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

Deno.test("message_json arrives as the same JSON value: escapes, unicode, whitespace", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "json", "alice");
    const b = await join(server, "json", "bob");
    const value = {
      quote: 'say "hi"\\ and \u2028 line',
      emoji: "😀 ü 中文",
      nested: { list: [1, 2.5, null, true, { deep: "\u0000" }], empty: {} },
      __proto__x: "ok",
    };
    const text = ` {\n  "quote": ${JSON.stringify(value.quote)},\t"emoji": ${
      JSON.stringify(value.emoji)
    }, "nested": ${JSON.stringify(value.nested)}, "__proto__x": "ok" } `;
    assert.ok(
      (await a.invoke("messaging", "send", {
        to_participant_id: b.id,
        type: 'odd "type" ü',
        message_json: text,
      })) instanceof EmptyContent,
    );
    const m = await b.message('odd "type" ü');
    assert.equal(m.header.from_participant_id, a.id);
    assert.deepEqual(m.header.message, value);
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

Deno.test("messaging.broadcast reaches every other enabled participant", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "bcast", "alice");
    const b = await join(server, "bcast", "bob");
    const c = await join(server, "bcast", "carol");
    const quiet = await join(server, "bcast", "dave"); // never enables
    for (const x of [a, b, c]) await x.invoke("messaging", "enable");
    await a.invoke("messaging", "broadcast", { type: "hello", message_json: '{"x":1}' });
    for (const x of [b, c]) {
      const m = await x.message("hello");
      assert.equal(m.header.from_participant_id, a.id);
      assert.deepEqual(m.header.message, { x: 1 });
    }
    // A marker sent after the broadcast arrives first at a and dave: neither got the broadcast.
    await b.invoke("messaging", "send", {
      to_participant_id: a.id,
      type: "mark",
      message_json: "{}",
    });
    await a.message("mark");
    assert.equal(a.pending("messaging.send").filter((m) => m.header.type === "hello").length, 0);
    await b.invoke("messaging", "send", {
      to_participant_id: quiet.id,
      type: "mark",
      message_json: "{}",
    });
    await quiet.message("mark");
    assert.equal(quiet.pending("messaging.send").length, 0);
    for (const x of [a, b, c, quiet]) await x.close();
  } finally {
    await server.close();
  }
});

Deno.test("messaging.send to an unknown participant: exact text and code; bad message_json → 1002", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "notfound", "alice");
    await assert.rejects(
      a.invoke("messaging", "send", { to_participant_id: "nobody", type: "x", message_json: "{}" }),
      (e: { message: string; code: number }) =>
        e.message === "the participant was not found" && e.code === 1003,
    );
    await assert.rejects(
      a.invoke("messaging", "send", { to_participant_id: a.id, type: "x", message_json: "{nope" }),
      { code: 1002 },
    );
    await assert.rejects(
      a.invoke("messaging", "send", { to_participant_id: a.id, type: "x", message_json: "[1]" }),
      { code: 1002 },
    );
    await a.close();
  } finally {
    await server.close();
  }
});

Deno.test("messaging.list=false hides presence from that participant", async () => {
  const server = await startTestServer();
  try {
    const hidden = ApiScope.fromJson({ messaging: { list: false } });
    const a = await join(server, "hidden", "alice");
    const b = await join(server, "hidden", "bob", hidden);
    await a.invoke("messaging", "enable");
    await b.invoke("messaging", "enable");
    const snap = await b.message("messaging.enabled");
    assert.deepEqual(snap.header.message, { participants: [] });
    await a.message("participant.enabled"); // others still see b
    a.send("set_attributes", { x: 1 });
    await a.invoke("messaging", "send", {
      to_participant_id: b.id,
      type: "mark",
      message_json: "{}",
    });
    await b.message("mark");
    assert.equal(b.pending("messaging.send").length, 0);
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});
