// Interop: the official client (@meshagent/meshagent 0.39.9) and our StorageClient in one room
// on our server. Files uploaded by one are downloaded byte-identical by the other (0 B, 1 KiB,
// 20 MiB), and the official client's list/exists/stat/delete/downloadUrl work against us.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { connect, roomName, type TestServer, withServer } from "./testdata/test_room.ts";

interface OfficialEntry {
  name: string;
  isFolder: boolean;
  size: number | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}
interface OfficialFileEvent {
  path: string;
  participantId: string;
}
interface OfficialStorage {
  upload(
    path: string,
    bytes: Uint8Array,
    options?: { overwrite?: boolean; name?: string; mimeType?: string },
  ): Promise<void>;
  uploadStream(
    path: string,
    chunks: AsyncIterable<Uint8Array>,
    options?: { overwrite?: boolean; size?: number | null },
  ): Promise<void>;
  download(path: string): Promise<{ data: Uint8Array; name: string; mimeType: string }>;
  list(path: string): Promise<OfficialEntry[]>;
  stat(path: string): Promise<OfficialEntry | null>;
  exists(path: string): Promise<boolean>;
  delete(path: string, options?: { recursive?: boolean | null }): Promise<void>;
  move(from: string, to: string, options?: { overwrite?: boolean }): Promise<void>;
  downloadUrl(path: string): Promise<string>;
  on(name: string, listener: (event: OfficialFileEvent) => void): void;
}
interface OfficialRoom {
  ready: Promise<void>;
  start(): Promise<void>;
  dispose(): void;
  waitForClose(): Promise<void>;
  storage: OfficialStorage;
}
interface OfficialModule {
  RoomClient: new (options: { protocolFactory: unknown; reconnectTimeout: number }) => OfficialRoom;
  WebSocketClientProtocol: { createFactory(options: { url: string; token: string }): unknown };
}

const require = createRequire(import.meta.url);
const mesh = require("@meshagent/meshagent") as OfficialModule;

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function official(server: TestServer, room: string, name: string): Promise<OfficialRoom> {
  const client = new mesh.RoomClient({
    protocolFactory: mesh.WebSocketClientProtocol.createFactory({
      url: server.roomUrl(room),
      token: await server.token(room, name),
    }),
    reconnectTimeout: 0,
  });
  client.ready.catch(() => {}); // an orphaned rejection otherwise (official client notes §8)
  await client.start();
  return client;
}

async function closeOfficial(client: OfficialRoom): Promise<void> {
  client.dispose();
  await client.waitForClose().catch(() => {});
}

const SIZES = [0, 1024, 20 * 1024 * 1024];

Deno.test("interop: official uploads → ours downloads, ours uploads → official downloads", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const ours = await connect(server, name, "deno-alice");
    const theirs = await official(server, name, "npm-olga");
    try {
      for (const size of SIZES) {
        const a = pattern(size, size + 1);
        await theirs.storage.upload(`from-npm/${size}.bin`, a);
        const got = await ours.storage.download(`from-npm/${size}.bin`);
        assert.ok(sameBytes(got.data, a), `official → ours differs at ${size} bytes`);
        assert.equal(got.name, `${size}.bin`);

        const b = pattern(size, size + 2);
        await ours.storage.upload(`from-deno/${size}.bin`, b);
        const back = await theirs.storage.download(`from-deno/${size}.bin`);
        assert.ok(sameBytes(back.data, b), `ours → official differs at ${size} bytes`);
        assert.equal(back.mimeType, "application/octet-stream");
      }
      // The official streaming upload with no size and small odd chunks.
      const c = pattern(200_001, 5);
      const pieces = async function* () {
        for (let i = 0; i < c.length; i += 30_000) yield c.subarray(i, i + 30_000);
      };
      await theirs.storage.uploadStream("from-npm/stream.txt", pieces());
      const got = await ours.storage.download("from-npm/stream.txt");
      assert.ok(sameBytes(got.data, c));
      assert.equal(got.mimeType, "text/plain");
    } finally {
      await closeOfficial(theirs);
      await ours.dispose();
    }
  });
});

Deno.test("interop: the official client's list, exists, stat, move, delete, downloadUrl and events", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const ours = await connect(server, name, "deno-alice");
    const theirs = await official(server, name, "npm-olga");
    const events: string[] = [];
    theirs.storage.on("file.updated", (e) => events.push(`updated ${e.path}`));
    theirs.storage.on("file.deleted", (e) => events.push(`deleted ${e.path}`));
    try {
      await ours.storage.upload("docs/a.txt", new TextEncoder().encode("hello"));
      await ours.storage.upload("docs/sub/b.txt", new TextEncoder().encode("b"));

      const entries = await theirs.storage.list("docs");
      assert.deepEqual(entries.map((e) => [e.name, e.isFolder, e.size]), [
        ["a.txt", false, 5],
        ["sub", true, null],
      ]);
      assert.ok(entries[0].updatedAt instanceof Date);
      assert.equal(await theirs.storage.exists("docs/a.txt"), true);
      assert.equal(await theirs.storage.exists("docs/none.txt"), false);
      const stat = await theirs.storage.stat("docs/a.txt");
      assert.equal(stat?.name, "a.txt");
      assert.equal(stat?.size, 5);
      assert.equal(await theirs.storage.stat("docs/none.txt"), null);
      // (A failed official download sends its input close in the background; the requests
      // below make sure it was answered before the client is disposed.)
      await assert.rejects(
        theirs.storage.download("docs/none.txt"),
        (e: { code?: number }) => e.code === 3001,
      );

      // upload without overwrite onto an existing file: the official client surfaces 3005
      await assert.rejects(
        theirs.storage.upload("docs/a.txt", new Uint8Array(1)),
        (e: { code?: number }) => e.code === 3005,
      );

      const url = await theirs.storage.downloadUrl("docs/a.txt");
      assert.match(url, /^http/);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "hello");

      await theirs.storage.move("docs/a.txt", "docs/c.txt");
      assert.equal(await ours.storage.exists("docs/c.txt"), true);
      await assert.rejects(
        theirs.storage.delete("docs"),
        (e: { code?: number }) => e.code === 3002,
      );
      await theirs.storage.delete("docs", { recursive: true });
      assert.deepEqual(await ours.storage.list(""), []);
      assert.deepEqual(events, ["updated docs/a.txt", "updated docs/sub/b.txt", "deleted docs"]);
    } finally {
      await closeOfficial(theirs);
      await ours.dispose();
    }
  });
});
