import assert from "node:assert/strict";
import {
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorContent,
  JsonContent,
  TextContent,
  unpackContent,
} from "./content.ts";
import { ConnectionClosedError, RoomError } from "./errors.ts";
import type { ProtocolMessage } from "./framing.ts";
import { type JsonObject, packMessage, unpackMessage } from "./packing.ts";
import { Protocol } from "./protocol.ts";
import { newToolCallId, ToolCallStreams } from "./tool_call_streams.ts";

/** Two protocols back to back; frames are delivered on a microtask, like a socket would. */
function pair(): { client: Protocol; server: Protocol; calls: ToolCallStreams } {
  const peer: { client?: Protocol; server?: Protocol } = {};
  const client = new Protocol({
    send: (f) => queueMicrotask(() => peer.server!.receive(f.slice())),
    close: (code, reason) => queueMicrotask(() => peer.server!.closed(code, reason)),
  });
  const server = new Protocol({
    send: (f) => queueMicrotask(() => client.receive(f.slice())),
    close: (code, reason) => queueMicrotask(() => client.closed(code, reason)),
  });
  peer.server = server;
  const calls = new ToolCallStreams(client);
  client.on("room.tool_call_response_chunk", (m) => calls.handleChunk(m));
  return { client, server, calls };
}

function sendChunk(server: Protocol, id: string, chunk: Content | JsonObject): void {
  const isContent = chunk instanceof Object && "pack" in chunk;
  const header = isContent ? (chunk as Content).toJson() : chunk;
  const payload = isContent ? (chunk as Content).payload : undefined;
  server.sendPacked("room.tool_call_response_chunk", {
    tool_call_id: id,
    toolkit: "t",
    tool: "x",
    chunk: header,
  }, payload);
}

interface Invoke {
  message: ProtocolMessage;
  header: JsonObject;
  payload: Uint8Array;
  id: string;
}

function onInvoke(server: Protocol, handler: (invoke: Invoke) => void): void {
  server.on("room.invoke_tool", (message) => {
    const { header, payload } = unpackMessage(message.data);
    handler({ message, header, payload, id: header.tool_call_id as string });
  });
}

async function collect(stream: AsyncIterable<Content>): Promise<Content[]> {
  const out: Content[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

Deno.test("newToolCallId has the TS client format and is unique", () => {
  const a = newToolCallId();
  const b = newToolCallId();
  assert.match(a, /^\d{13,}-[0-9a-f]{16}$/);
  assert.notEqual(a, b);
});

Deno.test("unary invoke sends tool_call_id, json arguments and optional fields", async () => {
  const { server, calls } = pair();
  let seen: JsonObject | undefined;
  onInvoke(server, ({ message, header }) => {
    seen = header;
    server.respond(message.id, new JsonContent({ ok: true }));
  });
  const result = await calls.invoke({
    toolkit: "math",
    tool: "sum",
    input: { a: 1 },
    participantId: "p-1",
    onBehalfOfId: "p-2",
  });
  assert.ok(result instanceof JsonContent);
  assert.deepEqual(result.json, { ok: true });
  assert.equal(seen!.toolkit, "math");
  assert.equal(seen!.tool, "sum");
  assert.match(seen!.tool_call_id as string, /^\d+-[0-9a-f]+$/);
  assert.deepEqual(seen!.arguments, { type: "json", json: { a: 1 } });
  assert.equal(seen!.participant_id, "p-1");
  assert.equal(seen!.on_behalf_of_id, "p-2");
  assert.equal(calls.activeCalls, 0);
});

Deno.test("no input is sent as empty; a file input carries its payload", async () => {
  const { server, calls } = pair();
  const seen: Invoke[] = [];
  onInvoke(server, (inv) => {
    seen.push(inv);
    server.respond(inv.message.id, new EmptyContent());
  });
  await calls.invoke({ toolkit: "t", tool: "a" });
  const bytes = new Uint8Array([0, 1, 2, 255]);
  const { FileContent } = await import("./content.ts");
  await calls.invoke({
    toolkit: "t",
    tool: "b",
    input: new FileContent(bytes, "f.bin", "application/octet-stream"),
  });
  assert.deepEqual(seen[0].header.arguments, { type: "empty" });
  assert.deepEqual(seen[1].header.arguments, {
    type: "file",
    name: "f.bin",
    mime_type: "application/octet-stream",
  });
  assert.deepEqual([...seen[1].payload], [0, 1, 2, 255]);
  assert.equal(seen[1].header.participant_id, undefined);
});

Deno.test("an error result rejects with a RoomError carrying the code", async () => {
  const { server, calls } = pair();
  onInvoke(
    server,
    ({ message }) => server.respond(message.id, new ErrorContent("toolkit x was not found", 1003)),
  );
  await assert.rejects(
    calls.invoke({ toolkit: "x", tool: "y" }),
    (e: unknown) =>
      e instanceof RoomError && e.code === 1003 && e.message === "toolkit x was not found",
  );
  assert.equal(calls.activeCalls, 0);
});

Deno.test("chunks that arrive before the open response are buffered, in order", async () => {
  const { server, calls } = pair();
  onInvoke(server, ({ message, id }) => {
    sendChunk(server, id, new TextContent("1"));
    sendChunk(server, id, new BinaryContent(new Uint8Array([9, 8]), { kind: "data" }));
    server.respond(message.id, ControlContent.open());
    sendChunk(server, id, new TextContent("3"));
    sendChunk(server, id, ControlContent.close());
  });
  const items = await collect(await calls.invokeStream({ toolkit: "t", tool: "x" }));
  assert.equal(items.length, 3);
  assert.equal((items[0] as TextContent).text, "1");
  assert.ok(items[1] instanceof BinaryContent);
  assert.deepEqual([...(items[1] as BinaryContent).data], [9, 8]);
  assert.deepEqual((items[1] as BinaryContent).headers, { kind: "data" });
  assert.equal((items[2] as TextContent).text, "3");
  assert.equal(calls.activeCalls, 0);
});

Deno.test("chunks of concurrent calls are routed by tool_call_id", async () => {
  const { server, calls } = pair();
  const ids: string[] = [];
  const requests: number[] = [];
  onInvoke(server, ({ message, id }) => {
    ids.push(id);
    requests.push(message.id);
    server.respond(message.id, ControlContent.open());
    if (ids.length === 2) {
      for (let i = 0; i < 5; i++) {
        sendChunk(server, ids[0], new JsonContent({ call: 0, i }));
        sendChunk(server, ids[1], new JsonContent({ call: 1, i }));
      }
      sendChunk(server, ids[1], ControlContent.close());
      sendChunk(server, ids[0], ControlContent.close());
    }
  });
  const [a, b] = await Promise.all([
    calls.invokeStream({ toolkit: "t", tool: "a" }),
    calls.invokeStream({ toolkit: "t", tool: "b" }),
  ]);
  const [ia, ib] = await Promise.all([collect(a), collect(b)]);
  assert.deepEqual(
    ia.map((c) => (c as JsonContent).json),
    [0, 1, 2, 3, 4].map((i) => ({ call: 0, i })),
  );
  assert.deepEqual(
    ib.map((c) => (c as JsonContent).json),
    [0, 1, 2, 3, 4].map((i) => ({ call: 1, i })),
  );
});

Deno.test("an error chunk is an item; an abnormal close raises with its status and message", async () => {
  const { server, calls } = pair();
  onInvoke(server, ({ message, id }) => {
    server.respond(message.id, ControlContent.open());
    sendChunk(server, id, new ErrorContent("one bad item", 1008));
    sendChunk(server, id, ControlContent.close(1007, "input does not match input_schema"));
  });
  const stream = await calls.invokeStream({ toolkit: "t", tool: "x" });
  const items: Content[] = [];
  await assert.rejects(
    (async () => {
      for await (const c of stream) items.push(c);
    })(),
    (e: unknown) =>
      e instanceof RoomError && e.code === 1007 &&
      e.message === "input does not match input_schema",
  );
  assert.equal(items.length, 1);
  assert.ok(items[0] instanceof ErrorContent);
});

Deno.test("non-content chunks (tool events) become JsonContent", async () => {
  const { server, calls } = pair();
  onInvoke(server, ({ message, id }) => {
    server.respond(message.id, ControlContent.open());
    sendChunk(server, id, { kind: "progress", value: 0.5 });
    sendChunk(server, id, ControlContent.close());
  });
  const items = await collect(await calls.invokeStream({ toolkit: "t", tool: "x" }));
  assert.deepEqual((items[0] as JsonContent).json, { kind: "progress", value: 0.5 });
});

Deno.test("invokeStream rejects a unary answer with code 1100; invoke rejects a stream", async () => {
  const { server, calls } = pair();
  onInvoke(server, ({ message, header }) => {
    server.respond(
      message.id,
      header.tool === "unary" ? new EmptyContent() : ControlContent.open(),
    );
  });
  await assert.rejects(
    calls.invokeStream({ toolkit: "t", tool: "unary" }),
    (e: unknown) => e instanceof RoomError && e.code === 1100,
  );
  await assert.rejects(
    calls.invoke({ toolkit: "t", tool: "stream" }),
    (e: unknown) => e instanceof RoomError && e.code === 1100,
  );
  assert.equal(calls.activeCalls, 0);
});

/** A server that records request chunks and answers each with empty (or an error). */
function recordChunks(server: Protocol, failOn?: string): { chunks: Content[]; ids: string[] } {
  const chunks: Content[] = [];
  const ids: string[] = [];
  server.on("room.tool_call_request_chunk", (m) => {
    const { header, payload } = unpackMessage(m.data);
    ids.push(header.tool_call_id as string);
    const chunk = unpackContent(packMessage(header.chunk as JsonObject, payload));
    chunks.push(chunk);
    if (failOn && chunk instanceof TextContent && chunk.text === failOn) {
      server.respond(m.id, new ErrorContent("schema mismatch", 1002));
    } else {
      server.respond(m.id, new EmptyContent());
    }
  });
  return { chunks, ids };
}

Deno.test("streamed input: control open, chunks one at a time, then a close chunk", async () => {
  const { server, calls } = pair();
  const { chunks, ids } = recordChunks(server);
  let invokeHeader: JsonObject | undefined;
  let toolCallId = "";
  onInvoke(server, ({ header, id, message }) => {
    invokeHeader = header;
    toolCallId = id;
    // answer only after the input closed, like storage.upload
    const timer = setInterval(() => {
      const last = chunks.at(-1);
      if (last instanceof ControlContent && last.method === "close") {
        clearInterval(timer);
        server.respond(message.id, new JsonContent({ received: chunks.length - 1 }));
      }
    }, 1);
  });
  async function* input(): AsyncGenerator<Content> {
    yield new TextContent("a");
    yield new BinaryContent(new Uint8Array([1, 2, 3]));
    yield new TextContent("c");
  }
  const result = await calls.invoke({ toolkit: "storage", tool: "upload", input: input() });
  assert.deepEqual(invokeHeader!.arguments, { type: "control", method: "open" });
  assert.deepEqual((result as JsonContent).json, { received: 3 });
  assert.equal(chunks.length, 4);
  assert.equal((chunks[0] as TextContent).text, "a");
  assert.deepEqual([...(chunks[1] as BinaryContent).data], [1, 2, 3]);
  assert.equal((chunks[2] as TextContent).text, "c");
  assert.ok(
    chunks[3] instanceof ControlContent && chunks[3].method === "close" &&
      chunks[3].statusCode === 1000,
  );
  assert.ok(ids.every((id) => id === toolCallId));
  assert.equal(calls.activeCalls, 0);
});

Deno.test("request chunks start before the open response", async () => {
  const { server, calls } = pair();
  const { chunks } = recordChunks(server);
  onInvoke(server, ({ message, id }) => {
    // wait for the first input chunk before opening, like the TS test server does
    const timer = setInterval(() => {
      if (chunks.length > 0) {
        clearInterval(timer);
        server.respond(message.id, ControlContent.open());
        sendChunk(server, id, new TextContent(`got ${(chunks[0] as TextContent).text}`));
        sendChunk(server, id, ControlContent.close());
      }
    }, 1);
  });
  async function* input(): AsyncGenerator<Content> {
    yield new TextContent("start");
  }
  const items = await collect(
    await calls.invokeStream({ toolkit: "t", tool: "x", input: input() }),
  );
  assert.equal((items[0] as TextContent).text, "got start");
});

Deno.test("an error response to a request chunk fails the output stream", async () => {
  const { server, calls } = pair();
  recordChunks(server, "bad");
  onInvoke(server, ({ message }) => server.respond(message.id, ControlContent.open()));
  async function* input(): AsyncGenerator<Content> {
    yield new TextContent("ok");
    yield new TextContent("bad");
    yield new TextContent("never");
  }
  const stream = await calls.invokeStream({ toolkit: "t", tool: "x", input: input() });
  await assert.rejects(
    collect(stream),
    (e: unknown) => e instanceof RoomError && e.message === "schema mismatch" && e.code === 1002,
  );
});

Deno.test("chunkWindow: that many request chunks await their answers at once (default 1)", async () => {
  for (const window of [undefined, 3]) {
    const { server, calls } = pair();
    // The server holds its answers to request chunks until released.
    const held: number[] = [];
    const chunks: Content[] = [];
    server.on("room.tool_call_request_chunk", (m) => {
      const { header, payload } = unpackMessage(m.data);
      chunks.push(unpackContent(packMessage(header.chunk as JsonObject, payload)));
      held.push(m.id);
    });
    onInvoke(server, ({ message }) => server.respond(message.id, ControlContent.open()));
    let produced = 0;
    const input = async function* (): AsyncGenerator<Content> {
      for (let i = 0; i < 10; i++) {
        produced++;
        yield new TextContent(`c${i}`);
      }
    };
    const stream = await calls.invokeStream({
      toolkit: "t",
      tool: "x",
      input: input(),
      chunkWindow: window,
    });
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    const expected = window ?? 1;
    assert.equal(chunks.length, expected, `window ${window}: chunks sent before any answer`);
    // Answering releases the rest, still in order, then the close.
    while (!(chunks.at(-1) instanceof ControlContent)) {
      const id = held.shift();
      if (id !== undefined) server.respond(id, new EmptyContent());
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(produced, 10);
    assert.deepEqual(
      chunks.slice(0, 10).map((c) => (c as TextContent).text),
      Array.from({ length: 10 }, (_, i) => `c${i}`),
    );
    for (const id of held) server.respond(id, new EmptyContent());
    sendChunk(server, stream.toolCallId, ControlContent.close());
    await collect(stream);
  }
});

Deno.test("chunkWindow: an error answer still stops the input", async () => {
  const { server, calls } = pair();
  const { chunks } = recordChunks(server, "c2");
  onInvoke(server, ({ message }) => server.respond(message.id, ControlContent.open()));
  let produced = 0;
  async function* input(): AsyncGenerator<Content> {
    for (let i = 0; i < 1000; i++) {
      produced++;
      yield new TextContent(`c${i}`);
    }
  }
  const stream = await calls.invokeStream({
    toolkit: "t",
    tool: "x",
    input: input(),
    chunkWindow: 4,
  });
  await assert.rejects(collect(stream), (e: unknown) => e instanceof RoomError && e.code === 1002);
  assert.ok(produced < 20, `the input stopped early (${produced} produced)`);
  assert.ok(chunks.length < 20);
});

Deno.test("breaking out of the output closes an endless input with a close chunk", async () => {
  const { server, calls } = pair();
  const { chunks } = recordChunks(server);
  let toolCallId = "";
  onInvoke(server, ({ message, id }) => {
    toolCallId = id;
    server.respond(message.id, ControlContent.open());
    sendChunk(server, id, new TextContent("first"));
    sendChunk(server, id, new TextContent("second"));
  });
  let inputEnded = false;
  const stop = new AbortController();
  // deno-lint-ignore require-yield -- an input that stays open and sends nothing
  async function* input(): AsyncGenerator<Content> {
    try {
      await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
    } finally {
      inputEnded = true;
    }
  }
  const stream = await calls.invokeStream({ toolkit: "developer", tool: "logs", input: input() });
  for await (const c of stream) {
    assert.equal((c as TextContent).text, "first");
    break;
  }
  stop.abort();
  // the close chunk reaches the server
  while (chunks.length === 0) await new Promise((r) => setTimeout(r, 1));
  assert.ok(chunks[0] instanceof ControlContent && chunks[0].method === "close");
  assert.equal(calls.activeCalls, 0);
  // later chunks for the finished call are dropped quietly
  sendChunk(server, toolCallId, new TextContent("late"));
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(inputEnded);
});

Deno.test("a closed connection fails open streams and pending invokes", async () => {
  const { client, server, calls } = pair();
  onInvoke(server, ({ message, header }) => {
    if (header.tool === "stream") server.respond(message.id, ControlContent.open());
    // "pending" never answers
  });
  const stream = await calls.invokeStream({ toolkit: "t", tool: "stream" });
  const pending = calls.invoke({ toolkit: "t", tool: "pending" });
  const consumed = collect(stream);
  await new Promise((r) => setTimeout(r, 5));
  client.closed(1006, "network lost");
  await assert.rejects(pending, ConnectionClosedError);
  await assert.rejects(consumed, ConnectionClosedError);
  assert.equal(calls.activeCalls, 0);
  await assert.rejects(calls.invoke({ toolkit: "t", tool: "after" }), ConnectionClosedError);
});

Deno.test("an aborted signal ends a stream with the signal's reason", async () => {
  const { server, calls } = pair();
  onInvoke(server, ({ message }) => server.respond(message.id, ControlContent.open()));
  const controller = new AbortController();
  const stream = await calls.invokeStream({ toolkit: "t", tool: "x", signal: controller.signal });
  const consumed = collect(stream);
  controller.abort(new Error("stop now"));
  await assert.rejects(consumed, /stop now/);
  assert.equal(calls.activeCalls, 0);
});

Deno.test("a timeout fails an unanswered invoke", async () => {
  const { server, calls } = pair();
  onInvoke(server, () => {});
  await assert.rejects(
    calls.invoke({ toolkit: "t", tool: "slow", timeout: 20 }),
    (e: unknown) => e instanceof RoomError && e.code === 1009,
  );
  assert.equal(calls.activeCalls, 0);
});

Deno.test("an input iterator that throws rejects the invoke and still closes the input", async () => {
  const { server, calls } = pair();
  const { chunks } = recordChunks(server);
  onInvoke(server, () => {});
  async function* input(): AsyncGenerator<Content> {
    yield new TextContent("a");
    throw new Error("disk read failed");
  }
  await assert.rejects(
    calls.invoke({ toolkit: "t", tool: "x", input: input() }),
    /disk read failed/,
  );
  while (chunks.length < 2) await new Promise((r) => setTimeout(r, 1));
  assert.ok(chunks[1] instanceof ControlContent && chunks[1].method === "close");
});
