import assert from "node:assert/strict";
import * as Y from "yjs";
import {
  ApiScope,
  type MeshDocument,
  MeshSchema,
  PathGrant,
  RoomClient,
  type RoomError,
  SyncGrant,
  toWireUpdate,
} from "@meshagent/api";
import { SCHEMA_JSON } from "../../api/testdata/sync_page_schema.ts";
import { startTestServer, type TestServer } from "@meshagent/server/testing";

const schema = MeshSchema.fromJson(SCHEMA_JSON);

async function connect(
  server: TestServer,
  room: string,
  name: string,
  api?: ApiScope,
): Promise<RoomClient> {
  const client = new RoomClient({
    url: server.roomUrl(room),
    token: await server.token(room, name, api ? { api } : {}),
    reconnectTimeout: 0,
  });
  await client.start({ timeout: 5000 });
  return client;
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function same(docs: MeshDocument[]): boolean {
  const first = JSON.stringify(docs[0].toJson());
  return docs.every((d) => JSON.stringify(d.toJson()) === first);
}

Deno.test("sync: three clients edit one document concurrently and converge; a late joiner loads the same state", async () => {
  const server = await startTestServer();
  const clients: RoomClient[] = [];
  try {
    for (const n of ["a", "b", "c"]) clients.push(await connect(server, "s1", n));
    const path = "notes/one.page";
    const a = await clients[0].sync.open(path, {
      schema,
      initialJson: { page: { title: "T", children: [] } },
    });
    const b = await clients[1].sync.open(path);
    const c = await clients[2].sync.open("/" + path);
    assert.equal(b.root.getAttribute("title"), "T");
    // Concurrent inserts, attribute changes, text edits, deletes.
    for (let i = 0; i < 20; i++) {
      a.root.createChildElement("para", { style: "a", n: i });
      b.root.createChildElement("para", { style: "b", n: i });
      if (i % 5 === 0) c.root.setAttribute("title", `c${i}`);
    }
    const text = c.root.createChildElement("text", {});
    text.insertText(0, "hello");
    await until(() => a.root.children.length === 41 && b.root.children.length === 41, "inserts");
    await until(() => same([a, b, c]), "convergence");
    const bt = b.root.children.find((e) => e.tagName === "text")!;
    bt.insertText(5, " world");
    a.root.children.filter((e) =>
      e.getAttribute("style") === "a" && (e.getAttribute("n") as number) % 2 === 0
    )
      .forEach((e) => e.delete());
    c.root.children[3].setAttribute("style", "changed");
    for (const client of clients) await client.sync.flush(path);
    await until(() => same([a, b, c]), "convergence after deletes");
    assert.equal(a.root.children.length, 31);
    assert.equal(a.root.children.find((e) => e.tagName === "text")!.text, "hello world");
    // A client that joins later loads the same state, through open and through describe.
    const d = await connect(server, "s1", "d");
    clients.push(d);
    const late = await d.sync.open(path, { create: false });
    assert.deepEqual(late.toJson(), a.toJson());
    assert.deepEqual(await d.sync.describe(path), a.toJson());
    for (const client of clients) await client.sync.close(path);
    await assert.rejects(clients[0].sync.flush(path), { code: 4001 });
  } finally {
    for (const c of clients) await c.dispose();
    await server.close();
  }
});

Deno.test("sync: unknown documents, bad schemas and create", async () => {
  const server = await startTestServer();
  const room = await connect(server, "s2", "a");
  try {
    await assert.rejects(room.sync.open("missing.page", { create: false }), { code: 3001 });
    await assert.rejects(room.sync.describe("missing.page"), { code: 3001 });
    // No schema anywhere for a new document.
    await assert.rejects(room.sync.open("x.nothing"), (e: RoomError) => {
      assert.equal(e.code, 1002);
      assert.match(e.message, /no schema for x\.nothing.*\.schemas\/nothing\.json/);
      return true;
    });
    await room.sync.create("c.page", { schema, json: { page: { title: "made" } } });
    assert.deepEqual(await room.sync.describe("c.page"), { page: { title: "made", children: [] } });
    await assert.rejects(room.sync.create("c.page", { schema }), { code: 1004 });
    await assert.rejects(
      room.sync.create("d.page", { schema, json: { page: { nope: 1 } } }),
      { code: 1002 },
    );
    await assert.rejects(room.sync.open("../escape.page", { schema }), { code: 3004 });
  } finally {
    await room.dispose();
    await server.close();
  }
});

Deno.test("sync: schemas resolve from .schemas/<extension>.json", async () => {
  const server = await startTestServer();
  const room = await connect(server, "s3", "a");
  try {
    // Upload the schema with the storage toolkit's files (written straight to the data folder's
    // store through a document create with an explicit schema path is also possible).
    await room.storage.upload(
      ".schemas/page.json",
      new TextEncoder().encode(JSON.stringify(SCHEMA_JSON)),
    );
    const doc = await room.sync.open("docs/by-ext.page");
    assert.equal(doc.schema.rootTagName, "page");
    doc.root.setAttribute("title", "ext");
    await room.sync.flush("docs/by-ext.page");
    await room.sync.close("docs/by-ext.page");
    assert.deepEqual(await room.sync.describe("docs/by-ext.page"), {
      page: { title: "ext", children: [] },
    });
  } finally {
    await room.dispose();
    await server.close();
  }
});

/** Opens a raw sync stream (our RoomClient, low level) and returns a sender of raw updates. */
async function rawOpen(room: RoomClient, path: string) {
  const queue: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const { BinaryContent } = await import("@meshagent/api");
  async function* input() {
    yield new BinaryContent(new Uint8Array(0), { kind: "start", path, create: false });
    while (!done) {
      const next = queue.shift();
      if (next) yield new BinaryContent(next, { kind: "sync" });
      else await new Promise<void>((r) => wake = r);
    }
  }
  const stream = await room.invokeStream({ toolkit: "sync", tool: "open", input: input() });
  const chunks = stream[Symbol.asyncIterator]();
  const state = await chunks.next();
  return {
    state,
    send(payload: Uint8Array) {
      queue.push(payload);
      wake?.();
    },
    next: () => chunks.next(),
    close() {
      done = true;
      wake?.();
      stream.close();
    },
  };
}

Deno.test("sync: invalid bytes, schema-breaking updates and read-only writers are refused; data intact", async () => {
  const server = await startTestServer();
  const writer = await connect(server, "s4", "w");
  const readOnly = new ApiScope({
    sync: new SyncGrant({ paths: [new PathGrant({ path: "docs/*", readOnly: true })] }),
  });
  const reader = await connect(server, "s4", "r", readOnly);
  try {
    const path = "docs/guarded.page";
    const good = await writer.sync.open(path, {
      schema,
      initialJson: { page: { title: "keep", children: [{ para: { style: "x" } }] } },
    });
    await writer.sync.flush(path);
    const before = good.toJson();

    // 1. Bytes that are not base64 / not a Yjs update.
    for (
      const payload of [
        new TextEncoder().encode("%%%not base64"),
        toWireUpdate(new Uint8Array([7, 7, 7, 7, 7])),
      ]
    ) {
      const raw = await rawOpen(writer, path);
      assert.equal(raw.state.done, false);
      raw.send(payload);
      const err = await raw.next();
      assert.equal((err.value as { type: string }).type, "error");
      assert.equal((err.value as { code: number }).code, 1002);
      assert.equal((await raw.next()).done, true); // then a normal close
      raw.close();
    }

    // 2. A well-formed Yjs update that breaks the schema (an undeclared tag), built with raw yjs.
    const ydoc = new Y.Doc();
    Y.applyUpdate(ydoc, good.encodeStateAsUpdate());
    const bad = new Y.XmlElement("bogus");
    bad.setAttribute("$id", crypto.randomUUID());
    ydoc.get("xml", Y.XmlElement).push([bad]);
    const breaking = Y.encodeStateAsUpdate(ydoc, good.encodeStateVector());
    assert.equal(good.checkUpdate(breaking).ok, false);
    const raw = await rawOpen(writer, path);
    raw.send(toWireUpdate(breaking));
    const err = await raw.next();
    assert.equal((err.value as { code: number }).code, 1002);
    assert.match((err.value as { text: string }).text, /bogus/);
    raw.close();

    // An undeclared attribute, too.
    const ydoc2 = new Y.Doc();
    Y.applyUpdate(ydoc2, good.encodeStateAsUpdate());
    (ydoc2.get("xml", Y.XmlElement) as Y.XmlElement).setAttribute("colour", "red");
    const raw2 = await rawOpen(writer, path);
    raw2.send(toWireUpdate(Y.encodeStateAsUpdate(ydoc2, good.encodeStateVector())));
    assert.match(((await raw2.next()).value as { text: string }).text, /colour/);
    raw2.close();

    // 3. A read-only participant can open and read, but its edits are refused (1001).
    const seen = await reader.sync.open(path, { create: false });
    assert.deepEqual(seen.toJson(), before);
    const errors: RoomError[] = [];
    reader.sync.events.on("error", (e) => errors.push(e.error));
    seen.root.setAttribute("title", "hacked");
    await assert.rejects(reader.sync.flush(path), { code: 1001 });
    assert.equal(errors[0]?.code, 1001);
    // Creating under a read-only grant is refused too.
    await assert.rejects(reader.sync.create("docs/new.page", { schema }), { code: 1001 });
    await assert.rejects(reader.sync.open("docs/new.page", { schema }), { code: 1001 });
    await assert.rejects(reader.sync.open("elsewhere.page", { schema }), { code: 1001 });

    // The document (live and stored) is untouched, and the writer keeps working.
    good.root.setAttribute("title", "still mine");
    await writer.sync.flush(path);
    await writer.sync.close(path);
    assert.deepEqual(await writer.sync.describe(path), {
      page: { title: "still mine", children: [{ para: { style: "x" } }] },
    });
    await reader.sync.close(path).catch(() => {});
  } finally {
    await writer.dispose();
    await reader.dispose();
    await server.close();
  }
});

Deno.test("sync: a server restart keeps every acknowledged update; clients reopen after a reconnect", async () => {
  const server = await startTestServer();
  const room = await connect(server, "s5", "a");
  try {
    const path = "r/restart.page";
    const doc = await room.sync.open(path, { schema });
    for (let i = 0; i < 50; i++) doc.root.createChildElement("para", { n: i });
    await room.sync.flush(path);
    const expected = doc.toJson();
    await room.dispose();
    await server.restart();
    const again = await connect(server, "s5", "b");
    try {
      assert.deepEqual(await again.sync.describe(path), expected);
    } finally {
      await again.dispose();
    }
  } finally {
    await room.dispose();
    await server.close();
  }
});

Deno.test("sync: a document deleted through storage is not written back; its open copies are closed", async () => {
  const server = await startTestServer();
  const client = await connect(server, "del", "a");
  try {
    // last subscriber gone, then deleted: the unload's save must not bring it back
    const path = "notes/gone.page";
    const first = await client.sync.open(path, {
      schema,
      initialJson: { page: { title: "T", children: [] } },
    });
    first.root.setAttribute("title", "changed");
    await client.sync.close(path);
    await client.storage.delete(path);
    await new Promise((r) => setTimeout(r, 600)); // past the save debounce
    assert.equal(await client.storage.exists(path), false);

    // deleted while open: the next save notices, the copy is closed (3001), nothing comes back
    const open = "notes/open.page";
    const doc = await client.sync.open(open, {
      schema,
      initialJson: { page: { title: "T", children: [] } },
    });
    await client.storage.delete(open);
    doc.root.setAttribute("title", "after the delete");
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await client.storage.exists(open), false);
  } finally {
    await client.dispose();
    await server.close();
  }
});
