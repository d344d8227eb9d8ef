// The official client (npm @meshagent/meshagent 0.39.9) and ours on one document.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { MeshSchema, RoomClient } from "@meshagent/api";
import { SCHEMA_JSON } from "../../api/testdata/sync_page_schema.ts";
import { startTestServer } from "@meshagent/server/testing";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// deno-lint-ignore no-explicit-any
function officialTree(element: any): unknown {
  const attrs: Record<string, unknown> = {};
  for (const name of ["title", "style"]) {
    const v = element.getAttribute(name);
    if (v !== undefined && v !== null) attrs[name] = v;
  }
  // deno-lint-ignore no-explicit-any
  const children = (element.getChildren?.() ?? []).filter((c: any) => c.tagName !== undefined)
    // deno-lint-ignore no-explicit-any
    .map((c: any) => ({ [c.tagName]: officialTree(c) }));
  return { ...attrs, children };
}

// deno-lint-ignore no-explicit-any
function ourTree(element: any): unknown {
  const attrs: Record<string, unknown> = {};
  for (const name of ["title", "style"]) {
    const v = element.getAttribute(name);
    if (v !== undefined && v !== null) attrs[name] = v;
  }
  // deno-lint-ignore no-explicit-any
  const children = element.children.map((c: any) => ({ [c.tagName]: ourTree(c) }));
  return { ...attrs, children };
}

Deno.test("sync interop: the official client and ours edit one document and converge", async () => {
  const server = await startTestServer();
  const ours = new RoomClient({
    url: server.roomUrl("interop"),
    token: await server.token("interop", "ours"),
    reconnectTimeout: 0,
  });
  const official = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl("interop"),
      token: await server.token("interop", "official"),
    }),
    reconnectTimeout: 0,
  });
  official.ready?.catch(() => {});
  const log = console.log;
  console.log = () => {}; // the official runtime logs every change
  try {
    await ours.start({ timeout: 5000 });
    await official.start();
    const path = "shared/doc.page";
    const mine = await ours.sync.open(path, {
      schema: MeshSchema.fromJson(SCHEMA_JSON),
      initialJson: { page: { title: "start", children: [{ para: { style: "first" } }] } },
    });
    await ours.sync.flush(path);
    // The official client opens the document by path; the server sends the recorded schema.
    const theirs = await official.sync.open(path);
    assert.equal(theirs.root.getAttribute("title"), "start");
    assert.equal(theirs.root.getChildren().length, 1);

    // Our edits reach the official client.
    mine.root.createChildElement("para", { style: "from-ours" });
    mine.root.setAttribute("title", "ours");
    await until(() => theirs.root.getChildren().length === 2, "our insert at the official client");

    // The official client's edits reach ours.
    theirs.root.createChildElement("para", { style: "from-official" });
    theirs.root.setAttribute("title", "official");
    await until(() => mine.root.children.length === 3, "the official insert at ours");
    await until(() => mine.root.getAttribute("title") === "official", "the official title");
    // Deletes too.
    mine.root.children[0].delete();
    await until(() => theirs.root.getChildren().length === 2, "our delete at the official client");
    await until(
      () => JSON.stringify(officialTree(theirs.root)) === JSON.stringify(ourTree(mine.root)),
      "same structure",
    );
    assert.deepEqual(officialTree(theirs.root), {
      title: "official",
      children: [{ para: { style: "from-ours", children: [] } }, {
        para: { style: "from-official", children: [] },
      }],
    });
    // The official close waits for the server's close chunk.
    await official.sync.close(path);
    await ours.sync.close(path);
    assert.deepEqual(await ours.sync.describe(path), {
      page: {
        title: "official",
        children: [{ para: { style: "from-ours" } }, { para: { style: "from-official" } }],
      },
    });
    // Opening a missing document with create:false fails with a code, not a hang. (The official
    // client also leaves an internal promise rejected and unobserved: ignore that one.)
    const swallow = (e: PromiseRejectionEvent) => e.preventDefault();
    globalThis.addEventListener("unhandledrejection", swallow);
    try {
      await assert.rejects(
        official.sync.open("missing.page", { create: false }),
        (e: Error & { code?: number }) => e.code === 3001,
      );
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      globalThis.removeEventListener("unhandledrejection", swallow);
    }
  } finally {
    console.log = log;
    official.dispose();
    await official.waitForClose?.();
    await ours.dispose();
    await server.close();
  }
});
