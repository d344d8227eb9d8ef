// StorageClient against the real room server: round trips, progress, semantics, errors, events,
// grants and path checks.
import assert from "node:assert/strict";
import {
  ApiScope,
  PathGrant,
  type RoomClient,
  RoomClient as Client,
  RoomError,
  type StorageClientEvents,
  StorageGrant,
  type StorageProgress,
} from "@meshagent/api";
import { connect, roomName, type TestServer, withServer } from "./testdata/test_room.ts";

function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function rejectsCode(promise: Promise<unknown>, code: number): Promise<RoomError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof RoomError, `expected a RoomError, got ${e}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  throw new assert.AssertionError({ message: `expected a rejection with code ${code}` });
}

function nextStorageEvent<K extends keyof StorageClientEvents>(
  room: RoomClient,
  name: K,
  ms = 10_000,
): Promise<StorageClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${name} event within ${ms} ms`));
    }, ms);
    const off = room.storage.on(name, (event) => {
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

async function withRoom(
  fn: (room: RoomClient, server: TestServer, name: string) => Promise<void>,
): Promise<void> {
  await withServer(async (server) => {
    const name = roomName();
    const room = await connect(server, name, "alice");
    try {
      await fn(room, server, name);
    } finally {
      await room.dispose();
    }
  });
}

Deno.test("storage: 0 B, 1 KiB and 20 MiB round trips are byte-identical, with progress", async () => {
  await withRoom(async (room) => {
    for (const size of [0, 1024, 20 * 1024 * 1024]) {
      const data = pattern(size, size + 7);
      const up: StorageProgress[] = [];
      await room.storage.upload(`rt/${size}.bin`, data, { onProgress: (p) => up.push(p) });
      assert.ok(up.length >= 1);
      assert.deepEqual(up.at(-1), { bytes: size, total: size });
      for (let i = 1; i < up.length; i++) assert.ok(up[i].bytes > up[i - 1].bytes);

      const down: StorageProgress[] = [];
      const file = await room.storage.download(`rt/${size}.bin`, {
        onProgress: (p) => down.push(p),
      });
      assert.equal(file.name, `${size}.bin`);
      assert.equal(file.mimeType, "application/octet-stream");
      assert.ok(sameBytes(file.data, data), `bytes differ for ${size}`);
      assert.deepEqual(down.at(-1), { bytes: size, total: size });
      if (size === 20 * 1024 * 1024) assert.ok(down.length > 1 && up.length > 1);
      assert.equal((await room.storage.stat(`rt/${size}.bin`))?.size, size);
    }
  });
});

Deno.test("storage: uploads from a ReadableStream and an async iterable; metadata is kept", async () => {
  await withRoom(async (room) => {
    const data = pattern(300_000, 3);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < data.length; i += 7777) controller.enqueue(data.slice(i, i + 7777));
        controller.close();
      },
    });
    const progress: StorageProgress[] = [];
    await room.storage.upload("s/stream.txt", stream, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(progress.at(-1), { bytes: data.length, total: null });

    async function* pieces() {
      for (let i = 0; i < data.length; i += 100_000) yield data.subarray(i, i + 100_000);
    }
    await room.storage.upload("s/iter.bin", pieces(), {
      size: data.length,
      name: "Report 2025.pdf",
      mimeType: "application/pdf",
    });
    const a = await room.storage.download("s/stream.txt");
    const b = await room.storage.download("s/iter.bin", { chunkSize: 4096, pullWindow: 1 });
    assert.ok(sameBytes(a.data, data) && sameBytes(b.data, data));
    assert.equal(a.mimeType, "text/plain");
    assert.equal(b.name, "Report 2025.pdf");
    assert.equal(b.mimeType, "application/pdf");

    // A stream that fails mid-way: the error surfaces and nothing is written.
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(10));
        controller.error(new Error("disk gone"));
      },
    });
    await assert.rejects(room.storage.upload("s/failing.bin", failing), /disk gone/);
    assert.equal(await room.storage.exists("s/failing.bin"), false);

    // A wrong announced size: 1002 and nothing written.
    await rejectsCode(room.storage.upload("s/short.bin", pieces(), { size: 10 }), 1002);
    await rejectsCode(room.storage.upload("s/long.bin", pieces(), { size: 10 ** 7 }), 1002);
    assert.deepEqual((await room.storage.list("s")).map((e) => e.name), ["iter.bin", "stream.txt"]);
  });
});

Deno.test("storage: list, stat, exists, move and delete semantics and errors", async () => {
  await withRoom(async (room) => {
    const s = room.storage;
    const text = (t: string) => new TextEncoder().encode(t);
    await s.upload("docs/b.txt", text("bb"));
    await s.upload("docs/a.txt", text("a"));
    await s.upload("docs/sub/c.txt", text("ccc"));

    const entries = await s.list("docs");
    assert.deepEqual(entries.map((e) => [e.name, e.isFolder, e.size]), [
      ["a.txt", false, 1],
      ["b.txt", false, 2],
      ["sub", true, null],
    ]);
    assert.ok(entries[0].createdAt instanceof Date && entries[0].updatedAt instanceof Date);
    assert.deepEqual((await s.list("")).map((e) => e.name), ["docs"]);
    await rejectsCode(s.list("nope"), 3001);

    assert.equal(await s.exists("docs"), true);
    assert.equal(await s.exists("docs/sub/c.txt"), true);
    assert.equal(await s.exists("docs/zzz"), false);
    assert.equal(await s.stat("docs/zzz"), null);
    const folder = await s.stat("docs/sub");
    assert.equal(folder?.isFolder, true);
    assert.equal(folder?.name, "sub");
    assert.equal((await s.stat("/docs//a.txt"))?.size, 1);

    // upload onto an existing file
    await rejectsCode(s.upload("docs/a.txt", text("x")), 3005);
    await s.upload("docs/a.txt", text("AAAA"), { overwrite: true });
    assert.equal(new TextDecoder().decode((await s.download("docs/a.txt")).data), "AAAA");

    // move
    await rejectsCode(s.move("docs/a.txt", "docs/b.txt"), 3005);
    await rejectsCode(s.move("docs/missing.txt", "docs/x.txt"), 3001);
    await s.move("docs/a.txt", "docs/b.txt", { overwrite: true });
    assert.equal(await s.exists("docs/a.txt"), false);
    assert.equal(new TextDecoder().decode((await s.download("docs/b.txt")).data), "AAAA");
    await s.move("docs/sub", "moved/sub");
    assert.equal(await s.exists("moved/sub/c.txt"), true);

    // delete
    await rejectsCode(s.delete("moved"), 3002);
    await rejectsCode(s.delete("nothing-here"), 3001);
    await s.delete("moved", { recursive: true });
    assert.equal(await s.exists("moved"), false);
    await s.delete("docs/b.txt");
    assert.equal(await s.exists("docs"), false);
    await rejectsCode(s.download("docs/b.txt"), 3001);
    await rejectsCode(s.downloadUrl("docs/b.txt"), 3001);
  });
});

Deno.test("storage: another participant sees updated, moved and deleted events", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const alice = await connect(server, name, "alice");
    const bob = await connect(server, name, "bob");
    try {
      const updated = nextStorageEvent(bob, "file.updated");
      const own = nextStorageEvent(alice, "file.updated");
      await alice.storage.upload("e/one.txt", new Uint8Array([1]));
      const aliceId = alice.localParticipant!.id;
      assert.deepEqual(await updated, { path: "e/one.txt", participantId: aliceId });
      assert.deepEqual(await own, { path: "e/one.txt", participantId: aliceId });

      const moved = nextStorageEvent(bob, "file.moved");
      await alice.storage.move("e/one.txt", "e/two.txt");
      assert.deepEqual(await moved, {
        sourcePath: "e/one.txt",
        destinationPath: "e/two.txt",
        participantId: aliceId,
      });

      const deleted = nextStorageEvent(bob, "file.deleted");
      await alice.storage.delete("e/two.txt");
      assert.deepEqual(await deleted, { path: "e/two.txt", participantId: aliceId });
    } finally {
      await alice.dispose();
      await bob.dispose();
    }
  });
});

Deno.test("storage: a read-only grant refuses writes; reads and events follow the grant", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const admin = await connect(server, name, "admin");
    const scope = new ApiScope({
      storage: new StorageGrant({
        paths: [
          new PathGrant({ path: "public/", readOnly: true }),
          new PathGrant({ path: "inbox/" }),
        ],
      }),
    });
    const guest = new Client({
      url: server.roomUrl(name),
      token: await server.token(name, "guest", { api: scope }),
      reconnectTimeout: 0,
      requestTimeout: 10_000,
    });
    await guest.start({ timeout: 10_000 });
    const seen: string[] = [];
    guest.storage.on("file.updated", (e) => seen.push(e.path));
    try {
      await admin.storage.upload("public/readme.txt", new TextEncoder().encode("hello"));
      await admin.storage.upload("secret/key.txt", new TextEncoder().encode("k"));

      // reads
      assert.equal((await guest.storage.download("public/readme.txt")).data.length, 5);
      await rejectsCode(guest.storage.download("secret/key.txt"), 1001);
      await rejectsCode(guest.storage.downloadUrl("secret/key.txt"), 1001);
      assert.deepEqual((await guest.storage.list("")).map((e) => e.name), ["public"]);
      await rejectsCode(guest.storage.list("secret"), 1001);

      // writes
      await rejectsCode(guest.storage.upload("public/new.txt", new Uint8Array([1])), 1001);
      await rejectsCode(
        guest.storage.upload("public/readme.txt", new Uint8Array(1), {
          overwrite: true,
        }),
        1001,
      );
      await rejectsCode(guest.storage.delete("public/readme.txt"), 1001);
      await rejectsCode(guest.storage.move("public/readme.txt", "inbox/readme.txt"), 1001);
      await rejectsCode(guest.storage.move("inbox/x", "public/x"), 1001);
      assert.equal(await admin.storage.exists("public/new.txt"), false);
      assert.equal(
        new TextDecoder().decode((await admin.storage.download("public/readme.txt")).data),
        "hello",
      );
      await guest.storage.upload("inbox/note.txt", new Uint8Array([1, 2, 3]));
      assert.equal((await admin.storage.stat("inbox/note.txt"))?.size, 3);

      // events: the guest saw public/ and inbox/ writes, never secret/
      await admin.storage.upload("secret/other.txt", new Uint8Array(1));
      await admin.storage.upload("public/last.txt", new Uint8Array(1));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, ["public/readme.txt", "inbox/note.txt", "public/last.txt"]);
    } finally {
      await guest.dispose();
      await admin.dispose();
    }
  });
});

Deno.test("storage: traversal, NUL and backslash paths fail with 3004 and write nothing", async () => {
  await withRoom(async (room, server, name) => {
    for (const path of ["../x", "a/../../x", "a\0b", "a\\b", "..\\x"]) {
      const e = await rejectsCode(room.storage.upload(path, new Uint8Array([1, 2])), 3004);
      assert.match(e.message, /\.\.|NUL|backslash/);
      await rejectsCode(room.storage.exists(path), 3004);
      await rejectsCode(room.storage.download(path), 3004);
      await rejectsCode(room.storage.move("a.txt", path), 3004);
    }
    assert.deepEqual(await room.storage.list(""), []);
    for (const leak of ["x", `rooms/x`, `rooms/${name}/x`, "a\\b"]) {
      await assert.rejects(Deno.stat(`${server.dataDir}/${leak}`), Deno.errors.NotFound);
    }
  });
});

Deno.test("storage: a cancelled download stream and an aborted upload leave the room usable", async () => {
  await withRoom(async (room) => {
    const data = pattern(5 * 1024 * 1024, 9);
    await room.storage.upload("big.bin", data);
    const download = await room.storage.downloadStream("big.bin", { chunkSize: 64 * 1024 });
    assert.equal(download.size, data.length);
    const reader = download.stream.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.length === 64 * 1024);
    await reader.cancel();

    const abort = new AbortController();
    async function* slow() {
      yield data.subarray(0, 1024);
      abort.abort(new Error("stop"));
      await new Promise((r) => setTimeout(r, 50));
      yield data.subarray(1024, 2048);
    }
    await assert.rejects(
      room.storage.upload("aborted.bin", slow(), { signal: abort.signal }),
      /stop/,
    );
    assert.equal(await room.storage.exists("aborted.bin"), false);
    // The connection still works.
    assert.ok(sameBytes((await room.storage.download("big.bin")).data, data));
  });
});
