import assert from "node:assert/strict";
import {
  type Content,
  FileContent,
  JsonContent,
  type JsonObject,
  type RoomClient,
  RoomError,
  TextContent,
} from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { startHostedToolkit } from "./hosted_toolkit.ts";
import { parseStorageMount } from "./storage_mount.ts";
import { StorageToolkit } from "./storage_toolkit.ts";
import { ToolContext } from "./tool_context.ts";
import { ToolError } from "./tool_error.ts";

const ROOM = "storage-tools";

function connect(server: TestServer, name: string): Promise<RoomClient> {
  return server.connect(ROOM, name, { reconnectTimeout: 0 });
}

function contextFor(room: RoomClient | null): ToolContext {
  return new ToolContext({ caller: { id: "p-test", attributes: {} }, room });
}

function json(content: unknown): JsonObject {
  assert.ok(content instanceof JsonContent, `expected json, got ${(content as Content).type}`);
  return content.json as JsonObject;
}

async function rejectsCode(p: Promise<unknown>, code: number, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RoomError, `expected a RoomError, got ${e}`);
    assert.equal(e.code, code, `code of: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** A local HTTP server for save_file_from_url; `hits` lists the paths it was asked for. */
function startFiles(): {
  url: string;
  port: number;
  server: Deno.HttpServer;
  hits: string[];
  hang: () => void;
} {
  let release = () => {};
  const hung = new Promise<void>((r) => release = r);
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    hits.push(path + url.search);
    if (path === "/hello.txt") {
      return new Response("hello from the web\nsecond line\n", {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    if (path === "/redirect") {
      // ?to=<Location>&status=<3xx>; no `to` gives a redirect status without a Location.
      const to = url.searchParams.get("to");
      const status = Number(url.searchParams.get("status") ?? 302);
      return new Response(null, { status, headers: to === null ? {} : { location: to } });
    }
    const chain = path.match(/^\/chain\/(\d+)$/);
    if (chain) {
      // /chain/N redirects N times before answering, with every redirect status, relative and
      // absolute Locations.
      const n = Number(chain[1]);
      if (n === 0) {
        return new Response("end of chain", { headers: { "content-type": "text/plain" } });
      }
      const status = [301, 302, 303, 307, 308][n % 5];
      const location = n % 2 === 0 ? `/chain/${n - 1}` : `${url.origin}/chain/${n - 1}`;
      return new Response(null, { status, headers: { location } });
    }
    if (path === "/big") return new Response(new Uint8Array(5000));
    if (path === "/big-chunked") {
      // No content-length: the limit is enforced while reading.
      let sent = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(c) {
            if (sent >= 10) return c.close();
            sent++;
            c.enqueue(new Uint8Array(1000));
          },
        }),
      );
    }
    if (path === "/slow") {
      return new Response(
        new ReadableStream<Uint8Array>({
          async start(c) {
            c.enqueue(new Uint8Array([1]));
            await hung;
            c.close();
          },
        }),
      );
    }
    return new Response("nope", { status: 404, statusText: "Not Found" });
  });
  const port = server.addr.port;
  return { url: `http://127.0.0.1:${port}`, port, server, hits, hang: release };
}

Deno.test("storage toolkit: every tool has a strict input schema; read-only drops the write tools", async () => {
  const full = new StorageToolkit();
  assert.equal(full.name, "storage");
  assert.deepEqual(full.tools.map((t) => t.name), [
    "list_files_in_room",
    "read_file",
    "grep_file",
    "write_file",
    "save_file_from_url",
    "get_file_download_url",
  ]);
  for (const tool of full.tools) {
    const schema = tool.inputSpec!.schema!;
    assert.equal(tool.strict, true, tool.name);
    assert.equal(schema.additionalProperties, false, tool.name);
    assert.deepEqual(
      [...(schema.required as string[])].sort(),
      Object.keys(schema.properties as JsonObject).sort(),
      tool.name,
    );
  }
  const ro = new StorageToolkit({ readOnly: true });
  assert.equal(ro.readOnly, true);
  assert.deepEqual(ro.tools.map((t) => t.name), [
    "list_files_in_room",
    "read_file",
    "grep_file",
    "get_file_download_url",
  ]);
  // Refused by the toolkit before anything runs (and there is no room here at all).
  await rejectsCode(
    ro.execute(contextFor(null), "write_file", { path: "a.txt", text: "x", overwrite: null }),
    1003,
  );
  // Without a room the tools say how to give them one.
  await rejectsCode(
    full.execute(contextFor(null), "read_file", { path: "a.txt" }),
    1006,
    /startHostedToolkit/,
  );
  // Strict schemas: a missing nullable argument is refused.
  await rejectsCode(
    full.execute(contextFor(null), "write_file", { path: "a.txt", text: "x" }),
    1002,
    /overwrite/,
  );
  assert.throws(() => new StorageToolkit({ maxReadBytes: 0 }), ToolError);
});

Deno.test("storage toolkit: list, write, read, grep and download URLs against a real room", async () => {
  const server = await startTestServer();
  const room = await connect(server, "agent");
  try {
    const kit = new StorageToolkit({ maxReadBytes: 1000 });
    const ctx = contextFor(room);

    const written = json(
      await kit.execute(ctx, "write_file", {
        path: "/notes/todo.txt",
        text: "Buy milk\nwrite TESTS\nbuy bread\n",
        overwrite: null,
      }),
    );
    assert.deepEqual(written, { path: "notes/todo.txt", size: 31 });
    // The file is in room storage for everyone.
    const stored = await room.storage.download("notes/todo.txt");
    assert.equal(new TextDecoder().decode(stored.data), "Buy milk\nwrite TESTS\nbuy bread\n");

    await rejectsCode(
      kit.execute(ctx, "write_file", { path: "notes/todo.txt", text: "x", overwrite: false }),
      3005,
      /already exists; pass overwrite: true/,
    );
    await kit.execute(ctx, "write_file", {
      path: "notes/todo.txt",
      text: "Buy milk\nwrite TESTS\nbuy bread\nbuy eggs\n",
      overwrite: true,
    });

    const listed = json(await kit.execute(ctx, "list_files_in_room", { path: "notes" }));
    assert.deepEqual(listed, {
      path: "notes",
      files: [{ name: "todo.txt", is_folder: false, size: 40 }],
    });
    const top = json(await kit.execute(ctx, "list_files_in_room", { path: "" }));
    assert.deepEqual(top.files, [{ name: "notes", is_folder: true, size: null }]);
    await rejectsCode(kit.execute(ctx, "list_files_in_room", { path: "missing" }), 3001);

    const text = await kit.execute(ctx, "read_file", { path: "notes/todo.txt" });
    assert.ok(text instanceof TextContent);
    assert.equal(text.text, "Buy milk\nwrite TESTS\nbuy bread\nbuy eggs\n");

    // Binary files come back as files.
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    await room.storage.upload("img/dot.png", png);
    const file = await kit.execute(ctx, "read_file", { path: "img/dot.png" });
    assert.ok(file instanceof FileContent);
    assert.equal(file.name, "dot.png");
    assert.equal(file.mimeType, "image/png");
    assert.deepEqual(file.data, png);

    // Limits and mistakes give errors that say what to do.
    await room.storage.upload("big.txt", new Uint8Array(2000).fill(97));
    await rejectsCode(
      kit.execute(ctx, "read_file", { path: "big.txt" }),
      1002,
      /2000 bytes, more than the 1000-byte limit of read_file; search it with grep_file/,
    );
    await rejectsCode(kit.execute(ctx, "read_file", { path: "nope.txt" }), 3001, /no file/);
    await rejectsCode(kit.execute(ctx, "read_file", { path: "notes" }), 1002, /is a folder/);
    await rejectsCode(kit.execute(ctx, "read_file", { path: "notes/../x" }), 3004, /\.\./);

    // grep: line numbers, case, limits.
    const grep = json(
      await kit.execute(ctx, "grep_file", {
        path: "notes/todo.txt",
        pattern: "^buy",
        ignore_case: true,
        max_matches: 2,
      }),
    );
    assert.deepEqual(grep, {
      path: "notes/todo.txt",
      pattern: "^buy",
      matches: [{ line: 1, text: "Buy milk" }, { line: 3, text: "buy bread" }],
      match_count: 3,
      truncated: true,
    });
    const exact = json(
      await kit.execute(ctx, "grep_file", {
        path: "notes/todo.txt",
        pattern: "TEST",
        ignore_case: null,
        max_matches: null,
      }),
    );
    assert.deepEqual(exact.matches, [{ line: 2, text: "write TESTS" }]);
    assert.equal(exact.truncated, false);
    await rejectsCode(
      kit.execute(ctx, "grep_file", {
        path: "notes/todo.txt",
        pattern: "(",
        ignore_case: null,
        max_matches: null,
      }),
      1002,
      /not a valid regular expression/,
    );
    await rejectsCode(
      kit.execute(ctx, "grep_file", {
        path: "img/dot.png",
        pattern: "x",
        ignore_case: null,
        max_matches: null,
      }),
      1002,
      /not a text file/,
    );
    await rejectsCode(
      kit.execute(ctx, "grep_file", {
        path: "notes/todo.txt",
        pattern: "x",
        ignore_case: null,
        max_matches: 0,
      }),
      1002,
      /max_matches/,
    );

    // Download URLs serve the file over HTTP.
    const { url } = json(
      await kit.execute(ctx, "get_file_download_url", { path: "notes/todo.txt" }),
    );
    assert.equal(typeof url, "string");
    const res = await fetch(url as string);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "Buy milk\nwrite TESTS\nbuy bread\nbuy eggs\n");
    await rejectsCode(kit.execute(ctx, "get_file_download_url", { path: "gone.txt" }), 3001);

    // respond() turns failures into error contents a host sends.
    const answer = await kit.respond(ctx, "read_file", { path: "nope.txt" });
    assert.equal((answer as Content).type, "error");
  } finally {
    await room.dispose();
    await server.close();
  }
});

Deno.test("storage toolkit: save_file_from_url fetches http(s) with a size limit and a timeout", async () => {
  const server = await startTestServer();
  const room = await connect(server, "agent");
  const files = startFiles();
  try {
    // The server is on 127.0.0.1, which the toolkit refuses unless told otherwise.
    const kit = new StorageToolkit({
      maxDownloadBytes: 4096,
      fetchTimeout: 500,
      allowPrivateNetworks: true,
    });
    const ctx = contextFor(room);
    const saved = json(
      await kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/hello.txt`,
        path: "web/hello.txt",
        overwrite: null,
      }),
    );
    assert.deepEqual(saved, { path: "web/hello.txt", size: 31, mime_type: "text/plain" });
    const stored = await room.storage.download("web/hello.txt");
    assert.equal(new TextDecoder().decode(stored.data), "hello from the web\nsecond line\n");
    assert.equal(stored.mimeType, "text/plain");

    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/hello.txt`,
        path: "web/hello.txt",
        overwrite: false,
      }),
      3005,
      /overwrite: true/,
    );
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/missing`,
        path: "web/missing.txt",
        overwrite: null,
      }),
      1008,
      /answered 404 Not Found/,
    );
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/big`,
        path: "web/big.bin",
        overwrite: null,
      }),
      1002,
      /5000 bytes, more than the 4096-byte limit/,
    );
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/big-chunked`,
        path: "web/big2.bin",
        overwrite: null,
      }),
      1002,
      /larger than the 4096-byte limit/,
    );
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/slow`,
        path: "web/slow.bin",
        overwrite: null,
      }),
      1009,
      /took longer than 500 ms/,
    );
    files.hang();
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: "file:///etc/passwd",
        path: "web/passwd",
        overwrite: null,
      }),
      1002,
      /http and https URLs only, not file:/,
    );
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", { url: "not a url", path: "x", overwrite: null }),
      1002,
      /is not a URL/,
    );
    // Failed downloads leave nothing behind.
    for (const p of ["web/missing.txt", "web/big.bin", "web/big2.bin", "web/slow.bin"]) {
      assert.equal(await room.storage.exists(p), false, p);
    }
  } finally {
    files.hang();
    await files.server.shutdown();
    await room.dispose();
    await server.close();
  }
});

const SAVE = "save_file_from_url";

/** The PERMISSION_DENIED refusal of a non-public host. */
async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await rejectsCode(p, 1001, message);
  await p.catch((e: Error) => {
    assert.match(e.message, /allowPrivateNetworks/, "the refusal says how to allow it");
  });
}

Deno.test("storage toolkit: save_file_from_url refuses loopback, private and metadata hosts by default", async () => {
  const server = await startTestServer();
  const room = await connect(server, "agent");
  const files = startFiles();
  try {
    const kit = new StorageToolkit();
    const ctx = contextFor(room);
    const port = files.port;
    const cases: [string, RegExp][] = [
      [
        `${files.url}/hello.txt`,
        /will not fetch http:\/\/127\.0\.0\.1:\d+\/hello\.txt: the host 127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\)/,
      ],
      [`http://localhost:${port}/hello.txt`, /the host localhost is a loopback name/],
      [`http://LOCALHOST.:${port}/hello.txt`, /the host localhost\. is a loopback name/],
      [`http://[::1]:${port}/hello.txt`, /the host \[::1\] is the loopback address/],
      [`http://0x7f.1:${port}/hello.txt`, /the host 127\.0\.0\.1 is a loopback address/],
      [`http://2130706433:${port}/hello.txt`, /the host 127\.0\.0\.1 is a loopback address/],
      [`http://127.1:${port}/hello.txt`, /the host 127\.0\.0\.1 is a loopback address/],
      [`http://[::ffff:127.0.0.1]:${port}/hello.txt`, /IPv6 form .* of 127\.0\.0\.1, a loopback/],
      [`http://0.0.0.0:${port}/hello.txt`, /the host 0\.0\.0\.0 is an unspecified/],
      [`http://[::]:${port}/hello.txt`, /the host \[::\] is the unspecified address/],
      // Refused before any connection: nothing is sent to these addresses.
      [
        "http://169.254.169.254/latest/meta-data/",
        /the host 169\.254\.169\.254 is the cloud metadata address/,
      ],
      ["http://[fd00:ec2::254]/latest/meta-data/", /a private \(unique local\) address/],
      ["http://10.0.0.1/", /the host 10\.0\.0\.1 is a private address \(10\.0\.0\.0\/8\)/],
      ["https://192.168.1.1/", /a private address \(192\.168\.0\.0\/16\)/],
      ["http://172.20.0.1/", /a private address \(172\.16\.0\.0\/12\)/],
      ["http://100.100.100.200/", /carrier-grade NAT/],
      ["http://[fe80::1]/", /a link-local address/],
      ["http://224.0.0.251/", /a multicast address/],
    ];
    // [impl] No real DNS look-ups in tests (they would query the machine's resolver): names are
    // covered with a stand-in resolver in _url_guard_test.ts.
    for (const [url, message] of cases) {
      await refused(kit.execute(ctx, SAVE, { url, path: "web/x.txt", overwrite: null }), message);
    }
    assert.deepEqual(files.hits, [], "no request reached the server");
    assert.equal(await room.storage.exists("web/x.txt"), false);
    assert.equal(await room.storage.exists("web"), false);

    // The same URL is fetched once allowed.
    const open = new StorageToolkit({ allowPrivateNetworks: true });
    const saved = json(
      await open.execute(ctx, SAVE, {
        url: `${files.url}/hello.txt`,
        path: "web/x.txt",
        overwrite: null,
      }),
    );
    assert.equal(saved.size, 31);
    assert.deepEqual(files.hits, ["/hello.txt"]);
  } finally {
    await files.server.shutdown();
    await room.dispose();
    await server.close();
  }
});

Deno.test("storage toolkit: save_file_from_url checks every redirect against the policy", async () => {
  const server = await startTestServer();
  const room = await connect(server, "agent");
  const files = startFiles();
  try {
    const ctx = contextFor(room);
    // Allows the first hop only (a stand-in for a public server that redirects inward).
    const asked: string[] = [];
    const kit = new StorageToolkit({
      allowPrivateNetworks: (url) => {
        asked.push(url.href);
        return url.pathname === "/redirect";
      },
    });
    const first = `${files.url}/redirect?to=/hello.txt`;
    await refused(
      kit.execute(ctx, SAVE, { url: first, path: "web/inward.txt", overwrite: null }),
      new RegExp(
        `will not fetch ${files.url}/hello\\.txt \\(a redirect from ${files.url}/redirect\\?to=/hello\\.txt\\): ` +
          "the host 127\\.0\\.0\\.1 is a loopback address",
      ),
    );
    assert.deepEqual(asked, [first, `${files.url}/hello.txt`]);
    assert.deepEqual(
      files.hits,
      ["/redirect?to=/hello.txt"],
      "the redirect target was not fetched",
    );

    // Absolute redirects to other refused hosts: refused before any connection.
    for (
      const [to, message] of [
        [
          "http://169.254.169.254/latest/meta-data/iam/",
          /the host 169\.254\.169\.254 is the cloud metadata/,
        ],
        [`http://[::1]:${files.port}/hello.txt`, /the host \[::1\] is the loopback address/],
        [`http://0x7f.1:${files.port}/hello.txt`, /the host 127\.0\.0\.1 is a loopback/],
        [`http://localhost:${files.port}/hello.txt`, /the host localhost is a loopback name/],
      ] as const
    ) {
      await refused(
        kit.execute(ctx, SAVE, {
          url: `${files.url}/redirect?to=${encodeURIComponent(to)}&status=307`,
          path: "web/inward.txt",
          overwrite: null,
        }),
        message,
      );
    }
    assert.equal(files.hits.length, 5);
    assert.ok(files.hits.every((h) => h.startsWith("/redirect?")), files.hits.join());
    // A redirect to another scheme is refused as well.
    await rejectsCode(
      kit.execute(ctx, SAVE, {
        url: `${files.url}/redirect?to=${encodeURIComponent("file:///etc/passwd")}`,
        path: "web/inward.txt",
        overwrite: null,
      }),
      1002,
      /redirected to a file: URL; save_file_from_url fetches http and https URLs only/,
    );
    assert.equal(await room.storage.exists("web/inward.txt"), false);

    // An allow function that allows the redirect target too (asynchronously): followed and stored.
    const local = new StorageToolkit({
      allowPrivateNetworks: (url) => Promise.resolve(url.port === String(files.port)),
    });
    const saved = json(
      await local.execute(ctx, SAVE, { url: first, path: "web/followed.txt", overwrite: null }),
    );
    assert.deepEqual(saved, { path: "web/followed.txt", size: 31, mime_type: "text/plain" });
    const stored = await room.storage.download("web/followed.txt");
    assert.equal(new TextDecoder().decode(stored.data), "hello from the web\nsecond line\n");
  } finally {
    await files.server.shutdown();
    await room.dispose();
    await server.close();
  }
});

Deno.test("storage toolkit: save_file_from_url follows at most 5 redirects", async () => {
  const server = await startTestServer();
  const room = await connect(server, "agent");
  const files = startFiles();
  try {
    const ctx = contextFor(room);
    const kit = new StorageToolkit({ allowPrivateNetworks: true });
    // Five redirects (301, 302, 303, 307, 308; relative and absolute) are followed.
    const saved = json(
      await kit.execute(ctx, SAVE, {
        url: `${files.url}/chain/5`,
        path: "web/chain.txt",
        overwrite: null,
      }),
    );
    assert.deepEqual(saved, { path: "web/chain.txt", size: 12, mime_type: "text/plain" });
    const stored = await room.storage.download("web/chain.txt");
    assert.equal(new TextDecoder().decode(stored.data), "end of chain");
    assert.deepEqual(files.hits, [
      "/chain/5",
      "/chain/4",
      "/chain/3",
      "/chain/2",
      "/chain/1",
      "/chain/0",
    ]);

    // A sixth is refused, and nothing is stored.
    files.hits.length = 0;
    await rejectsCode(
      kit.execute(ctx, SAVE, {
        url: `${files.url}/chain/6`,
        path: "web/loop.txt",
        overwrite: null,
      }),
      1008,
      /chain\/6 was redirected more than 5 times/,
    );
    assert.deepEqual(files.hits, [
      "/chain/6",
      "/chain/5",
      "/chain/4",
      "/chain/3",
      "/chain/2",
      "/chain/1",
    ]);
    assert.equal(await room.storage.exists("web/loop.txt"), false);

    // A redirect status without a Location is an answer like any other failure.
    await rejectsCode(
      kit.execute(ctx, SAVE, {
        url: `${files.url}/redirect?status=302`,
        path: "web/nowhere.txt",
        overwrite: null,
      }),
      1008,
      /answered 302 Found/,
    );
    assert.equal(await room.storage.exists("web/nowhere.txt"), false);
  } finally {
    await files.server.shutdown();
    await room.dispose();
    await server.close();
  }
});

Deno.test("storage toolkit: mounts map tool paths to room folders; read-only mounts refuse writes", async () => {
  const server = await startTestServer();
  const room = await connect(server, "agent");
  try {
    await room.storage.upload("projects/alpha/plan.md", new TextEncoder().encode("# plan\n"));
    await room.storage.upload("reference/guide.txt", new TextEncoder().encode("guide\n"));
    await room.storage.upload("secret/key.txt", new TextEncoder().encode("k"));
    const kit = new StorageToolkit({
      mounts: [
        { roomPath: "projects/alpha", mountPath: "work" },
        { roomPath: "reference", mountPath: "docs/ref", readOnly: true },
      ],
    });
    const ctx = contextFor(room);
    const top = json(await kit.execute(ctx, "list_files_in_room", { path: "/" }));
    assert.deepEqual(top.files, [
      { name: "docs", is_folder: true, size: null },
      { name: "work", is_folder: true, size: null },
    ]);
    const docs = json(await kit.execute(ctx, "list_files_in_room", { path: "docs" }));
    assert.deepEqual(docs.files, [{ name: "ref", is_folder: true, size: null }]);
    const work = json(await kit.execute(ctx, "list_files_in_room", { path: "work" }));
    assert.deepEqual(work.files, [{ name: "plan.md", is_folder: false, size: 7 }]);

    const plan = await kit.execute(ctx, "read_file", { path: "work/plan.md" });
    assert.equal((plan as TextContent).text, "# plan\n");
    const guide = await kit.execute(ctx, "read_file", { path: "docs/ref/guide.txt" });
    assert.equal((guide as TextContent).text, "guide\n");

    await kit.execute(ctx, "write_file", { path: "work/notes.txt", text: "n", overwrite: null });
    assert.equal(await room.storage.exists("projects/alpha/notes.txt"), true);
    await rejectsCode(
      kit.execute(ctx, "write_file", { path: "docs/ref/new.txt", text: "n", overwrite: null }),
      1001,
      /read-only mount/,
    );
    assert.equal(await room.storage.exists("reference/new.txt"), false);
    await rejectsCode(
      kit.execute(ctx, "read_file", { path: "secret/key.txt" }),
      1001,
      /outside the mounted folders/,
    );
    await rejectsCode(
      kit.execute(ctx, "read_file", { path: "work/../../secret/key.txt" }),
      3004,
    );
  } finally {
    await room.dispose();
    await server.close();
  }
});

Deno.test("storage toolkit: hosted in a room, another participant writes and reads through the server", async () => {
  const server = await startTestServer();
  const host = await connect(server, "agent");
  const caller = await connect(server, "user");
  const hosted = await startHostedToolkit(host, new StorageToolkit({ name: "agent_storage" }), {
    public: true,
  });
  try {
    const written = await caller.agents.invokeTool({
      toolkit: "agent_storage",
      tool: "write_file",
      arguments: { path: "shared/hello.txt", text: "hi there", overwrite: null },
    });
    assert.deepEqual(json(written), { path: "shared/hello.txt", size: 8 });
    // It is really in the room.
    const file = await caller.storage.download("shared/hello.txt");
    assert.equal(new TextDecoder().decode(file.data), "hi there");

    const read = await caller.agents.invokeTool({
      toolkit: "agent_storage",
      tool: "read_file",
      arguments: { path: "shared/hello.txt" },
    });
    assert.ok(read instanceof TextContent);
    assert.equal(read.text, "hi there");

    await rejectsCode(
      caller.agents.invokeTool({
        toolkit: "agent_storage",
        tool: "read_file",
        arguments: { path: "shared/none.txt" },
      }),
      3001,
      /no file at "shared\/none.txt"/,
    );
    // The strict schema is enforced by the host.
    await rejectsCode(
      caller.agents.invokeTool({
        toolkit: "agent_storage",
        tool: "write_file",
        arguments: { path: "x.txt", text: "x", overwrite: null, extra: 1 },
      }),
      1002,
      /extra/,
    );
  } finally {
    await hosted.stop();
    await caller.dispose();
    await host.dispose();
    await server.close();
  }
});

/** A temp folder with real files for local mounts; removed by the returned function. */
async function localTree(): Promise<
  { dir: string; outside: string; cleanup: () => Promise<void> }
> {
  const base = await Deno.makeTempDir({ prefix: "storage_toolkit_local_" });
  const dir = `${base}/mount`;
  const outside = `${base}/outside`;
  await Deno.mkdir(`${dir}/notes/deep`, { recursive: true });
  await Deno.mkdir(outside);
  await Deno.writeTextFile(`${dir}/notes/todo.txt`, "Buy milk\nwrite TESTS\nbuy bread\n");
  await Deno.writeTextFile(`${dir}/notes/deep/x.md`, "# x\n");
  await Deno.writeFile(`${dir}/dot.png`, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
  await Deno.writeFile(`${dir}/big.txt`, new Uint8Array(2000).fill(97));
  await Deno.writeTextFile(`${outside}/secret.txt`, "top secret\n");
  return { dir, outside, cleanup: () => Deno.remove(base, { recursive: true }) };
}

Deno.test("storage toolkit: a local mount lists, reads, greps and writes real files", async () => {
  const t = await localTree();
  try {
    const kit = new StorageToolkit({
      maxReadBytes: 1000,
      mounts: [{ localPath: t.dir, mountPath: "disk" }],
    });
    // No room at all: local mounts do not need one.
    const ctx = contextFor(null);

    const top = json(await kit.execute(ctx, "list_files_in_room", { path: "" }));
    assert.deepEqual(top, { path: "", files: [{ name: "disk", is_folder: true, size: null }] });
    const listed = json(await kit.execute(ctx, "list_files_in_room", { path: "/disk" }));
    assert.deepEqual(listed, {
      path: "disk",
      files: [
        { name: "big.txt", is_folder: false, size: 2000 },
        { name: "dot.png", is_folder: false, size: 8 },
        { name: "notes", is_folder: true, size: null },
      ],
    });
    const notes = json(await kit.execute(ctx, "list_files_in_room", { path: "disk/notes" }));
    assert.deepEqual(notes.files, [
      { name: "deep", is_folder: true, size: null },
      { name: "todo.txt", is_folder: false, size: 31 },
    ]);
    await rejectsCode(kit.execute(ctx, "list_files_in_room", { path: "disk/missing" }), 3001);
    await rejectsCode(kit.execute(ctx, "list_files_in_room", { path: "disk/big.txt" }), 3001);

    const text = await kit.execute(ctx, "read_file", { path: "disk/notes/todo.txt" });
    assert.ok(text instanceof TextContent);
    assert.equal(text.text, "Buy milk\nwrite TESTS\nbuy bread\n");
    const file = await kit.execute(ctx, "read_file", { path: "disk/dot.png" });
    assert.ok(file instanceof FileContent);
    assert.equal(file.name, "dot.png");
    assert.equal(file.mimeType, "image/png");
    assert.deepEqual(file.data, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
    await rejectsCode(
      kit.execute(ctx, "read_file", { path: "disk/big.txt" }),
      1002,
      /2000 bytes, more than the 1000-byte limit of read_file; search it with grep_file/,
    );
    await rejectsCode(kit.execute(ctx, "read_file", { path: "disk/nope.txt" }), 3001, /no file/);
    await rejectsCode(kit.execute(ctx, "read_file", { path: "disk/notes" }), 1002, /is a folder/);
    await rejectsCode(
      kit.execute(ctx, "get_file_download_url", { path: "disk/notes/todo.txt" }),
      1002,
      /local-disk mount/,
    );

    const grep = json(
      await kit.execute(ctx, "grep_file", {
        path: "disk/notes/todo.txt",
        pattern: "^buy",
        ignore_case: true,
        max_matches: 1,
      }),
    );
    assert.deepEqual(grep, {
      path: "disk/notes/todo.txt",
      pattern: "^buy",
      matches: [{ line: 1, text: "Buy milk" }],
      match_count: 2,
      truncated: true,
    });
    await rejectsCode(
      kit.execute(ctx, "grep_file", {
        path: "disk/dot.png",
        pattern: "x",
        ignore_case: null,
        max_matches: null,
      }),
      1002,
      /not a text file/,
    );

    // Writes land on disk, in new folders too, and leave no temporary files behind.
    const written = json(
      await kit.execute(ctx, "write_file", {
        path: "disk/new/inner/hello.txt",
        text: "héllo",
        overwrite: null,
      }),
    );
    assert.deepEqual(written, { path: "disk/new/inner/hello.txt", size: 6 });
    assert.equal(await Deno.readTextFile(`${t.dir}/new/inner/hello.txt`), "héllo");
    await rejectsCode(
      kit.execute(ctx, "write_file", { path: "disk/notes/todo.txt", text: "x", overwrite: false }),
      3005,
      /already exists; pass overwrite: true/,
    );
    assert.equal(
      await Deno.readTextFile(`${t.dir}/notes/todo.txt`),
      "Buy milk\nwrite TESTS\nbuy bread\n",
    );
    await kit.execute(ctx, "write_file", {
      path: "disk/notes/todo.txt",
      text: "replaced\n",
      overwrite: true,
    });
    assert.equal(await Deno.readTextFile(`${t.dir}/notes/todo.txt`), "replaced\n");
    await rejectsCode(
      kit.execute(ctx, "write_file", { path: "disk/notes", text: "x", overwrite: true }),
      1002,
      /is a folder/,
    );
    await rejectsCode(
      kit.execute(ctx, "write_file", { path: "disk/big.txt/x.txt", text: "x", overwrite: null }),
      1002,
      /is a file, so it cannot hold other files/,
    );
    // Without overwrite, racing writers to one new file: exactly one wins (no-clobber link).
    const racers = await Promise.allSettled(
      ["a", "b", "c", "d", "e"].map((text) =>
        kit.execute(ctx, "write_file", { path: "disk/notes/race.txt", text, overwrite: false })
      ),
    );
    assert.equal(racers.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of racers) {
      if (r.status === "rejected") assert.equal((r.reason as ToolError).code, 3005);
    }
    await Deno.remove(`${t.dir}/notes/race.txt`);
    const names: string[] = [];
    for await (const e of Deno.readDir(`${t.dir}/notes`)) names.push(e.name);
    assert.deepEqual(names.sort(), ["deep", "todo.txt"]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("storage toolkit: a local mount refuses escapes: .., symlinks out, NUL bytes, read-only", async () => {
  const t = await localTree();
  try {
    await Deno.symlink(t.outside, `${t.dir}/out_dir`);
    await Deno.symlink(`${t.outside}/secret.txt`, `${t.dir}/out_file.txt`);
    await Deno.symlink(`${t.dir}/notes/todo.txt`, `${t.dir}/in_link.txt`);
    await Deno.symlink(`${t.dir}/gone.txt`, `${t.dir}/dangling.txt`);
    const kit = new StorageToolkit({
      mounts: [
        { localPath: t.dir, mountPath: "" },
        { localPath: t.dir, mountPath: "ro", readOnly: true },
      ],
    });
    const ctx = contextFor(null);

    // Links that lead outside (and dangling ones) are not listed; links inside are.
    const top = json(await kit.execute(ctx, "list_files_in_room", { path: "" }));
    assert.deepEqual((top.files as JsonObject[]).map((f) => f.name), [
      "big.txt",
      "dot.png",
      "in_link.txt",
      "notes",
    ]);
    const inside = await kit.execute(ctx, "read_file", { path: "in_link.txt" });
    assert.equal((inside as TextContent).text, "Buy milk\nwrite TESTS\nbuy bread\n");

    await rejectsCode(
      kit.execute(ctx, "read_file", { path: "notes/../../outside/secret.txt" }),
      3004,
    );
    await rejectsCode(kit.execute(ctx, "read_file", { path: "../outside/secret.txt" }), 3004);
    await rejectsCode(
      kit.execute(ctx, "read_file", { path: "out_file.txt" }),
      1001,
      /leads outside the mounted folder/,
    );
    await rejectsCode(
      kit.execute(ctx, "read_file", { path: "out_dir/secret.txt" }),
      1001,
      /leads outside the mounted folder/,
    );
    await rejectsCode(
      kit.execute(ctx, "grep_file", {
        path: "out_file.txt",
        pattern: "secret",
        ignore_case: null,
        max_matches: null,
      }),
      1001,
    );
    await rejectsCode(kit.execute(ctx, "list_files_in_room", { path: "out_dir" }), 1001);
    await rejectsCode(kit.execute(ctx, "read_file", { path: "notes/todo.txt\0.png" }), 3004, /NUL/);
    // A leading "/" is the top of the tools' view, never the host's root.
    await rejectsCode(kit.execute(ctx, "read_file", { path: `/${t.outside}/secret.txt` }), 3001);

    // Writes through a link that leads out are refused, and nothing appears outside.
    await rejectsCode(
      kit.execute(ctx, "write_file", { path: "out_dir/planted.txt", text: "x", overwrite: null }),
      1001,
      /leads outside the mounted folder/,
    );
    await rejectsCode(
      kit.execute(ctx, "write_file", {
        path: "out_dir/sub/planted.txt",
        text: "x",
        overwrite: null,
      }),
      1001,
    );
    // Overwriting a link replaces the link itself; the file outside is untouched.
    await kit.execute(ctx, "write_file", { path: "out_file.txt", text: "mine", overwrite: true });
    assert.equal(await Deno.readTextFile(`${t.outside}/secret.txt`), "top secret\n");
    assert.equal((await Deno.lstat(`${t.dir}/out_file.txt`)).isSymlink, false);
    const outsideNames: string[] = [];
    for await (const e of Deno.readDir(t.outside)) outsideNames.push(e.name);
    assert.deepEqual(outsideNames, ["secret.txt"]);

    // The read-only mount reads but refuses writes with the usual error.
    const ro = await kit.execute(ctx, "read_file", { path: "ro/notes/deep/x.md" });
    assert.equal((ro as TextContent).text, "# x\n");
    await rejectsCode(
      kit.execute(ctx, "write_file", { path: "ro/new.txt", text: "n", overwrite: null }),
      1001,
      /read-only mount/,
    );
    await assert.rejects(Deno.lstat(`${t.dir}/new.txt`), Deno.errors.NotFound);

    // A mount whose folder is missing says so.
    const missing = new StorageToolkit({
      mounts: [{ localPath: `${t.dir}/no-such-folder`, mountPath: "m" }],
    });
    await rejectsCode(
      missing.execute(ctx, "list_files_in_room", { path: "m" }),
      3001,
      /local folder behind mount "m" does not exist/,
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("storage toolkit: one toolkit mixes a room mount, a local mount and save_file_from_url", async () => {
  const t = await localTree();
  const server = await startTestServer();
  const room = await connect(server, "agent");
  const files = startFiles();
  try {
    await room.storage.upload("reference/guide.txt", new TextEncoder().encode("guide\n"));
    const kit = new StorageToolkit({
      allowPrivateNetworks: true,
      maxDownloadBytes: 3000,
      mounts: [
        { roomPath: "reference", mountPath: "ref" },
        { localPath: t.dir, mountPath: "disk" },
      ],
    });
    const ctx = contextFor(room);
    const top = json(await kit.execute(ctx, "list_files_in_room", { path: "" }));
    assert.deepEqual(top.files, [
      { name: "disk", is_folder: true, size: null },
      { name: "ref", is_folder: true, size: null },
    ]);
    const guide = await kit.execute(ctx, "read_file", { path: "ref/guide.txt" });
    assert.equal((guide as TextContent).text, "guide\n");
    const todo = await kit.execute(ctx, "read_file", { path: "disk/notes/todo.txt" });
    assert.equal((todo as TextContent).text, "Buy milk\nwrite TESTS\nbuy bread\n");

    // Writes go to the right place: the room for ref/, the disk for disk/.
    await kit.execute(ctx, "write_file", { path: "ref/a.txt", text: "room", overwrite: null });
    await kit.execute(ctx, "write_file", { path: "disk/a.txt", text: "disk", overwrite: null });
    assert.equal(
      new TextDecoder().decode((await room.storage.download("reference/a.txt")).data),
      "room",
    );
    assert.equal(await Deno.readTextFile(`${t.dir}/a.txt`), "disk");
    assert.equal(await room.storage.exists("disk/a.txt"), false);

    // save_file_from_url stores to disk, with the same overwrite rule and size limit.
    const saved = json(
      await kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/hello.txt`,
        path: "disk/web/hello.txt",
        overwrite: null,
      }),
    );
    assert.deepEqual(saved, { path: "disk/web/hello.txt", size: 31, mime_type: "text/plain" });
    assert.equal(
      await Deno.readTextFile(`${t.dir}/web/hello.txt`),
      "hello from the web\nsecond line\n",
    );
    const hits = files.hits.length;
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/hello.txt`,
        path: "disk/web/hello.txt",
        overwrite: null,
      }),
      3005,
      /already exists/,
    );
    assert.equal(files.hits.length, hits, "nothing fetched when the file exists");
    await rejectsCode(
      kit.execute(ctx, "save_file_from_url", {
        url: `${files.url}/big-chunked`,
        path: "disk/web/big.bin",
        overwrite: null,
      }),
      1002,
      /larger than the 3000-byte limit/,
    );
    const web: string[] = [];
    for await (const e of Deno.readDir(`${t.dir}/web`)) web.push(e.name);
    assert.deepEqual(web, ["hello.txt"], "no partial or temporary file is left");
  } finally {
    await files.server.shutdown();
    await room.dispose();
    await server.close();
    await t.cleanup();
  }
});

Deno.test("storage toolkit: parseStorageMount reads <src>:<mount>[:ro|rw]", () => {
  assert.deepEqual(parseStorageMount("reference:docs:ro", "room"), {
    roomPath: "reference",
    mountPath: "docs",
    readOnly: true,
  });
  assert.deepEqual(parseStorageMount("reference:docs:rw", "room"), {
    roomPath: "reference",
    mountPath: "docs",
    readOnly: false,
  });
  assert.deepEqual(parseStorageMount(":all", "room"), {
    roomPath: "",
    mountPath: "all",
    readOnly: false,
  });
  assert.deepEqual(parseStorageMount("/srv/data:", "local"), {
    localPath: "/srv/data",
    mountPath: "",
    readOnly: false,
  });
  // Read from the right: a host path may hold colons.
  assert.deepEqual(parseStorageMount("C:\\data:data:ro", "local"), {
    localPath: "C:\\data",
    mountPath: "data",
    readOnly: true,
  });
  // A mount named "ro" needs the explicit mode.
  assert.deepEqual(parseStorageMount("/srv:ro:rw", "local"), {
    localPath: "/srv",
    mountPath: "ro",
    readOnly: false,
  });
  for (const bad of ["/srv/data", ":data", "", ":ro"]) {
    assert.throws(
      () => parseStorageMount(bad, "local"),
      (e: unknown) => e instanceof ToolError && e.code === 1002 && /<src>:<mount>/.test(e.message),
      bad,
    );
  }
  // The parsed mounts work in a toolkit.
  const kit = new StorageToolkit({
    mounts: [parseStorageMount("reference:docs:ro", "room"), parseStorageMount(".:here", "local")],
  });
  assert.equal(kit.tools.length, 6);
});

Deno.test("storage toolkit: names with control or bidirectional characters are refused (3004), other unicode names work", async () => {
  const t = await localTree();
  try {
    const kit = new StorageToolkit({ mounts: [{ localPath: t.dir, mountPath: "disk" }] });
    const ctx = contextFor(null);
    const before: string[] = [];
    for await (const e of Deno.readDir(t.dir)) before.push(e.name);
    const refused: [string, RegExp][] = [
      ["disk/a\nb.txt", /U\+000A LINE FEED/],
      ["disk/a\rb.txt", /U\+000D CARRIAGE RETURN/],
      ["disk/invoice\u202Efdp.exe", /U\+202E RIGHT-TO-LEFT OVERRIDE/],
      ["disk/a\u2066b.txt", /U\+2066 LEFT-TO-RIGHT ISOLATE/],
      ["disk/a\x1bb.txt", /U\+001B ESCAPE/],
    ];
    for (const [path, message] of refused) {
      await rejectsCode(
        kit.execute(ctx, "write_file", { path, text: "x", overwrite: null }),
        3004,
        message,
      );
      await rejectsCode(kit.execute(ctx, "read_file", { path }), 3004, message);
    }
    const after: string[] = [];
    for await (const e of Deno.readDir(t.dir)) after.push(e.name);
    assert.deepEqual(after.sort(), before.sort(), "nothing was written");

    for (const path of ["disk/été.txt", "disk/日本/資料.md", "disk/🎉 👨‍👩‍👧.txt", "disk/עברית.txt"]) {
      await kit.execute(ctx, "write_file", { path, text: path, overwrite: null });
      assert.equal((await kit.execute(ctx, "read_file", { path }) as TextContent).text, path);
    }
    // A stray newline around a whole path (as models write them) is trimmed, not refused.
    const trimmed = await kit.execute(ctx, "read_file", { path: "disk/été.txt\n" });
    assert.equal((trimmed as TextContent).text, "disk/été.txt");
  } finally {
    await t.cleanup();
  }
});
