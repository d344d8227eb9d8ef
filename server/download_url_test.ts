import assert from "node:assert/strict";
import { ErrorCode, RoomError } from "@meshagent/api";
import {
  createDownloadHandler,
  DEFAULT_DOWNLOAD_URL_TTL_SECONDS,
  DownloadUrlError,
  DownloadUrlSigner,
} from "./download_url.ts";
import { LocalFileStore } from "./local_file_store.ts";
import type { FileStore } from "./file_store.ts";
import { StoragePathError } from "./storage_path.ts";

const SECRET = "test secret, at least sixteen bytes";
const BASE = "http://127.0.0.1:9999";
const encoder = new TextEncoder();

async function rejectsWith(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof DownloadUrlError, `expected a DownloadUrlError, got ${e}`);
    assert.equal(e.code, ErrorCode.PERMISSION_DENIED);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("DownloadUrlSigner signs URLs that verify", async () => {
  const signer = await DownloadUrlSigner.create(SECRET);
  const now = Date.UTC(2025, 0, 2);
  const url = await signer.sign({ baseUrl: BASE, room: "demo", path: "./docs//a b&c.txt", now });
  const parsed = new URL(url);
  assert.equal(parsed.origin, BASE);
  assert.equal(parsed.pathname, "/rooms/demo/storage/download");
  assert.equal(parsed.searchParams.get("path"), "docs/a b&c.txt");
  assert.equal(parsed.searchParams.get("download"), "0");
  assert.equal(
    Number(parsed.searchParams.get("expires")),
    now / 1000 + DEFAULT_DOWNLOAD_URL_TTL_SECONDS,
  );
  assert.match(parsed.searchParams.get("sig")!, /^[A-Za-z0-9_-]{43}$/);
  const granted = await signer.verify(url, now);
  assert.deepEqual(granted, {
    room: "demo",
    path: "docs/a b&c.txt",
    download: false,
    expiresAt: new Date(now + DEFAULT_DOWNLOAD_URL_TTL_SECONDS * 1000),
  });
  const attachment = await signer.sign({ baseUrl: BASE, room: "demo", path: "x", download: true });
  assert.equal((await signer.verify(new URL(attachment))).download, true);
});

Deno.test("DownloadUrlSigner keeps a base URL's path prefix", async () => {
  const signer = await DownloadUrlSigner.create(SECRET);
  const url = await signer.sign({ baseUrl: "https://h.example/mesh/", room: "r", path: "f" });
  assert.ok(url.startsWith("https://h.example/mesh/rooms/r/storage/download?"), url);
});

Deno.test("DownloadUrlSigner refuses expired URLs", async () => {
  const signer = await DownloadUrlSigner.create(SECRET, { ttlSeconds: 60 });
  const now = Date.UTC(2025, 0, 2);
  const url = await signer.sign({ baseUrl: BASE, room: "demo", path: "a.txt", now });
  await signer.verify(url, now + 59_000);
  await rejectsWith(signer.verify(url, now + 60_000), /expired; ask for a new one/);
  const short = await signer.sign({
    baseUrl: BASE,
    room: "demo",
    path: "a.txt",
    expiresInSeconds: 1,
    now: now - 5000,
  });
  await rejectsWith(signer.verify(short, now), /expired/);
});

Deno.test("DownloadUrlSigner refuses every tampered part", async () => {
  const signer = await DownloadUrlSigner.create(SECRET);
  const url = new URL(await signer.sign({ baseUrl: BASE, room: "demo", path: "a.txt" }));
  const variants: [string, (u: URL) => void][] = [
    ["path", (u) => u.searchParams.set("path", "b.txt")],
    ["room", (u) => (u.pathname = "/rooms/other/storage/download")],
    [
      "expires",
      (u) => u.searchParams.set("expires", String(Number(u.searchParams.get("expires")) + 1)),
    ],
    ["download", (u) => u.searchParams.set("download", "1")],
    ["sig", (u) => {
      const sig = u.searchParams.get("sig")!;
      u.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    }],
    ["sig length", (u) => u.searchParams.set("sig", u.searchParams.get("sig")!.slice(1))],
    ["sig alphabet", (u) => u.searchParams.set("sig", "!!!")],
  ];
  for (const [label, change] of variants) {
    const tampered = new URL(url);
    change(tampered);
    await rejectsWith(signer.verify(tampered), /signature is not valid/).catch((e) => {
      throw new Error(`tampered ${label}: ${e.message}`);
    });
  }
  const missing = new URL(url);
  missing.searchParams.delete("sig");
  await rejectsWith(signer.verify(missing), /incomplete/);
  const badExpiry = new URL(url);
  badExpiry.searchParams.set("expires", "soon");
  await rejectsWith(signer.verify(badExpiry), /incomplete/);
  await rejectsWith(signer.verify("http://h/rooms/demo/other"), /not a download link/);
  await rejectsWith(signer.verify("not a url"), /not a URL/);

  const otherSigner = await DownloadUrlSigner.create("a different secret of enough bytes");
  await rejectsWith(otherSigner.verify(url), /signature is not valid/);
});

Deno.test("DownloadUrlSigner checks its inputs", async () => {
  await assert.rejects(
    DownloadUrlSigner.create("short"),
    (e: unknown) =>
      e instanceof RoomError && e.code === 1002 && /at least 16 bytes/.test(e.message),
  );
  await assert.rejects(DownloadUrlSigner.create(SECRET, { ttlSeconds: 0 }), RoomError);
  const signer = await DownloadUrlSigner.create(new Uint8Array(32).fill(7));
  await assert.rejects(
    signer.sign({ baseUrl: BASE, room: "demo", path: "../x" }),
    StoragePathError,
  );
  await assert.rejects(signer.sign({ baseUrl: BASE, room: "Bad Room", path: "x" }), /room name/);
  await assert.rejects(signer.sign({ baseUrl: "relative", room: "demo", path: "x" }), /absolute/);
});

/** A room server stand-in: the download handler mounted on a real `Deno.serve`. */
async function withServer(
  fn: (ctx: { base: string; store: LocalFileStore; signer: DownloadUrlSigner }) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "download_url_test_" });
  const store = await LocalFileStore.open({ dataDir, room: "demo", fsync: false });
  const signer = await DownloadUrlSigner.create(SECRET);
  const handle = createDownloadHandler(signer);
  const resolve = (room: string): FileStore | undefined => room === "demo" ? store : undefined;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => (await handle(req, resolve)) ?? new Response("router 404", { status: 404 }),
  );
  try {
    await fn({ base: `http://127.0.0.1:${server.addr.port}`, store, signer });
  } finally {
    await server.shutdown();
    await server.finished;
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("download handler streams a file with its type, length and name", async () => {
  await withServer(async ({ base, store, signer }) => {
    const body = new Uint8Array(1024 * 1024 + 3).map((_, i) => i % 251);
    await store.writeFile("docs/data.bin", body, {
      name: "Données 2025.bin",
      mimeType: "application/x-test",
    });
    const url = await signer.sign({ baseUrl: base, room: "demo", path: "docs/data.bin" });
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-test");
    assert.equal(res.headers.get("content-length"), String(body.length));
    assert.equal(res.headers.get("accept-ranges"), "bytes");
    assert.equal(
      res.headers.get("content-disposition"),
      `inline; filename="Donn_es 2025.bin"; filename*=UTF-8''Donn%C3%A9es%202025.bin`,
    );
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("content-security-policy"), "sandbox");
    assert.ok(res.headers.get("last-modified"));
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), body);

    await store.writeFile("page.html", encoder.encode("<h1>hi</h1>"));
    const attach = await fetch(
      await signer.sign({ baseUrl: base, room: "demo", path: "page.html", download: true }),
    );
    assert.equal(attach.headers.get("content-type"), "text/html");
    assert.match(attach.headers.get("content-disposition")!, /^attachment; filename="page.html"/);
    assert.equal(await attach.text(), "<h1>hi</h1>");

    await store.writeFile("empty.txt", new Uint8Array(0));
    const empty = await fetch(
      await signer.sign({ baseUrl: base, room: "demo", path: "empty.txt" }),
    );
    assert.equal(empty.status, 200);
    assert.equal(empty.headers.get("content-length"), "0");
    assert.equal(await empty.text(), "");
  });
});

Deno.test("download handler serves HEAD and byte ranges", async () => {
  await withServer(async ({ base, store, signer }) => {
    await store.writeFile("digits.txt", encoder.encode("0123456789"));
    const url = await signer.sign({ baseUrl: base, room: "demo", path: "digits.txt" });

    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "10");
    assert.equal(head.headers.get("content-type"), "text/plain");
    assert.equal(await head.text(), "");

    const cases: [string, number, string, string | null][] = [
      ["bytes=2-4", 206, "234", "bytes 2-4/10"],
      ["bytes=7-", 206, "789", "bytes 7-9/10"],
      ["bytes=-3", 206, "789", "bytes 7-9/10"],
      ["bytes=5-100", 206, "56789", "bytes 5-9/10"],
      ["bytes=0-0", 206, "0", "bytes 0-0/10"],
      ["bytes=4-2", 200, "0123456789", null], // malformed: the whole file
      ["bytes=0-1,3-4", 200, "0123456789", null], // several ranges: the whole file
      ["items=0-1", 200, "0123456789", null],
    ];
    for (const [range, status, text, contentRange] of cases) {
      const res = await fetch(url, { headers: { Range: range } });
      assert.equal(res.status, status, range);
      assert.equal(await res.text(), text, range);
      assert.equal(res.headers.get("content-range"), contentRange, range);
      assert.equal(res.headers.get("content-length"), String(text.length), range);
    }
    const headRange = await fetch(url, { method: "HEAD", headers: { Range: "bytes=1-2" } });
    assert.equal(headRange.status, 206);
    assert.equal(headRange.headers.get("content-range"), "bytes 1-2/10");
    await headRange.body?.cancel();

    for (const range of ["bytes=10-", "bytes=-0", "bytes=99-100"]) {
      const res = await fetch(url, { headers: { Range: range } });
      assert.equal(res.status, 416, range);
      assert.equal(res.headers.get("content-range"), "bytes */10");
      await res.body?.cancel();
    }
  });
});

Deno.test("download handler answers 403, 404, 405 and passes other routes on", async () => {
  await withServer(async ({ base, store, signer }) => {
    await store.writeFile("a.txt", encoder.encode("a"));
    const url = new URL(await signer.sign({ baseUrl: base, room: "demo", path: "a.txt" }));

    const tampered = new URL(url);
    tampered.searchParams.set("path", "b.txt");
    const forbidden = await fetch(tampered);
    assert.equal(forbidden.status, 403);
    assert.match(await forbidden.text(), /signature is not valid/);

    const expired = await signer.sign({
      baseUrl: base,
      room: "demo",
      path: "a.txt",
      expiresInSeconds: 1,
      now: Date.now() - 10_000,
    });
    const late = await fetch(expired);
    assert.equal(late.status, 403);
    assert.match(await late.text(), /expired/);

    const gone = await fetch(await signer.sign({ baseUrl: base, room: "demo", path: "gone.txt" }));
    assert.equal(gone.status, 404);
    assert.match(await gone.text(), /no file at 'gone.txt'/);

    await store.writeFile("dir/x.txt", encoder.encode("x"));
    const folder = await fetch(await signer.sign({ baseUrl: base, room: "demo", path: "dir" }));
    assert.equal(folder.status, 404);
    await folder.body?.cancel();

    const noRoom = await fetch(await signer.sign({ baseUrl: base, room: "elsewhere", path: "a" }));
    assert.equal(noRoom.status, 404);
    assert.match(await noRoom.text(), /no room elsewhere/);

    const post = await fetch(url, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();

    const other = await fetch(`${base}/rooms/demo/other`);
    assert.equal(other.status, 404);
    assert.equal(await other.text(), "router 404");

    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "a");
  });
});

Deno.test("download handler closes the file when the client goes away", async () => {
  await withServer(async ({ base, store, signer }) => {
    await store.writeFile("big.bin", new Uint8Array(8 * 1024 * 1024));
    const res = await fetch(await signer.sign({ baseUrl: base, room: "demo", path: "big.bin" }));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    // the test's resource sanitizer fails if the server kept the file open
  });
});
