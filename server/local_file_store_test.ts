import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, RoomError } from "@meshagent/api";
import { LocalFileStore, type LocalFileStoreOptions } from "./local_file_store.ts";
import { type FileInfo, StorageError, StorageLimitError } from "./file_store.ts";
import { RESERVED_STORAGE_NAME_PREFIX, StoragePathError } from "./storage_path.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Opts = Omit<LocalFileStoreOptions, "dataDir" | "room">;

async function withStore(
  fn: (store: LocalFileStore, dataDir: string) => Promise<void>,
  options: Opts = {},
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "file_store_test_" });
  try {
    const store = await LocalFileStore.open({ dataDir, room: "room-1", fsync: false, ...options });
    await fn(store, dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Deterministic bytes of any length. */
function pattern(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const part of stream) {
    parts.push(part);
    total += part.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Every name under a folder on disk, reserved ones included. */
async function diskNames(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    out.push(entry.name);
    if (entry.isDirectory) {
      for (const child of await diskNames(join(dir, entry.name))) {
        out.push(`${entry.name}/${child}`);
      }
    }
  }
  return out.sort();
}

async function assertStorageError(
  promise: Promise<unknown>,
  code: number,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof RoomError, `expected a RoomError, got ${e}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

async function write(
  store: LocalFileStore,
  path: string,
  text: string,
  overwrite = true,
): Promise<FileInfo> {
  return await store.writeFile(path, encoder.encode(text), { overwrite });
}

async function readText(store: LocalFileStore, path: string): Promise<string> {
  return decoder.decode(await store.readFile(path));
}

// ---- round trips ----

for (
  const [label, size] of [["0 bytes", 0], ["1 KiB", 1024], ["20 MiB", 20 * 1024 * 1024]] as const
) {
  Deno.test(`LocalFileStore streams a ${label} file in and out unchanged`, async () => {
    await withStore(async (store) => {
      const data = pattern(size, size + 7);
      const writer = await store.openWrite("in/data.bin", { size });
      for (let offset = 0; offset < size; offset += 65536) {
        await writer.write(data.subarray(offset, offset + 65536));
      }
      assert.equal(writer.bytesWritten, size);
      const info = await writer.commit();
      assert.equal(info.size, size);
      assert.equal(info.path, "in/data.bin");
      assert.equal(info.name, "data.bin");
      assert.equal(info.isFolder, false);

      const reader = await store.openRead("in/data.bin");
      assert.equal(reader.size, size);
      assert.equal(reader.info.size, size);
      const back = await readAll(reader.stream);
      assert.equal(back.length, size);
      assert.ok(back.every((b, i) => b === data[i]), "the bytes differ");
      assert.deepEqual(await store.readFile("in/data.bin"), data);
      assert.equal((await store.usage()).bytes, size);
    }, { fsync: true });
  });
}

Deno.test("LocalFileStore writes chunks of every size through its buffer", async () => {
  await withStore(async (store) => {
    const data = pattern(300_000, 3);
    const writer = await store.openWrite("odd.bin", { size: data.length });
    // 1-byte writes, writes that straddle the 4 KiB buffer, writes larger than it
    const cuts = [1, 1, 4094, 1, 4096, 5000, 100_000, 17, 4095];
    let offset = 0;
    for (let i = 0; offset < data.length; i++) {
      const n = Math.min(cuts[i % cuts.length], data.length - offset);
      const chunk = data.slice(offset, offset + n);
      await writer.write(chunk);
      chunk.fill(0); // the caller may reuse its buffer once write resolves
      offset += n;
    }
    await writer.commit();
    assert.deepEqual(await store.readFile("odd.bin"), data);
  }, { writeBufferBytes: 4096 });
});

Deno.test("LocalFileStore.openRead serves byte ranges and BYOB readers", async () => {
  await withStore(async (store) => {
    await store.writeFile("r.bin", pattern(1000));
    const data = pattern(1000);

    const mid = await store.openRead("r.bin", { offset: 100, length: 50 });
    assert.equal(mid.size, 50);
    assert.equal(mid.info.size, 1000);
    assert.deepEqual(await readAll(mid.stream), data.subarray(100, 150));

    const tail = await store.openRead("r.bin", { offset: 990, length: 500 });
    assert.equal(tail.size, 10);
    assert.deepEqual(await readAll(tail.stream), data.subarray(990));

    const end = await store.openRead("r.bin", { offset: 1000 });
    assert.equal(end.size, 0);
    assert.equal((await readAll(end.stream)).length, 0);

    const chunked = await store.openRead("r.bin", { chunkSize: 64 });
    const parts: number[] = [];
    for await (const part of chunked.stream) parts.push(part.length);
    assert.ok(parts.every((n) => n <= 64) && parts.reduce((a, b) => a + b) === 1000);

    // a BYOB reader reuses one buffer
    const byob = (await store.openRead("r.bin")).stream.getReader({ mode: "byob" });
    let buffer = new Uint8Array(256);
    let total = 0;
    while (true) {
      const { value, done } = await byob.read(buffer);
      if (done) break;
      assert.deepEqual(value, data.subarray(total, total + value.length));
      total += value.length;
      buffer = new Uint8Array(value.buffer);
    }
    assert.equal(total, 1000);

    // cancelling closes the file (the leak sanitizer would fail otherwise)
    await (await store.openRead("r.bin", { chunkSize: 10 })).stream.cancel();

    await assertStorageError(store.openRead("r.bin", { offset: 1001 }), 1002, /past the end/);
    await assertStorageError(store.openRead("r.bin", { offset: -1 }), 1002);
    await assertStorageError(store.openRead("r.bin", { length: 1.5 }), 1002);
    await assertStorageError(store.openRead("r.bin", { chunkSize: 0 }), 1002);
  });
});

// ---- atomicity ----

Deno.test("LocalFileStore: an upload is invisible until commit", async () => {
  await withStore(async (store, dataDir) => {
    await write(store, "doc.txt", "old");
    const writer = await store.openWrite("doc.txt", { overwrite: true });
    await writer.write(encoder.encode("new content"));
    assert.equal(await readText(store, "doc.txt"), "old");
    const fresh = await store.openWrite("sub/fresh.txt");
    await fresh.write(encoder.encode("x"));
    assert.equal(await store.exists("sub/fresh.txt"), false);
    assert.deepEqual((await store.list("")).map((e) => e.name), ["doc.txt", "sub"]);
    assert.deepEqual(await store.list("sub"), []);
    const onDisk = await diskNames(join(dataDir, "rooms", "room-1", "files"));
    assert.equal(onDisk.filter((n) => n.includes(RESERVED_STORAGE_NAME_PREFIX)).length, 2);
    await writer.commit();
    await fresh.commit();
    assert.equal(await readText(store, "doc.txt"), "new content");
    assert.equal(await readText(store, "sub/fresh.txt"), "x");
  });
});

Deno.test("LocalFileStore: an aborted write keeps the old file and leaves no temp file", async () => {
  await withStore(async (store, dataDir) => {
    await write(store, "keep/doc.txt", "old");
    const before = await store.usage();
    const writer = await store.openWrite("keep/doc.txt", { overwrite: true });
    await writer.write(pattern(500_000));
    assert.equal((await store.usage()).pendingBytes, 500_000);
    await writer.abort();
    await writer.abort(); // twice is fine
    assert.equal(await readText(store, "keep/doc.txt"), "old");
    assert.deepEqual(await store.usage(), before);
    const files = join(dataDir, "rooms", "room-1", "files");
    assert.deepEqual(await diskNames(files), ["keep", "keep/doc.txt"]);
    await assertStorageError(writer.write(encoder.encode("x")), 1006, /aborted/);
    await assertStorageError(writer.commit(), 1006);

    // an aborted upload into a new folder leaves no empty folder behind
    const w2 = await store.openWrite("new/deep/file.txt");
    await w2.write(encoder.encode("x"));
    await w2.abort();
    assert.equal(await store.exists("new"), false);
    assert.deepEqual(await diskNames(files), ["keep", "keep/doc.txt"]);
  });
});

Deno.test("LocalFileStore: `await using` aborts an uncommitted writer", async () => {
  await withStore(async (store) => {
    {
      await using writer = await store.openWrite("scoped.txt");
      await writer.write(encoder.encode("never committed"));
    }
    assert.equal(await store.exists("scoped.txt"), false);
    {
      await using writer = await store.openWrite("scoped.txt");
      await writer.write(encoder.encode("kept"));
      await writer.commit();
    }
    assert.equal(await readText(store, "scoped.txt"), "kept");
  });
});

Deno.test("LocalFileStore: a crash mid-upload leaves the old file (child process)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "file_store_crash_" });
  try {
    const first = await LocalFileStore.open({ dataDir, room: "crash" });
    await first.writeFile("doc.txt", encoder.encode("committed"));
    const moduleUrl = new URL("./local_file_store.ts", import.meta.url).href;
    const code = `
      const { LocalFileStore } = await import(${JSON.stringify(moduleUrl)});
      const store = await LocalFileStore.open({ dataDir: ${
      JSON.stringify(dataDir)
    }, room: "crash" });
      const w = await store.openWrite("doc.txt", { overwrite: true });
      await w.write(new Uint8Array(1_000_000).fill(65));
      const w2 = await store.openWrite("new/only.txt");
      await w2.write(new Uint8Array(10));
      Deno.exit(0); // no commit, no abort: the process dies with the uploads open
    `;
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      cwd: dirname(fileURLToPath(import.meta.url)),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(child.code, 0, decoder.decode(child.stderr));
    const files = join(dataDir, "rooms", "crash", "files");
    const left = (await diskNames(files)).filter((n) => n.includes(RESERVED_STORAGE_NAME_PREFIX));
    assert.equal(left.length, 2, "the child should have left two temp files");

    // re-opened soon after: the temp files are not stale yet, but never visible
    const reopened = await LocalFileStore.open({ dataDir, room: "crash" });
    assert.equal(decoder.decode(await reopened.readFile("doc.txt")), "committed");
    assert.equal(await reopened.exists("new/only.txt"), false);
    assert.deepEqual((await reopened.list("", { recursive: true })).map((e) => e.path), [
      "doc.txt",
      "new",
    ]);
    assert.equal((await reopened.usage()).bytes, "committed".length);

    // re-opened later: the stale temp files are swept
    const swept = await LocalFileStore.open({ dataDir, room: "crash", staleUploadMs: 0 });
    assert.equal(decoder.decode(await swept.readFile("doc.txt")), "committed");
    const after = (await diskNames(files)).filter((n) => n.includes(RESERVED_STORAGE_NAME_PREFIX));
    assert.deepEqual(after, []);
    // The folder made for the cut-off upload went with its temp file; the rest is untouched.
    assert.deepEqual((await swept.list("", { recursive: true })).map((e) => e.path), ["doc.txt"]);
    assert.equal((await swept.usage()).bytes, "committed".length);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("LocalFileStore: upload temp files written before the process (or server) started are swept at open", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "file_store_leftover_" });
  try {
    const files = join(dataDir, "rooms", "left", "files");
    await Deno.mkdir(join(files, "cut"), { recursive: true });
    const plant = async (path: string, mtimeMs?: number) => {
      await Deno.writeTextFile(join(files, path), "partial");
      if (mtimeMs !== undefined) {
        await Deno.utime(join(files, path), mtimeMs / 1000, mtimeMs / 1000);
      }
    };
    // A second before this process started: a leftover, though far from an hour old.
    const beforeStart = performance.timeOrigin - 1000;
    await plant(`${RESERVED_STORAGE_NAME_PREFIX}upload-old`, beforeStart);
    await plant(`cut/${RESERVED_STORAGE_NAME_PREFIX}upload-old`, beforeStart);
    await plant(`${RESERVED_STORAGE_NAME_PREFIX}upload-fresh`); // now: may be a live upload
    await LocalFileStore.open({ dataDir, room: "left" });
    assert.deepEqual(await diskNames(files), [`${RESERVED_STORAGE_NAME_PREFIX}upload-fresh`]);

    // A server passes its own start: what was written before it is a leftover too.
    await new Promise((r) => setTimeout(r, 20)); // file times run on a coarser clock
    await LocalFileStore.open({ dataDir, room: "left", leftoverUploadsBefore: Date.now() });
    assert.deepEqual(await diskNames(files), []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("LocalFileStore: concurrent writers to one path, last commit wins", async () => {
  await withStore(async (store) => {
    await write(store, "race.txt", "v0");
    const reader = await store.openRead("race.txt");
    const a = await store.openWrite("race.txt", { overwrite: true });
    const b = await store.openWrite("race.txt", { overwrite: true });
    await a.write(encoder.encode("from a"));
    await b.write(encoder.encode("from b, longer"));
    await b.commit();
    assert.equal(await readText(store, "race.txt"), "from b, longer");
    await a.commit();
    assert.equal(await readText(store, "race.txt"), "from a");
    // a reader opened before both commits still reads the version it opened
    assert.equal(decoder.decode(await readAll(reader.stream)), "v0");
    assert.equal((await store.usage()).bytes, "from a".length);
    assert.equal((await store.usage()).pendingBytes, 0);
  });
});

Deno.test("LocalFileStore: many parallel writers and readers never see a partial file", async () => {
  await withStore(async (store) => {
    const versions = Array.from({ length: 8 }, (_, i) => pattern(200_000 + i * 1000, i + 1));
    await store.writeFile("hot.bin", versions[0]);
    const writers = versions.map(async (v) => {
      const w = await store.openWrite("hot.bin", { overwrite: true });
      for (let o = 0; o < v.length; o += 8192) await w.write(v.subarray(o, o + 8192));
      await w.commit();
    });
    const readers = Array.from({ length: 16 }, async () => {
      const got = await store.readFile("hot.bin");
      const match = versions.find((v) => v.length === got.length);
      assert.ok(match, `a reader saw ${got.length} bytes, not a whole version`);
      assert.deepEqual(got, match);
    });
    await Promise.all([...writers, ...readers]);
    const final = await store.readFile("hot.bin");
    assert.ok(versions.some((v) => v.length === final.length));
    assert.equal((await store.usage()).bytes, final.length);
  });
});

Deno.test("LocalFileStore: without overwrite, the first commit wins and the second gets 3005", async () => {
  await withStore(async (store) => {
    const a = await store.openWrite("once.txt");
    const b = await store.openWrite("once.txt");
    await a.write(encoder.encode("a"));
    await b.write(encoder.encode("b"));
    await a.commit();
    await assertStorageError(b.commit(), ErrorCode.STORAGE_ALREADY_EXISTS, /exists already/);
    assert.equal(await readText(store, "once.txt"), "a");
    await assertStorageError(store.openWrite("once.txt"), 3005, /pass overwrite/);
    assert.equal((await store.usage()).pendingBytes, 0);
  });
});

// ---- metadata ----

Deno.test("LocalFileStore.stat describes files and folders", async () => {
  await withStore(async (store) => {
    assert.deepEqual(await store.stat(""), { name: "", path: "", isFolder: true });
    assert.equal(await store.stat("missing.txt"), undefined);
    assert.equal(await store.exists("missing.txt"), false);
    assert.equal(await store.exists(""), true);

    const t0 = Date.now();
    await write(store, "docs/report.pdf", "%PDF");
    const info = await store.stat("/docs//report.pdf");
    assert.ok(info);
    assert.equal(info.name, "report.pdf");
    assert.equal(info.path, "docs/report.pdf");
    assert.equal(info.isFolder, false);
    assert.equal(info.size, 4);
    assert.equal(info.mimeType, "application/pdf");
    assert.equal(info.displayName, "report.pdf");
    assert.ok(info.createdAt instanceof Date && info.createdAt.getTime() >= t0 - 1000);
    assert.ok(info.updatedAt instanceof Date);

    assert.deepEqual(await store.stat("docs"), { name: "docs", path: "docs", isFolder: true });
    assert.equal(await store.exists("docs"), true);
    assert.equal(await store.exists("docs/report.pdf/inner"), false);
  });
});

Deno.test("LocalFileStore keeps the uploaded name, MIME type and creation time", async () => {
  await withStore(async (store) => {
    await store.writeFile("a/blob", encoder.encode("{}"), {
      name: "Résumé final.json",
      mimeType: "application/json; charset=utf-8",
    });
    const first = await store.stat("a/blob");
    assert.equal(first?.displayName, "Résumé final.json");
    assert.equal(first?.mimeType, "application/json; charset=utf-8");
    assert.equal((await store.openRead("a/blob")).info.displayName, "Résumé final.json");
    await (await store.openRead("a/blob")).stream.cancel();

    await new Promise((r) => setTimeout(r, 20));
    await store.writeFile("a/blob", encoder.encode('{"b":1}'));
    const second = await store.stat("a/blob");
    assert.equal(second?.createdAt?.getTime(), first?.createdAt?.getTime());
    assert.ok(second!.updatedAt!.getTime() >= first!.updatedAt!.getTime());
    // an overwrite without a type infers it again
    assert.equal(second?.mimeType, "application/octet-stream");
    assert.equal(second?.displayName, "blob");

    await store.move("a/blob", "b/moved.txt");
    const moved = await store.stat("b/moved.txt");
    assert.equal(moved?.createdAt?.getTime(), first?.createdAt?.getTime());

    await assertStorageError(store.openWrite("x.txt", { mimeType: "text/plain\r\nX: y" }), 1002);
    await assertStorageError(store.openWrite("x.txt", { name: "n".repeat(2000) }), 1002);
    await assertStorageError(store.openWrite("x.txt", { size: -1 }), 1002);
  });
});

Deno.test("LocalFileStore checks the announced size", async () => {
  await withStore(async (store) => {
    const short = await store.openWrite("s.bin", { size: 10 });
    await short.write(new Uint8Array(4));
    await assertStorageError(short.commit(), 1002, /ended after 4 bytes.*announced size was 10/);
    assert.equal(await store.exists("s.bin"), false);

    const long = await store.openWrite("s.bin", { size: 3 });
    await assertStorageError(long.write(new Uint8Array(4)), 1002, /more than its announced size/);
    await assertStorageError(long.commit(), 1006);
    assert.equal(await store.exists("s.bin"), false);
    assert.deepEqual(await store.list(""), []);
  });
});

// ---- list ----

Deno.test("LocalFileStore.list returns sorted direct children with basenames", async () => {
  await withStore(async (store) => {
    assert.deepEqual(await store.list(""), []);
    await write(store, "folder/b.txt", "bb");
    await write(store, "folder/a.txt", "a");
    await write(store, "folder/nested/deep.txt", "deep");
    await write(store, "folder/.schemas/s.json", "{}");
    await write(store, "top.md", "# t");

    const entries = await store.list("folder");
    assert.deepEqual(entries.map((e) => [e.name, e.isFolder, e.size]), [
      [".schemas", true, undefined],
      ["a.txt", false, 1],
      ["b.txt", false, 2],
      ["nested", true, undefined],
    ]);
    assert.equal(entries[1].path, "folder/a.txt");
    assert.equal(entries[3].path, "folder/nested");
    assert.deepEqual(
      (await store.list("./folder/")).map((e) => e.name),
      entries.map((e) => e.name),
    );
    assert.deepEqual((await store.list("")).map((e) => e.name), ["folder", "top.md"]);
    assert.deepEqual((await store.list("/")).map((e) => e.name), ["folder", "top.md"]);
  });
});

Deno.test("LocalFileStore.list recursive walks depth first", async () => {
  await withStore(async (store) => {
    await write(store, "a/x.txt", "1");
    await write(store, "a/b/y.txt", "22");
    await write(store, "a/b/c/z.txt", "333");
    await write(store, "root.txt", "r");
    const all = await store.list("", { recursive: true });
    assert.deepEqual(all.map((e) => e.path), [
      "a",
      "a/b",
      "a/b/c",
      "a/b/c/z.txt",
      "a/b/y.txt",
      "a/x.txt",
      "root.txt",
    ]);
    assert.deepEqual(all.map((e) => e.name).slice(0, 4), ["a", "b", "c", "z.txt"]);
    assert.deepEqual((await store.list("a/b", { recursive: true })).map((e) => e.path), [
      "a/b/c",
      "a/b/c/z.txt",
      "a/b/y.txt",
    ]);
  });
});

Deno.test("LocalFileStore.list fails with 3001 for a missing folder or a file", async () => {
  await withStore(async (store) => {
    await write(store, "f.txt", "x");
    await assertStorageError(store.list("nope"), ErrorCode.STORAGE_NOT_FOUND, /no folder/);
    await assertStorageError(store.list("f.txt"), 3001, /is a file, not a folder/);
    await assertStorageError(store.list("f.txt/sub"), 3001);
  });
});

// ---- move ----

Deno.test("LocalFileStore.move renames files and creates destination folders", async () => {
  await withStore(async (store) => {
    await write(store, "src/a.txt", "A");
    await store.move("src/a.txt", "dst/deep/b.txt");
    assert.equal(await readText(store, "dst/deep/b.txt"), "A");
    assert.equal(await store.exists("src/a.txt"), false);
    assert.equal(await store.exists("src"), false, "an emptied folder disappears");
    await store.move("dst/deep/b.txt", "dst/deep/b.txt"); // same path: nothing happens
    assert.equal(await readText(store, "dst/deep/b.txt"), "A");
    assert.equal((await store.usage()).bytes, 1);
  });
});

Deno.test("LocalFileStore.move errors: 3001 missing source, 3005 existing destination", async () => {
  await withStore(async (store) => {
    await write(store, "a.txt", "A");
    await write(store, "b.txt", "BB");
    await assertStorageError(store.move("zzz.txt", "c.txt"), ErrorCode.STORAGE_NOT_FOUND);
    await assertStorageError(
      store.move("a.txt", "b.txt"),
      ErrorCode.STORAGE_ALREADY_EXISTS,
      /pass overwrite/,
    );
    await assertStorageError(store.move("a.txt", "b.txt/inner.txt"), 3005, /'b.txt' is a file/);
    assert.equal(await readText(store, "b.txt"), "BB");
    await store.move("a.txt", "b.txt", { overwrite: true });
    assert.equal(await readText(store, "b.txt"), "A");
    assert.equal(await store.exists("a.txt"), false);
    assert.equal((await store.usage()).bytes, 1);
    await assertStorageError(store.move("", "x"), 3004);
    await assertStorageError(store.move("b.txt", ""), 3004);
    await assertStorageError(store.move("b.txt", "../x"), 3004);
  });
});

Deno.test("LocalFileStore.move moves folders, and overwrite replaces a whole folder", async () => {
  await withStore(async (store) => {
    await write(store, "f1/a.txt", "1");
    await write(store, "f1/sub/b.txt", "22");
    await write(store, "f2/old.txt", "old!");
    await assertStorageError(store.move("f1", "f1/inside"), 1002, /into itself/);
    await assertStorageError(store.move("f1", "f2"), 3005);
    await store.move("f1", "f2", { overwrite: true });
    assert.deepEqual((await store.list("", { recursive: true })).map((e) => e.path), [
      "f2",
      "f2/a.txt",
      "f2/sub",
      "f2/sub/b.txt",
    ]);
    assert.equal((await store.usage()).bytes, 3);
    await store.move("f2", "g/h");
    assert.equal(await readText(store, "g/h/sub/b.txt"), "22");
    await write(store, "g/h/x.txt", "x");
    await assertStorageError(store.move("g/h/x.txt", "g", { overwrite: true }), 1002, /holds/);
    // a file may replace a folder, and a folder a file, with overwrite
    await write(store, "file.txt", "f");
    await store.move("g", "file.txt", { overwrite: true });
    assert.equal((await store.stat("file.txt"))?.isFolder, true);
    assert.equal((await store.usage()).bytes, 4);
  });
});

// ---- delete ----

Deno.test("LocalFileStore.delete removes files and prunes emptied folders", async () => {
  await withStore(async (store) => {
    await write(store, "a/b/c.txt", "ccc");
    await write(store, "a/keep.txt", "k");
    await store.delete("a/b/c.txt");
    assert.equal(await store.exists("a/b/c.txt"), false);
    assert.equal(await store.exists("a/b"), false);
    assert.equal(await store.exists("a"), true);
    assert.equal((await store.usage()).bytes, 1);
    await assertStorageError(store.delete("a/b/c.txt"), ErrorCode.STORAGE_NOT_FOUND);
    await assertStorageError(store.delete(""), 3004, /root folder cannot be deleted/);
    await assertStorageError(store.delete("a/../a"), 3004);
  });
});

Deno.test("LocalFileStore.delete needs recursive for a non-empty folder (3002)", async () => {
  await withStore(async (store) => {
    await write(store, "dir/x.txt", "x");
    await write(store, "dir/sub/y.txt", "yy");
    await assertStorageError(
      store.delete("dir"),
      ErrorCode.STORAGE_RECURSIVE_REQUIRED,
      /not empty; pass recursive/,
    );
    assert.equal(await store.exists("dir/sub/y.txt"), true);
    await store.delete("dir", { recursive: true });
    assert.equal(await store.exists("dir"), false);
    assert.deepEqual(await store.list(""), []);
    assert.equal((await store.usage()).bytes, 0);
  });
});

// ---- limits ----

Deno.test("LocalFileStore enforces the per-file limit (1002)", async () => {
  await withStore(async (store, dataDir) => {
    await assert.rejects(store.openWrite("big.bin", { size: 101 }), (e: unknown) => {
      assert.ok(e instanceof StorageLimitError);
      assert.equal(e.limit, "file");
      assert.equal(e.code, ErrorCode.INVALID_REQUEST);
      assert.match(e.message, /per-file limit of 100 bytes/);
      return true;
    });
    const w = await store.openWrite("big.bin");
    await w.write(new Uint8Array(60));
    await assertStorageError(w.write(new Uint8Array(41)), 1002, /per-file limit/);
    // the writer aborted itself
    await assertStorageError(w.commit(), 1006);
    assert.equal(await store.exists("big.bin"), false);
    assert.deepEqual(await diskNames(join(dataDir, "rooms", "room-1", "files")), []);
    await store.writeFile("ok.bin", new Uint8Array(100));
    assert.equal((await store.usage()).maxFileBytes, 100);
  }, { maxFileBytes: 100 });
});

Deno.test("LocalFileStore enforces the room quota (1008) and counts usage", async () => {
  await withStore(async (store, dataDir) => {
    await store.writeFile("a.bin", new Uint8Array(600));
    await assert.rejects(store.openWrite("b.bin", { size: 500 }), (e: unknown) => {
      assert.ok(e instanceof StorageLimitError);
      assert.equal(e.limit, "room");
      assert.equal(e.code, ErrorCode.OPERATION_FAILED);
      assert.match(e.message, /storage is full \(limit 1000 bytes\)/);
      return true;
    });
    // uploads in progress count too
    const w1 = await store.openWrite("c.bin");
    await w1.write(new Uint8Array(300));
    const w2 = await store.openWrite("d.bin");
    await assertStorageError(w2.write(new Uint8Array(200)), 1008);
    await w1.commit();
    assert.deepEqual(await store.usage(), {
      bytes: 900,
      pendingBytes: 0,
      maxFileBytes: 4 * 1024 ** 3,
      maxRoomBytes: 1000,
    });
    // overwriting and deleting give bytes back
    await store.writeFile("a.bin", new Uint8Array(100));
    assert.equal((await store.usage()).bytes, 400);
    await store.delete("c.bin");
    assert.equal((await store.usage()).bytes, 100);
    await store.writeFile("e/f.bin", new Uint8Array(900));
    // a fresh store counts the same bytes from the disk
    const again = await LocalFileStore.open({ dataDir, room: "room-1", maxRoomBytes: 1000 });
    assert.equal((await again.usage()).bytes, 1000);
  }, { maxRoomBytes: 1000 });
});

// ---- paths and confinement ----

Deno.test("LocalFileStore rejects bad paths with 3004 on every operation", async () => {
  await withStore(async (store) => {
    const bad = ["../x", "a/../../x", "a\\b", "a\0b", `${RESERVED_STORAGE_NAME_PREFIX}upload-x`];
    for (const path of bad) {
      for (
        const call of [
          () => store.exists(path),
          () => store.stat(path),
          () => store.list(path),
          () => store.delete(path),
          () => store.move(path, "ok"),
          () => store.move("ok", path),
          () => store.openWrite(path),
          () => store.openRead(path),
          () => store.readFile(path),
          () => store.writeFile(path, new Uint8Array(1)),
        ]
      ) {
        await assert.rejects(
          (async () => await call())(),
          (e: unknown) => e instanceof StoragePathError && e.code === 3004,
          `${JSON.stringify(path)} in ${call}`,
        );
      }
    }
    // "/etc/passwd" names a file inside the room (§0.5), which does not exist
    assert.equal(await store.exists("/etc/passwd"), false);
    await store.writeFile("/etc/passwd", encoder.encode("room file"));
    assert.equal(await readText(store, "etc/passwd"), "room file");
    await assertStorageError(store.openWrite(""), 3004);
    await assertStorageError(store.readFile(""), 3001);
  });
});

Deno.test("LocalFileStore never follows symbolic links", async () => {
  await withStore(async (store, dataDir) => {
    const outside = join(dataDir, "outside");
    await Deno.mkdir(outside);
    await Deno.writeTextFile(join(outside, "secret.txt"), "secret");
    const files = join(dataDir, "rooms", "room-1", "files");
    await Deno.symlink(outside, join(files, "linkdir"));
    await Deno.symlink(join(outside, "secret.txt"), join(files, "link.txt"));
    await write(store, "real.txt", "real");

    assert.deepEqual((await store.list("", { recursive: true })).map((e) => e.path), ["real.txt"]);
    assert.equal(await store.exists("link.txt"), false);
    assert.equal(await store.exists("linkdir"), false);
    await assertStorageError(store.readFile("link.txt"), 3001);
    await assertStorageError(store.openRead("link.txt"), 3001);
    await assertStorageError(store.readFile("linkdir/secret.txt"), 3004, /symbolic link/);
    await assertStorageError(store.stat("linkdir/secret.txt"), 3004);
    await assertStorageError(store.openWrite("linkdir/new.txt"), 3004);
    await assertStorageError(store.openWrite("linkdir/a/b/new.txt"), 3004);
    await assertStorageError(store.delete("linkdir/secret.txt"), 3004);
    await assertStorageError(store.move("real.txt", "linkdir/x.txt"), 3004);
    await assertStorageError(store.list("linkdir"), 3001);
    assert.deepEqual(await diskNames(outside), ["secret.txt"]);
    assert.equal(await Deno.readTextFile(join(outside, "secret.txt")), "secret");
    // overwriting a link replaces the link itself, never the target
    await write(store, "link.txt", "mine");
    assert.equal(await readText(store, "link.txt"), "mine");
    assert.equal(await Deno.readTextFile(join(outside, "secret.txt")), "secret");
  });
});

Deno.test("LocalFileStore: files and folders cannot take each other's place on write", async () => {
  await withStore(async (store) => {
    await write(store, "dir/inner.txt", "i");
    await assertStorageError(store.openWrite("dir", { overwrite: true }), 3005, /folder exists/);
    await write(store, "file.txt", "f");
    await assertStorageError(store.openWrite("file.txt/x.txt"), 3005, /'file.txt' is a file/);
  });
});

Deno.test("LocalFileStore.open checks the room name and options", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      LocalFileStore.open({ dataDir, room: "../evil" }),
      (e: unknown) =>
        e instanceof RoomError && e.code === 1002 && /invalid room name/.test(e.message),
    );
    await assert.rejects(
      LocalFileStore.open({ dataDir, room: "ok", maxRoomBytes: -1 }),
      (e: unknown) => e instanceof RoomError && /maxRoomBytes/.test(e.message),
    );
    const store = await LocalFileStore.open({ dataDir, room: "ok" });
    assert.equal(store.root, join(dataDir, "rooms", "ok", "files"));
    assert.equal(store.room, "ok");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("LocalFileStore errors are StorageErrors that name the path", async () => {
  await withStore(async (store) => {
    await assert.rejects(store.delete("nothing/here.txt"), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.path, "nothing/here.txt");
      assert.match(e.message, /nothing\/here\.txt/);
      return true;
    });
  });
});

Deno.test("LocalFileStore: an upload whose folder is deleted meanwhile fails with 1005", async () => {
  await withStore(async (store) => {
    await write(store, "box/other.txt", "o");
    const writer = await store.openWrite("box/new.txt");
    await writer.write(encoder.encode("lost"));
    await store.delete("box", { recursive: true });
    await assertStorageError(writer.commit(), ErrorCode.CONFLICT, /upload again/);
    assert.equal(await store.exists("box"), false);
    assert.deepEqual(await store.usage(), {
      bytes: 0,
      pendingBytes: 0,
      maxFileBytes: 4 * 1024 ** 3,
    });
  });
});
