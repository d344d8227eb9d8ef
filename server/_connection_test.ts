import assert from "node:assert/strict";
import {
  ApiScope,
  ControlContent,
  EmptyContent,
  encodePackets,
  ErrorContent,
  generateApiKey,
  JsonContent,
  packMessage,
  ParticipantToken,
  RoomError,
  TextContent,
  unpackContent,
} from "@meshagent/api";
import { WebSocket as WS } from "ws";
import { sendRaw, TestClient } from "./_test_helpers.ts";
import { RoomServer } from "./room_server.ts";
import type { RoomToolkit } from "./room_toolkit.ts";
import { startTestServer } from "./testing.ts";

/** Sends raw data as a request; resolves with the answer, or the error it rejected with. */
function rawRequest(client: TestClient, type: string, data: Uint8Array): Promise<unknown> {
  return client.protocol.request(type, data, { timeout: 5000 }).catch((e) => e);
}

Deno.test("malformed frames are ignored; the socket keeps working", async () => {
  const server = await startTestServer();
  try {
    const a = await TestClient.connect(server.roomUrl("frames"), await server.token("frames", "a"));
    sendRaw(a, new Uint8Array([1, 2, 3]));
    // A data packet without a header, then a header whose data never completes.
    const data = new Uint8Array(12 + 5);
    new DataView(data.buffer).setUint32(8, 1);
    sendRaw(a, data);
    sendRaw(a, encodePackets({ id: 9, type: "room.invoke_tool", data: new Uint8Array(3000) })[0]);
    a.socket.send("a text frame");
    assert.ok((await a.invoke("queues", "list")) instanceof JsonContent);
    await a.close();
  } finally {
    await server.close();
  }
});

Deno.test("unknown request types, toolkits, tools and malformed requests get error responses", async () => {
  const server = await startTestServer();
  try {
    const a = await TestClient.connect(server.roomUrl("errors"), await server.token("errors", "a"));
    await assert.rejects(a.request("room.no_such_thing", {}), {
      message: "unsupported request type room.no_such_thing",
      code: 1002,
    });
    // The exact wire content for an unknown toolkit (text and code of the error content).
    await assert.rejects(a.invoke("nope", "x"), (e: RoomError) => {
      assert.equal(e.message, "toolkit nope was not found");
      assert.equal(e.code, 1003);
      return true;
    });
    await assert.rejects(a.invoke("queues", "nope"), { code: 1003 });
    await assert.rejects(a.invoke("queues", "constructor"), { code: 1003 });
    await assert.rejects(a.request("room.invoke_tool", { toolkit: "queues", tool: "list" }), {
      code: 1002,
    });
    await assert.rejects(
      a.request("room.invoke_tool", {
        toolkit: "queues",
        tool: "list",
        arguments: { type: "weird" },
      }),
      { code: 1002 },
    );
    await assert.rejects(
      a.request("room.invoke_tool", { toolkit: 5, tool: "list", arguments: { type: "empty" } }),
      { code: 1002 },
    );
    await assert.rejects(
      a.invoke("messaging", "send", { to_participant_id: a.id, type: "t", message_json: "nope" }),
      { code: 1002 },
    );
    // Malformed packed data: the error answers the request's own id.
    const bad = await rawRequest(a, "room.invoke_tool", new Uint8Array([0, 0, 0, 0, 0, 0, 0, 50]));
    assert.ok(bad instanceof RoomError);
    assert.equal(bad.code, 1002);
    const json = new TextEncoder().encode("{not json");
    const packed = new Uint8Array(8 + json.length);
    new DataView(packed.buffer).setUint32(4, json.length);
    packed.set(json, 8);
    const bad2 = await rawRequest(a, "room.tool_call_request_chunk", packed);
    assert.ok(bad2 instanceof RoomError);
    assert.equal(bad2.code, 1002);
    // Host-side messages and set_attributes never get a response; the socket still works.
    const silent = [
      a.send("room.tool_call_response", { type: "empty" }),
      a.send("room.tool_call_response_chunk", { tool_call_id: "x", chunk: { type: "empty" } }),
      a.send("set_attributes", { ok: true }),
    ];
    assert.ok((await a.invoke("queues", "list")) instanceof JsonContent);
    for (const id of silent) assert.ok(!a.answered(id), `message ${id} got a response`);
    await a.close();
  } finally {
    await server.close();
  }
});

Deno.test("an oversized message closes only the offending socket with 1009", async () => {
  const server = await startTestServer({ maxMessageSize: 64 * 1024 });
  try {
    const big = await TestClient.connect(server.roomUrl("big"), await server.token("big", "big"));
    const same = await TestClient.connect(server.roomUrl("big"), await server.token("big", "same"));
    const other = await TestClient.connect(
      server.roomUrl("elsewhere"),
      await server.token("elsewhere", "other"),
    );
    await same.invoke("messaging", "enable");
    const frames = encodePackets({
      id: 1,
      type: "room.invoke_tool",
      data: new Uint8Array(100_000),
    });
    for (const frame of frames) {
      if (big.socket.readyState !== WebSocket.OPEN) break;
      sendRaw(big, frame);
    }
    const event = await big.closed;
    assert.equal(event.code, 1009);
    assert.match(event.reason, /too big/);
    assert.ok((await same.invoke("queues", "list")) instanceof JsonContent);
    assert.ok((await other.invoke("queues", "list")) instanceof JsonContent);
    await same.close();
    await other.close();
  } finally {
    await server.close();
  }
});

Deno.test("streamed input and output through a pluggable toolkit (chunks may precede the answer)", async () => {
  const key = generateApiKey();
  const dataDir = await Deno.makeTempDir();
  // Echoes every input chunk back as an output chunk, then the count as a text chunk.
  const echo: RoomToolkit = {
    name: "echo",
    surface: "developer",
    tools: {
      async *stream(ctx) {
        let n = 0;
        for await (const chunk of ctx.inputStream) {
          n++;
          yield chunk;
        }
        yield new TextContent(`got ${n}`);
      },
      async sum(ctx) {
        let total = 0;
        for await (const chunk of ctx.inputStream) total += (chunk as JsonContent).json as number;
        return new JsonContent({ total });
      },
      fail() {
        throw new Error("boom");
      },
    },
  };
  const server = await RoomServer.listen({ port: 0, dataDir, keys: [key], toolkits: [() => echo] });
  try {
    const jwt = await new ParticipantToken({ name: "a" }).addRoomGrant("streams")
      .addApiGrant(ApiScope.agentDefault()).toJwt({ apiKey: key.key });
    const a = await TestClient.connect(`ws://127.0.0.1:${server.port}/rooms/streams`, jwt);

    // Unary result from streamed input; chunks are sent before the invoke is answered.
    const pending = a.openStream("echo", "sum", "sum-1");
    for (const n of [1, 2, 3]) {
      assert.ok((await a.chunk("sum-1", new JsonContent(n))) instanceof EmptyContent);
    }
    await a.chunk("sum-1", ControlContent.close());
    assert.deepEqual(((await pending) as JsonContent).json, { total: 6 });

    // Streamed both ways, with a binary payload.
    const opened = await a.openStream("echo", "stream", "s-1");
    assert.ok(opened instanceof ControlContent && opened.method === "open");
    await a.chunk("s-1", new JsonContent({ x: 1 }));
    const out1 = await a.responseChunk("s-1");
    assert.deepEqual((out1 as JsonContent).json, { x: 1 });
    const chunkMsg = a.pending("room.tool_call_response_chunk");
    assert.equal(chunkMsg.length, 0);
    await a.chunk("s-1", ControlContent.close());
    assert.equal(((await a.responseChunk("s-1")) as TextContent).text, "got 1");
    const end = await a.responseChunk("s-1");
    assert.ok(end instanceof ControlContent && end.method === "close" && end.statusCode === 1000);

    // A chunk for a call that is not open; a late close is answered quietly.
    await assert.rejects(a.chunk("nope", new JsonContent(1)), { code: 1006 });
    assert.ok((await a.chunk("nope", ControlContent.close())) instanceof EmptyContent);
    // A failing tool answers an error.
    await assert.rejects(a.invoke("echo", "fail"), { code: 1008 });
    await a.close();
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a request whose id is past 2^53-1 gets an error response with the same 8 id bytes", async () => {
  const server = await startTestServer();
  try {
    const jwt = await server.token("ids", "a");
    const ws = new WS(server.roomUrl("ids"), { headers: { authorization: `Bearer ${jwt}` } });
    ws.on("error", () => {});
    /** The frames of `__response__` messages the server sent, by their 8 id bytes. */
    const responses = new Map<bigint, Uint8Array[]>();
    const ready = Promise.withResolvers<void>();
    let last = -1n;
    ws.on("message", (data: Uint8Array) => {
      const frame = new Uint8Array(data);
      const view = new DataView(frame.buffer, frame.byteOffset);
      const id = view.getBigUint64(0);
      if (view.getUint32(8) === 0) {
        const type = new TextDecoder().decode(frame.subarray(16));
        if (type === "connected") ready.resolve();
        last = type === "__response__" ? id : -1n;
        if (last >= 0n) responses.set(id, [frame]);
      } else if (id === last) {
        responses.get(id)!.push(frame);
      }
    });
    await ready.promise;
    const invoke = packMessage({
      toolkit: "queues",
      tool: "list",
      arguments: { type: "json", json: {} },
    });
    const request = (id: bigint) => {
      const [header, ...data] = encodePackets({ id: 0, type: "room.invoke_tool", data: invoke });
      for (const frame of [header, ...data]) {
        new DataView(frame.buffer, frame.byteOffset).setBigUint64(0, id);
        ws.send(frame);
      }
    };
    const answer = async (id: bigint) => {
      for (let i = 0; i < 200 && !(responses.get(id)?.length === 2); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const frames = responses.get(id);
      assert.equal(frames?.length, 2, `an answer to ${id}`);
      return unpackContent(frames![1].subarray(12));
    };
    for (const id of [2n ** 64n - 1n, 2n ** 53n + 1n]) {
      request(id);
      const content = await answer(id);
      assert.ok(content instanceof ErrorContent, `${id}: ${content.type}`);
      assert.equal(content.code, 1002);
      assert.match(content.text, new RegExp(`message id ${id} is beyond 2\\^53-1`));
    }
    // The connection still works, and the largest safe id is served normally.
    request(2n ** 53n - 1n);
    assert.ok((await answer(2n ** 53n - 1n)) instanceof JsonContent);
    ws.close();
    await new Promise((resolve) => ws.on("close", resolve));
  } finally {
    await server.close();
  }
});
