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

/** A local HTTP server for save_file_from_url. */
function startFiles(): { url: string; server: Deno.HttpServer; hang: () => void } {
  let release = () => {};
  const hung = new Promise<void>((r) => release = r);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/hello.txt") {
      return new Response("hello from the web\nsecond line\n", {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
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
  return { url: `http://127.0.0.1:${server.addr.port}`, server, hang: release };
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
    const kit = new StorageToolkit({ maxDownloadBytes: 4096, fetchTimeout: 500 });
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
