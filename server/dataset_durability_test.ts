// Durability of datasets: the server runs as a separate process (`meshagent server`); right
// after each acknowledged insert it is killed with SIGKILL and restarted on the same data folder.
// Every acknowledged row must be there, and an insert cut off by the kill must not be visible.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ApiScope, ArrowTable, ParticipantToken, RoomClient } from "@meshagent/api";

const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROOM = "durable-datasets";

interface ServerProcess {
  url: string;
  apiKey: string;
  child: Deno.ChildProcess;
  /** Resolves when the child's stdout is fully read. */
  drained: Promise<void>;
}

/** Starts `meshagent server --port 0` and reads the URL and API key from its banner. */
async function startServer(dataDir: string): Promise<ServerProcess> {
  const env = Deno.env.toObject();
  for (const name of ["MESHAGENT_API_KEY", "MESHAGENT_SECRET", "MESHAGENT_PROJECT_ID"]) {
    delete env[name];
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "server", "--port", "0", "--data-dir", dataDir],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000); // nothing hangs
  try {
    while (!/^export MESHAGENT_API_KEY=\S+$/m.test(text) || !/listening on \S+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server exited before its banner:\n${text}`);
      text += value;
    }
  } finally {
    clearTimeout(deadline);
  }
  const url = /listening on (\S+)/.exec(text)![1];
  const apiKey = /^export MESHAGENT_API_KEY=(\S+)$/m.exec(text)![1];
  const drained = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })();
  return { url, apiKey, child, drained };
}

async function kill(server: ServerProcess): Promise<void> {
  server.child.kill("SIGKILL");
  const status = await server.child.status;
  assert.equal(status.signal, "SIGKILL");
  await server.drained;
}

async function join(server: ServerProcess, name: string): Promise<RoomClient> {
  const token = new ParticipantToken({ name });
  token.addRoomGrant(ROOM);
  token.addApiGrant(ApiScope.agentDefault());
  const room = new RoomClient({
    url: `${server.url.replace(/^http/, "ws")}/rooms/${ROOM}`,
    token: await token.toJwt({ apiKey: server.apiKey }),
    reconnectTimeout: 0,
    requestTimeout: 20_000,
  });
  await room.start({ timeout: 20_000 });
  return room;
}

function rows(from: number, n: number): ArrowTable {
  return ArrowTable.fromRows(
    Array.from({ length: n }, (_, i) => ({ id: from + i, text: `row ${from + i}` })),
    [{ name: "id", type: "int64" }, { name: "text", type: "utf8" }],
  );
}

Deno.test({
  name: "dataset durability: SIGKILL right after each acknowledged insert loses no row",
  sanitizeResources: true,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "meshagent-ds-durability-" });
    let server = await startServer(dataDir);
    let expected = 0;
    try {
      for (let round = 0; round < 3; round++) {
        const room = await join(server, "writer");
        if (round === 0) {
          await room.datasets.createTableFromData({ name: "log", data: rows(0, 100) });
        } else {
          await room.datasets.insert({ table: "log", records: rows(expected, 1000) });
        }
        // Acknowledged: kill the server at once.
        await kill(server);
        expected += round === 0 ? 100 : 1000;
        await room.dispose();

        server = await startServer(dataDir);
        const reader = await join(server, "reader");
        try {
          assert.equal(await reader.datasets.count({ table: "log" }), expected);
          const last = await reader.datasets.searchRows({
            table: "log",
            where: `id = ${expected - 1}`,
          });
          assert.deepEqual(last, [{ id: expected - 1, text: `row ${expected - 1}` }]);
        } finally {
          await reader.dispose();
        }
      }

      // An insert cut off by the kill (one chunk sent, the rest never) is not visible.
      const room = await join(server, "writer");
      const pulled = Promise.withResolvers<void>();
      const stalled = Promise.withResolvers<void>();
      const slow = async function* (): AsyncGenerator<ArrowTable> {
        yield rows(expected, 500);
        pulled.resolve();
        await stalled.promise; // the rest never comes before the kill
        yield rows(expected + 500, 500);
      };
      const cut = room.datasets.insertStream({ table: "log", chunks: slow() });
      cut.catch(() => {});
      await pulled.promise;
      await new Promise((r) => setTimeout(r, 100)); // let the first chunk reach the server
      await kill(server);
      await assert.rejects(cut);
      stalled.resolve();
      await room.dispose();

      server = await startServer(dataDir);
      const reader = await join(server, "reader");
      try {
        assert.equal(await reader.datasets.count({ table: "log" }), expected);
      } finally {
        await reader.dispose();
      }
    } finally {
      await kill(server).catch(() => {});
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
