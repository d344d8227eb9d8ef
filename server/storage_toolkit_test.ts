// The storage toolkit over real sockets, checked on the wire with the raw test client: exact
// chunk headers and reply keys, pull-driven flow, error chunks, disconnects, limits and signed
// download URLs.
import assert from "node:assert/strict";
import {
  ApiScope,
  BinaryContent,
  type Content,
  ControlContent,
  EmptyContent,
  ErrorCode,
  ErrorContent,
  generateApiKey,
  JsonContent,
  ParticipantToken,
  RoomError,
  storageNameViolation,
} from "@meshagent/api";
import { TestClient } from "./_test_helpers.ts";
import { RoomServer } from "./room_server.ts";
import { startTestServer, type TestServer } from "./testing.ts";

const NONE = new Uint8Array(0);

async function join(server: TestServer, room: string, name: string): Promise<TestClient> {
  return await TestClient.connect(server.roomUrl(room), await server.token(room, name));
}

function start(headers: Record<string, unknown>): BinaryContent {
  return new BinaryContent(NONE, headers as BinaryContent["headers"]);
}

/** Runs a whole upload over the raw protocol; returns every response chunk. */
async function rawUpload(
  client: TestClient,
  id: string,
  path: string,
  data: Uint8Array,
  extra: Record<string, unknown> = {},
): Promise<Content[]> {
  assert.ok(
    (await client.openStream("storage", "upload", id)) instanceof ControlContent,
    "the invoke answers control open",
  );
  await client.chunk(
    id,
    start({
      kind: "start",
      path,
      overwrite: false,
      name: path.split("/").at(-1),
      mime_type: "text/plain",
      size: data.length,
      ...extra,
    }),
  );
  const seen: Content[] = [];
  let offset = 0;
  while (true) {
    const c = await client.responseChunk(id);
    seen.push(c);
    if (c instanceof ControlContent || c instanceof ErrorContent) {
      if (c instanceof ErrorContent) seen.push(await client.responseChunk(id));
      return seen;
    }
    assert.ok(c instanceof BinaryContent);
    const size = c.headers.chunk_size as number;
    if (offset >= data.length) {
      await client.chunk(id, ControlContent.close());
      continue;
    }
    await client.chunk(
      id,
      new BinaryContent(data.subarray(offset, offset + size), { kind: "data" }),
    );
    offset += size;
  }
}

Deno.test("storage wire: upload pulls, exact headers, commit on close, updated event to both", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "w1", "alice");
    const b = await join(server, "w1", "bob");
    const data = new TextEncoder().encode("x".repeat(3000));
    const chunks = await rawUpload(a, "u1", "/docs//a.txt", data);
    const pull = chunks[0] as BinaryContent;
    assert.deepEqual(Object.keys(pull.headers).sort(), ["chunk_size", "kind"]);
    assert.equal(pull.headers.kind, "pull");
    assert.ok(pull.data.length === 0 && (pull.headers.chunk_size as number) > 0);
    const close = chunks.at(-1) as ControlContent;
    assert.ok(close instanceof ControlContent && close.method === "close");
    assert.equal(close.statusCode, 1000);

    for (const who of [a, b]) {
      const event = await who.next("storage.file.updated");
      assert.deepEqual(event.header, { path: "docs/a.txt", participant_id: a.id });
      assert.equal(event.payload.length, 0);
    }

    // Unary replies: exact key sets.
    const stat = (await b.invoke("storage", "stat", { path: "docs/a.txt" })) as JsonContent;
    assert.deepEqual(Object.keys(stat.json as object).sort(), [
      "created_at",
      "exists",
      "is_folder",
      "name",
      "size",
      "updated_at",
    ]);
    assert.equal((stat.json as { size: number }).size, 3000);
    assert.match((stat.json as { updated_at: string }).updated_at, /^\d{4}-\d\d-\d\dT.*Z$/);
    const missing = (await b.invoke("storage", "stat", { path: "nope" })) as JsonContent;
    assert.deepEqual(missing.json, { exists: false });
    const exists = (await b.invoke("storage", "exists", { path: "docs" })) as JsonContent;
    assert.deepEqual(exists.json, { exists: true });
    const list = (await b.invoke("storage", "list", { path: "" })) as JsonContent;
    assert.deepEqual(list.json, {
      files: [{ name: "docs", is_folder: true, size: null, created_at: null, updated_at: null }],
    });
    assert.ok(
      (await b.invoke("storage", "delete", { path: "docs/a.txt", recursive: null })) instanceof
        EmptyContent,
    );
    await a.close();
    await b.close();
  } finally {
    await server.close();
  }
});

Deno.test("storage wire: download start has exactly four keys; data per pull; close after the last byte", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "w2", "alice");
    await rawUpload(a, "u", "f.bin", new Uint8Array(2500).fill(7), { mime_type: "image/png" });
    await rawUpload(a, "z", "zero.bin", NONE);

    await a.openStream("storage", "download", "d1");
    await a.chunk("d1", start({ kind: "start", path: "f.bin", chunk_size: 1000 }));
    const head = (await a.responseChunk("d1")) as BinaryContent;
    assert.deepEqual(head.headers, {
      kind: "start",
      name: "f.bin",
      mime_type: "image/png",
      size: 2500,
    });
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      await a.chunk("d1", start({ kind: "pull" }));
      const data = (await a.responseChunk("d1")) as BinaryContent;
      assert.deepEqual(data.headers, { kind: "data" });
      sizes.push(data.data.length);
    }
    assert.deepEqual(sizes, [1000, 1000, 500]);
    const end = await a.responseChunk("d1");
    assert.ok(end instanceof ControlContent && end.method === "close");
    await a.chunk("d1", ControlContent.close());

    // size 0: start then close, no pull needed
    await a.openStream("storage", "download", "d2");
    await a.chunk("d2", start({ kind: "start", path: "zero.bin", chunk_size: 65536 }));
    assert.equal(((await a.responseChunk("d2")) as BinaryContent).headers.size, 0);
    assert.ok((await a.responseChunk("d2")) instanceof ControlContent);
    await a.chunk("d2", ControlContent.close());

    // missing file: error 3001 then a normal close
    await a.openStream("storage", "download", "d3");
    await a.chunk("d3", start({ kind: "start", path: "missing.bin", chunk_size: 65536 }));
    const err = await a.responseChunk("d3");
    assert.ok(err instanceof ErrorContent && err.code === 3001);
    const close = await a.responseChunk("d3");
    assert.ok(close instanceof ControlContent && close.statusCode === 1000);
    await a.chunk("d3", ControlContent.close());
    await a.close();
  } finally {
    await server.close();
  }
});

Deno.test("storage wire: chunks sent before the open answer are buffered; bad chunks abort", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "w3", "alice");
    // invoke and start chunk back to back, without waiting
    const opened = a.openStream("storage", "upload", "early");
    const started = a.chunk(
      "early",
      start({
        kind: "start",
        path: "early.txt",
        overwrite: false,
        name: "early.txt",
        mime_type: "text/plain",
        size: null,
      }),
    );
    assert.ok((await opened) instanceof ControlContent);
    await started;
    assert.equal(((await a.responseChunk("early")) as BinaryContent).headers.kind, "pull");
    // a json chunk instead of data: error 1002, close, nothing written
    await a.chunk("early", new JsonContent({ oops: true }));
    let err = await a.responseChunk("early");
    while (err instanceof BinaryContent) err = await a.responseChunk("early"); // queued pulls
    assert.ok(err instanceof ErrorContent && err.code === 1002, String(err.toJson().text));
    assert.ok((await a.responseChunk("early")) instanceof ControlContent);
    const exists = (await a.invoke("storage", "exists", { path: "early.txt" })) as JsonContent;
    assert.deepEqual(exists.json, { exists: false });

    // a data chunk larger than the pulled chunk_size is refused
    await a.openStream("storage", "upload", "big");
    await a.chunk("big", start({ kind: "start", path: "big.bin", size: null }));
    const pull = (await a.responseChunk("big")) as BinaryContent;
    const tooBig = new Uint8Array((pull.headers.chunk_size as number) + 1);
    await a.chunk("big", new BinaryContent(tooBig, { kind: "data" }));
    let c = await a.responseChunk("big");
    while (c instanceof BinaryContent) c = await a.responseChunk("big"); // queued pulls
    assert.ok(c instanceof ErrorContent && c.code === 1002);
    await a.close();
  } finally {
    await server.close();
  }
});

Deno.test("storage wire: a disconnect mid-upload leaves nothing visible and no temp file", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "w4", "alice");
    await a.openStream("storage", "upload", "cut");
    await a.chunk("cut", start({ kind: "start", path: "cut/half.bin", size: 1_000_000 }));
    await a.responseChunk("cut");
    await a.chunk("cut", new BinaryContent(new Uint8Array(1000), { kind: "data" }));
    await a.close();
    const b = await join(server, "w4", "bob");
    const exists = (await b.invoke("storage", "exists", { path: "cut/half.bin" })) as JsonContent;
    assert.deepEqual(exists.json, { exists: false });
    // the writer was aborted: its temp file is gone too (give the abort a moment)
    const dir = `${server.dataDir}/rooms/w4/files`;
    let leftovers: string[] = [];
    for (let i = 0; i < 50; i++) {
      leftovers = [];
      for await (const e of walk(dir)) leftovers.push(e);
      if (leftovers.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(leftovers, []);
    await b.close();
  } finally {
    await server.close();
  }
});

async function* walk(dir: string): AsyncGenerator<string> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) yield* walk(`${dir}/${e.name}`);
      else yield `${dir}/${e.name}`;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

Deno.test("storage: download URLs are absolute, signed, and survive a restart", async () => {
  const server = await startTestServer();
  try {
    const a = await join(server, "w5", "alice");
    await rawUpload(a, "u", "page.html", new TextEncoder().encode("<b>hi</b>"), {
      mime_type: "text/html",
    });
    const inline =
      (await a.invoke("storage", "download_url", { path: "page.html" })) as JsonContent;
    const url = (inline.json as { url: string }).url;
    assert.ok(url.startsWith(`${server.url}/rooms/w5/storage/download?`), url);
    const attach = (await a.invoke("storage", "download_url", {
      path: "page.html",
      download: true,
    })) as JsonContent;
    await a.close();

    let res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html");
    assert.match(res.headers.get("content-disposition")!, /^inline/);
    assert.equal(await res.text(), "<b>hi</b>");
    // Ranges and HEAD come through the server's HTTP front unchanged.
    res = await fetch(url, { headers: { range: "bytes=3-4" } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-range"), "bytes 3-4/9");
    assert.equal(await res.text(), "hi");
    res = await fetch(url, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), "9");
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    res = await fetch((attach.json as { url: string }).url);
    assert.match(res.headers.get("content-disposition")!, /^attachment/);
    await res.body?.cancel();
    res = await fetch(url.replace("page.html", "other.html"));
    assert.equal(res.status, 403);
    await res.body?.cancel();

    await server.restart();
    res = await fetch(url);
    assert.equal(res.status, 200, "the same URL works after a restart");
    assert.equal(await res.text(), "<b>hi</b>");
    const secret = await Deno.stat(`${server.dataDir}/download-url-secret`);
    assert.equal(secret.size, 32);
    if (Deno.build.os !== "windows") assert.equal(secret.mode! & 0o777, 0o600);
  } finally {
    await server.close();
  }
});

Deno.test("storage: the server's file size limit refuses an announced or streamed oversize upload", async () => {
  const key = generateApiKey();
  const dataDir = await Deno.makeTempDir();
  const server = await RoomServer.listen({
    port: 0,
    dataDir,
    keys: [key],
    storage: { maxFileBytes: 10_000, uploadChunkSize: 4096, uploadPullWindow: 1 },
  });
  try {
    const token = new ParticipantToken({ name: "alice" });
    token.addRoomGrant("lim");
    token.addApiGrant(ApiScope.agentDefault());
    const a = await TestClient.connect(
      `ws://127.0.0.1:${server.port}/rooms/lim`,
      await token.toJwt({ apiKey: key.key }),
    );
    const announced = await rawUpload(a, "u1", "big.bin", new Uint8Array(20_000));
    const e1 = announced.find((c) => c instanceof ErrorContent) as ErrorContent;
    assert.equal(e1?.code, 1002);
    assert.match(e1.text, /limit/);
    const streamed = await rawUpload(a, "u2", "big2.bin", new Uint8Array(20_000), { size: null });
    const pulls = streamed.filter((c) => c instanceof BinaryContent) as BinaryContent[];
    assert.ok(pulls.every((p) => p.headers.chunk_size === 4096));
    assert.equal((streamed.find((c) => c instanceof ErrorContent) as ErrorContent)?.code, 1002);
    const ok = await rawUpload(a, "u3", "small.bin", new Uint8Array(9_000));
    assert.ok(ok.at(-1) instanceof ControlContent && !ok.some((c) => c instanceof ErrorContent));
    const list = (await a.invoke("storage", "list", { path: "" })) as JsonContent;
    assert.deepEqual((list.json as { files: { name: string }[] }).files.map((f) => f.name), [
      "small.bin",
    ]);
    await a.close();
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("storage: names with control or bidirectional characters are refused with 3004 naming the character", async () => {
  const server = await startTestServer();
  const room = await server.connect("names", "alice");
  const bytes = new TextEncoder().encode("x");
  try {
    await room.storage.upload("ok.txt", bytes);
    const refused: [string, string][] = [
      ["a\nb.txt", "U+000A LINE FEED"],
      ["notes/a\rb.txt", "U+000D CARRIAGE RETURN"],
      ["a\x7fb.txt", "U+007F DELETE"],
      ["a\x85b.txt", "U+0085 NEXT LINE"],
      ["invoice\u202Efdp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"],
      ["a\u2066b.txt", "U+2066 LEFT-TO-RIGHT ISOLATE"],
      ["a\u200Fb.txt", "U+200F RIGHT-TO-LEFT MARK"],
      ["a\u2028b.txt", "U+2028 LINE SEPARATOR"],
    ];
    for (const [path, character] of refused) {
      const check = (e: unknown) =>
        e instanceof RoomError && e.code === ErrorCode.STORAGE_INVALID_PATH &&
        e.message.includes(character) && storageNameViolation(e.message) === undefined;
      const what = JSON.stringify(path);
      await assert.rejects(room.storage.upload(path, bytes), check, `upload ${what}`);
      await assert.rejects(room.storage.move("ok.txt", path), check, `move to ${what}`);
      await assert.rejects(room.storage.exists(path), check, `exists ${what}`);
    }
    const names = ["été.txt", "日本/資料.md", "🎉 👨‍👩‍👧.txt", "עברית.txt"];
    for (const path of names) await room.storage.upload(path, new TextEncoder().encode(path));
    await room.storage.move("ok.txt", "naïve.txt");
    const listed = (await room.storage.list("")).map((e) => e.name).sort();
    assert.deepEqual(listed, ["naïve.txt", "עברית.txt", "été.txt", "日本", "🎉 👨‍👩‍👧.txt"].sort());
    const file = await room.storage.download("日本/資料.md");
    assert.equal(new TextDecoder().decode(file.data), "日本/資料.md");
  } finally {
    await room.dispose();
    await server.close();
  }
});

Deno.test("storage: upload temp files a crash left are gone after a restart; newer ones are kept", async () => {
  const server = await startTestServer();
  try {
    const room = await server.connect("leftovers", "alice");
    await room.storage.upload("keep.txt", new TextEncoder().encode("kept"));
    await room.dispose();
    // What a server killed mid-upload leaves: temp files (one in a folder made for it), a
    // few seconds old, far from the one-hour stale limit.
    const files = `${server.dataDir}/rooms/leftovers/files`;
    await Deno.mkdir(`${files}/cut`);
    await Deno.writeTextFile(`${files}/.meshagent~upload-crashed`, "partial");
    await Deno.writeTextFile(`${files}/cut/.meshagent~upload-crashed`, "partial");
    await server.restart();
    // Written after the restart: not a leftover (it could be an upload of the new server).
    await new Promise((r) => setTimeout(r, 50)); // file times run on a coarser clock
    await Deno.writeTextFile(`${files}/.meshagent~upload-newer`, "live");

    const again = await server.connect("leftovers", "bob");
    assert.deepEqual((await again.storage.list("")).map((e) => e.name), ["keep.txt"]);
    await again.dispose();
    const left: string[] = [];
    for await (const path of walk(files)) left.push(path.slice(files.length + 1));
    assert.deepEqual(left.sort(), [".meshagent~upload-newer", "keep.txt"]);
  } finally {
    await server.close();
  }
});
