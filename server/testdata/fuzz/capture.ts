// Regenerates the seed corpus of the fuzz targets (frames.json, packing.json, connection.json,
// sqlite.json beside this file) from real traffic: the official npm client
// (@meshagent/meshagent 0.39.9) and our RoomClient drive a real test server through the
// scenarios below, and every frame each client sends (and a sample of what it receives) is
// recorded. Hand-made nasty entries (nasty.ts) are added; inputs that found bugs live apart, in
// found.json, which this script leaves alone.
//
//   deno run -A server/testdata/fuzz/capture.ts && deno fmt server/testdata/fuzz/
import { createRequire } from "node:module";
import {
  ApiScope,
  type JsonObject,
  PacketAssembler,
  Protocol,
  type ProtocolMessage,
  RoomClient,
  unpackMessage,
} from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { encodeFuzzValue, type FuzzValue, setKey } from "../../_fuzz_mutator.ts";
import { NASTY } from "./nasty.ts";
import { SCHEMA_JSON } from "../../../api/testdata/sync_page_schema.ts";

const require = createRequire(import.meta.url);
// deno-lint-ignore no-explicit-any
const mesh: any = require("@meshagent/meshagent");

interface Recording {
  source: "official" | "ours";
  scenario: string;
  sent: Uint8Array[];
  received: Uint8Array[];
  /** Participant ids of the scenario, to be replaced by `$self` / `$other`. */
  ids: Record<string, string>;
  /** The official client's channel being recorded (the first one started in the scenario). */
  channel?: unknown;
}

let current: Recording | null = null;
// The official client's send loop rejects once its socket closed under it: not ours to fix here.
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  console.error(`(ignored) unhandled rejection: ${e.reason}`);
});
const recordings: Recording[] = [];

// The official client writes through its channel's sendData and reads through start's callback.
const channel = mesh.WebSocketProtocolChannel.prototype;
const officialSend = channel.sendData;
channel.sendData = function (data: Uint8Array) {
  if (current && current.channel === this) current.sent.push(new Uint8Array(data));
  return officialSend.call(this, data);
};
const officialStart = channel.start;
channel.start = function (onData: (d: Uint8Array) => void, handlers: unknown) {
  if (current?.source === "official" && current.channel === undefined) current.channel = this;
  return officialStart.call(this, (d: Uint8Array) => {
    if (current && current.channel === this && current.received.length < 64) {
      current.received.push(new Uint8Array(d));
    }
    onData(d);
  }, handlers);
};

// deno-lint-ignore no-explicit-any
type Official = any;

async function official(server: TestServer, room: string, name: string): Promise<Official> {
  const client = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl(room),
      token: await server.token(room, name, { api: ApiScope.full() }),
    }),
    reconnectTimeout: 0,
  });
  client.ready?.catch(() => {});
  await client.start();
  return client;
}

async function closeOfficial(client: Official): Promise<void> {
  client.dispose();
  await client.waitForClose?.();
}

async function record(
  source: Recording["source"],
  scenario: string,
  run: (ids: Record<string, string>) => Promise<void>,
): Promise<void> {
  const recording: Recording = { source, scenario, sent: [], received: [], ids: {} };
  current = recording;
  try {
    await run(recording.ids);
  } catch (e) {
    console.error(`${source} ${scenario}: ${e}`);
  } finally {
    current = null;
  }
  recordings.push(recording);
  console.log(`${source} ${scenario}: ${recording.sent.length} frames sent`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const text = (s: string) => new TextEncoder().encode(s);

async function officialScenarios(server: TestServer): Promise<void> {
  const log = console.log;
  console.log = () => {}; // the official runtime logs a lot
  try {
    const other = await official(server, "capture-o", "other");
    const withClient = (scenario: string, run: (c: Official) => Promise<void>) =>
      record("official", scenario, async (ids) => {
        const c = await official(server, "capture-o", "official");
        ids[c.localParticipant!.id] = "$self";
        ids[other.localParticipant!.id] = "$other";
        try {
          await run(c);
        } finally {
          await closeOfficial(c);
        }
      });
    await withClient("messaging", async (c) => {
      other.messaging.enable();
      c.messaging.enable();
      let peer = null;
      for (let i = 0; i < 100 && !peer; i++) {
        peer = c.messaging.getParticipantByName("other");
        if (!peer) await delay(10);
      }
      await c.messaging.sendMessage({ to: peer, type: "chat", message: { text: "hi" } });
      await c.messaging.sendMessage({
        to: peer,
        type: "file",
        message: { name: "a.bin" },
        attachment: new Uint8Array([1, 2, 3, 250]),
      });
      await c.messaging.broadcastMessage({ type: "news", message: { n: 1 } });
      c.localParticipant.setAttribute?.("status", "busy");
      await delay(20);
      c.messaging.disable();
    });
    await withClient("queues", async (c) => {
      await c.queues.open?.("jobs");
      await c.queues.send("jobs", { n: 1 }, {});
      await c.queues.send("jobs", { n: 2, nested: { a: [1, 2] } }, { create: true });
      await c.queues.list();
      await c.queues.receive("jobs", { wait: false });
      await c.queues.receive("jobs", { wait: false, create: false });
      await c.queues.drain("jobs");
      await c.queues.close?.("jobs");
    });
    await withClient("developer", async (c) => {
      await c.developer.log("info", { k: "v" });
      const stream = c.developer.logs()[Symbol.asyncIterator]();
      const first = stream.next();
      await delay(20);
      await c.developer.log("warning", { n: 2 });
      await first;
      await stream.return?.();
    });
    await withClient("storage", async (c) => {
      await c.storage.upload("docs/a.txt", text("hello"));
      await c.storage.upload("docs/sub/b.bin", new Uint8Array(300).map((_, i) => i));
      await c.storage.list("docs");
      await c.storage.exists("docs/a.txt");
      await c.storage.stat("docs/a.txt");
      await c.storage.download("docs/a.txt");
      await c.storage.downloadUrl("docs/a.txt");
      await c.storage.move("docs/a.txt", "docs/c.txt");
      await c.storage.delete("docs", { recursive: true });
    });
    await withClient("sync", async (c) => {
      await c.storage.upload(".schemas/page.json", text(JSON.stringify(SCHEMA_JSON)));
      const doc = await c.sync.open("notes/a.page", {
        create: true,
        // deno-lint-ignore no-explicit-any
      } as any).catch(() => null);
      if (doc) {
        try {
          doc.root?.setAttribute?.("title", "captured");
          await delay(50);
        } finally {
          await c.sync.close("notes/a.page");
        }
      }
    });
    await withClient("agents", async (c) => {
      await c.agents.listToolkits?.().catch(() => {});
      await c.agents.invokeTool?.({ toolkit: "missing", tool: "x", arguments: { a: 1 } })
        .catch(() => {});
    });
    await closeOfficial(other);
  } finally {
    console.log = log;
  }
}

async function ourScenarios(server: TestServer): Promise<void> {
  const other = await server.connect("capture-d", "other", { api: ApiScope.full() });
  const withClient = (scenario: string, run: (c: RoomClient) => Promise<void>) =>
    record("ours", scenario, async (ids) => {
      // Our client over a Protocol whose channel records every frame it sends.
      const token = await server.token("capture-d", "ours", { api: ApiScope.full() });
      const socket = new WebSocket(server.roomUrl("capture-d"), [`meshagent-room.${token}`]);
      socket.binaryType = "arraybuffer";
      const protocol = new Protocol({
        send(frame) {
          current?.sent.push(frame.slice());
          socket.send(frame);
        },
        close: (code, reason) => socket.close(code, reason),
      }, { requestTimeout: 10_000 });
      socket.onmessage = (e) => protocol.receive(new Uint8Array(e.data as ArrayBuffer));
      const closed = new Promise<void>((resolve) => {
        socket.onclose = (e) => {
          protocol.closed(e.code, e.reason);
          resolve();
        };
      });
      const c = new RoomClient({ protocol });
      await new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = reject;
      });
      await c.start({ timeout: 10_000 });
      ids[c.localParticipant!.id] = "$self";
      ids[other.localParticipant!.id] = "$other";
      try {
        await run(c);
      } finally {
        await c.dispose();
        socket.close();
        await closed;
      }
    });
  await withClient("messaging", async (c) => {
    await other.messaging.enable();
    await c.messaging.enable();
    await c.messaging.sendMessage({
      to: other.localParticipant!.id,
      type: "chat",
      message: { text: "hi" },
    }).catch(() => {});
    await c.messaging.broadcastMessage({ type: "news", message: { n: 1 } });
    await c.messaging.disable();
  });
  await withClient("queues", async (c) => {
    await c.queues.send("jobs", { n: 1 });
    await c.queues.receive("jobs", { wait: false });
    await c.queues.list();
    await c.queues.drain("jobs");
  });
  await withClient("storage", async (c) => {
    await c.storage.upload("docs/a.txt", text("hello"));
    await c.storage.list("docs");
    await c.storage.download("docs/a.txt");
    await c.storage.delete("docs/a.txt");
  });
  await withClient("sqlite", async (c) => {
    const db = c.database;
    const notes = [{ name: "id", type: "int64" as const }, {
      name: "title",
      type: "utf8" as const,
    }];
    await db.createDatabase({ name: "main" });
    await db.createTable({
      database: "main",
      name: "notes",
      columns: notes,
      rows: [{ id: 1, title: "a" }],
    });
    await db.insert({
      database: "main",
      table: "notes",
      rows: [{ id: 2, title: "b" }, { id: 3, title: null }],
    });
    await db.listTables({ database: "main" });
    await db.inspect({ database: "main", table: "notes" });
    await db.addColumns({
      database: "main",
      table: "notes",
      columns: [{ name: "n", type: "float64" }],
    });
    await db.update({ database: "main", table: "notes", where: { id: 1 }, values: { title: "z" } });
    await db.update({
      database: "main",
      table: "notes",
      where: "id > ?",
      params: [1],
      expressions: { n: "id * 2" },
    });
    await db.count({ database: "main", table: "notes", where: "title IS NOT NULL" });
    await db.search({
      database: "main",
      table: "notes",
      where: { title: "z" },
      select: ["id", "title"],
      limit: 10,
    });
    await db.executeSqlStatement({ database: "main", query: "CREATE INDEX i ON notes (title)" });
    await db.executeSql({
      database: "main",
      query: "SELECT id, title FROM notes WHERE id = :id",
      params: { id: 2 },
    });
    const query = await db.openSqlQuery({
      database: "main",
      query: "SELECT * FROM notes ORDER BY id",
    });
    await query.all();
    await query.close();
    await db.delete({ database: "main", table: "notes", where: { id: 3 } });
    await db.dropColumns({ database: "main", table: "notes", columns: ["n"] });
    await db.renameTable({ database: "main", name: "notes", newName: "notes2" } as never).catch(
      () => {},
    );
    await db.inspectDatabase({ name: "main" });
    await db.listDatabases();
    await db.dropTable({ database: "main", name: "notes2" }).catch(() => {});
    await db.dropDatabase({ name: "main" });
  });
  await other.dispose();
}

/** The outgoing messages of a recording, assembled. */
function messages(frames: Uint8Array[]): ProtocolMessage[] {
  const assembler = new PacketAssembler({ maxMessageSize: 1 << 30 });
  const out: ProtocolMessage[] = [];
  for (const frame of frames) {
    const m = assembler.push(frame);
    if (m) out.push({ ...m, data: m.data.slice() });
  }
  return out;
}

function bindIds(value: unknown, ids: Record<string, string>): unknown {
  if (typeof value === "string") return ids[value] ?? value;
  if (Array.isArray(value)) return value.map((v) => bindIds(v, ids));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, bindIds(v, ids));
    return out;
  }
  return value;
}

interface Entry {
  name: string;
  source: string;
  input: FuzzValue;
}

function steps(r: Recording): FuzzValue[] {
  return messages(r.sent).map((m) => {
    const { header, payload } = unpackMessage(m.data);
    const step: Record<string, FuzzValue> = {
      type: m.type,
      header: bindIds(header, r.ids) as FuzzValue,
    };
    if (payload.length > 0) step.payload = payload.slice();
    // The client waited for a stream to end before its next call (an upload before the open
    // that reads it): the script lets the room settle there.
    const chunk = header.chunk as JsonObject | undefined;
    if (chunk?.type === "control" && chunk.method === "close") step.wait = true;
    return step;
  });
}

/** Our sqlite tool calls as RoomDatabase ops (the invoke's arguments, or its start chunk). */
function sqliteOps(r: Recording): FuzzValue[] {
  const ops: FuzzValue[] = [];
  const byCall = new Map<string, Record<string, FuzzValue>>();
  for (const m of messages(r.sent)) {
    const { header, payload } = unpackMessage(m.data);
    if (m.type === "room.invoke_tool" && header.toolkit === "sqlite") {
      const args = header.arguments as JsonObject;
      const op: Record<string, FuzzValue> = { op: header.tool as string };
      if (args.type === "control") {
        byCall.set(header.tool_call_id as string, op);
        op.data = [];
      } else {
        op.request = (args.type === "binary" ? args.headers : args.json) as FuzzValue;
        if (payload.length > 0) op.payload = payload.slice();
      }
      ops.push(op);
    } else if (m.type === "room.tool_call_request_chunk") {
      const op = byCall.get(header.tool_call_id as string);
      const chunk = header.chunk as JsonObject;
      if (!op || chunk.type !== "binary") continue;
      const h = chunk.headers as JsonObject;
      if (op.request === undefined) {
        op.request = h as FuzzValue;
        if (payload.length > 0) op.payload = payload.slice();
      } else if (h.kind === "data") {
        (op.data as FuzzValue[]).push(payload.slice());
      } else if (h.kind === "pull") {
        op.pulls = ((op.pulls as number | undefined) ?? 0) + 1;
      }
    }
  }
  // Query ids are per run: later ops name the query by its order ($q0).
  return ops;
}

function write(name: string, description: string, entries: Entry[]): void {
  const file = {
    target: name,
    description,
    regenerate: "deno run -A server/testdata/fuzz/capture.ts && deno fmt server/testdata/fuzz/",
    entries: entries.map((e) => ({ ...e, input: encodeFuzzValue(e.input) })),
  };
  Deno.writeTextFileSync(
    new URL(`./${name}.json`, import.meta.url),
    JSON.stringify(file, null, 2) + "\n",
  );
  console.log(`${name}.json: ${entries.length} entries`);
}

const server = await startTestServer();
try {
  await officialScenarios(server);
  await ourScenarios(server);
} finally {
  await server.close();
}

const frames: Entry[] = [];
const packing: Entry[] = [];
const connection: Entry[] = [];
const sqlite: Entry[] = [];
for (const r of recordings) {
  const name = `${r.source} ${r.scenario}`;
  if (r.sent.length === 0) continue;
  frames.push({ name: `${name}: sent`, source: r.source, input: r.sent.slice(0, 48) });
  if (r.received.length > 0) {
    frames.push({ name: `${name}: received`, source: r.source, input: r.received.slice(0, 48) });
  }
  const sentMessages = messages(r.sent);
  packing.push({
    name: `${name}: sent messages`,
    source: r.source,
    input: sentMessages.slice(0, 32).map((m) => m.data),
  });
  if (r.scenario === "sqlite") {
    sqlite.push({ name, source: r.source, input: { ops: sqliteOps(r) } });
  } else {
    connection.push({ name, source: r.source, input: { steps: steps(r) } });
  }
}
const nasty = (target: keyof typeof NASTY) => NASTY[target].map((e) => ({ ...e, source: "nasty" }));
write("frames", "WebSocket binary messages (lists of frames)", [...frames, ...nasty("frames")]);
write("packing", "packed messages (lists of message data)", [...packing, ...nasty("packing")]);
write("connection", "request scripts {scope?, steps: [{type, header, payload?, as?}]}", [
  ...connection,
  ...nasty("connection"),
]);
write("sqlite", "RoomDatabase scripts {scope?, ops: [{op, request, payload?, data?, pulls?}]}", [
  ...sqlite,
  ...nasty("sqlite"),
]);
