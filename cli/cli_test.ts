// End-to-end tests of the `meshagent` command: the real cli/main.ts in subprocesses against a
// real server started by `meshagent server`.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";

const MAIN = fromFileUrl(new URL("./main.ts", import.meta.url));
const ROOT = fromFileUrl(new URL("..", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = { ...Deno.env.toObject(), ...extra };
  for (
    const name of ["MESHAGENT_API_KEY", "MESHAGENT_SECRET", "MESHAGENT_TOKEN", "MESHAGENT_ROOM"]
  ) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

async function meshagent(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    env: cleanEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

interface ServerProcess {
  child: Deno.ChildProcess;
  url: string;
  env: Record<string, string>;
  banner: string[];
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts `meshagent server --port 0` and reads its banner up to its last line (the env block's). */
async function startServer(
  dataDir: string,
  env: Record<string, string> = {},
  flags: string[] = [],
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "server", "--port", "0", "--data-dir", dataDir, ...flags],
    cwd: ROOT,
    env: cleanEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const banner: string[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!banner.some((l) => l.startsWith("export MESHAGENT_SECRET="))) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited early:\n${banner.join("\n")}`);
    buffer += value;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    banner.push(...lines);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  const stderr = child.stderr.pipeTo(new WritableStream());
  const exported: Record<string, string> = {};
  for (const line of banner) {
    const m = /^export (MESHAGENT_[A-Z_]+)=(.*)$/.exec(line);
    if (m) exported[m[1]] = m[2];
  }
  return {
    child,
    url: exported.MESHAGENT_API_URL,
    env: exported,
    banner,
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      const status = await child.status;
      await drained;
      await stderr;
      return status;
    },
  };
}

Deno.test("meshagent server prints a ready-to-paste env block and keeps its credentials", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const first = await startServer(dataDir);
    assert.match(
      first.banner[0],
      /^MeshAgent room server .* listening on http:\/\/127\.0\.0\.1:\d+$/,
    );
    assert.match(first.env.MESHAGENT_API_KEY, /^ma-/);
    assert.ok(
      first.env.MESHAGENT_SECRET && first.env.MESHAGENT_KEY_ID && first.env.MESHAGENT_PROJECT_ID,
    );
    assert.ok(first.banner.some((l) => l.includes("generated now")));
    // The environment block comes last, the easiest thing to copy; the commands to try are the
    // installed command's, with a word on how to get it.
    assert.deepEqual(first.banner.slice(-5).map((l) => l.split("=")[0]), [
      "export MESHAGENT_API_URL",
      "export MESHAGENT_API_KEY",
      "export MESHAGENT_PROJECT_ID",
      "export MESHAGENT_KEY_ID",
      "export MESHAGENT_SECRET",
    ]);
    assert.ok(
      first.banner.includes("  meshagent room messaging listen --room demo --identity alice"),
    );
    assert.ok(first.banner.some((l) => l.includes("`deno task install` adds it")));
    const banner = await (await fetch(first.url)).json();
    assert.equal(banner.name, "meshagent-deno-server");
    const status = await first.stop("SIGTERM");
    assert.equal(status.code, 0, "SIGTERM is a graceful shutdown");

    const second = await startServer(dataDir);
    assert.equal(second.env.MESHAGENT_API_KEY, first.env.MESHAGENT_API_KEY);
    assert.ok(second.banner.some((l) => l.includes("credentials: from")));
    assert.equal((await second.stop("SIGINT")).code, 0);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("meshagent server takes its key from MESHAGENT_API_KEY", async () => {
  const dataDir = await Deno.makeTempDir();
  const key =
    (await meshagent(["token", "--room", "x", "--name", "y", "--data-dir", dataDir])).stderr;
  assert.match(key, /no key to sign with/, "no credentials exist yet");
  const server = await startServer(dataDir);
  const apiKey = server.env.MESHAGENT_API_KEY;
  await server.stop();
  await Deno.remove(dataDir, { recursive: true });
  const other = await Deno.makeTempDir();
  try {
    const again = await startServer(other, { MESHAGENT_API_KEY: apiKey });
    assert.equal(again.env.MESHAGENT_API_KEY, apiKey);
    assert.ok(again.banner.some((l) => l.includes("from MESHAGENT_API_KEY")));
    await again.stop();
  } finally {
    await Deno.remove(other, { recursive: true });
  }
});

Deno.test("meshagent server --sql-timeout stops a runaway statement; the room's SQL works on", async () => {
  const dataDir = await Deno.makeTempDir();
  const server = await startServer(dataDir, {}, ["--sql-timeout", "1"]);
  try {
    const db = (...args: string[]) =>
      meshagent(["room", "db", ...args, "--room", "sql", "--data-dir", dataDir], server.env);
    assert.equal((await db("create", "--database", "main")).code, 0);
    const runaway = await db(
      "query",
      "--database",
      "main",
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c",
    );
    assert.equal(runaway.code, 1);
    assert.match(runaway.stderr, /^error: .*ran longer than the 1 s statement time limit/m);
    const fine = await db("query", "--database", "main", "SELECT 6 * 7 AS answer");
    assert.equal(fine.code, 0, fine.stderr);
    assert.match(fine.stdout, /42/);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("meshagent room messaging, queue and token commands work against a real server", async () => {
  const dataDir = await Deno.makeTempDir();
  const server = await startServer(dataDir);
  const env = { MESHAGENT_API_URL: server.url, MESHAGENT_API_KEY: server.env.MESHAGENT_API_KEY };
  try {
    // A listener that stops after one message.
    const listener = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "room",
        "messaging",
        "listen",
        "--room",
        "demo",
        "--identity",
        "bob",
        "--count",
        "1",
        "--json",
      ],
      cwd: ROOT,
      env: cleanEnv(env),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const errReader = listener.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let err = "";
    while (!err.includes("listening in demo")) {
      const { value, done } = await errReader.read();
      if (done) throw new Error(`listener exited: ${err}`);
      err += value;
    }
    const errDone = (async () => {
      while (!(await errReader.read()).done) { /* drain */ }
    })();
    const sent = await meshagent(
      [
        "room",
        "messaging",
        "broadcast",
        "--room",
        "demo",
        "--identity",
        "alice",
        "--type",
        "chat",
        "--data",
        '{"text":"hi"}',
      ],
      env,
    );
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stderr, /broadcast chat to 1 participant/);
    const out = await new Response(listener.stdout).text();
    assert.equal((await listener.status).code, 0);
    await errDone;
    const events = out.trim().split("\n").map((l) => JSON.parse(l));
    const message = events.find((e) => e.event === "message");
    assert.deepEqual(
      { type: message.type, message: message.message, from_name: message.from_name },
      { type: "chat", message: { text: "hi" }, from_name: "alice" },
    );

    // Sending to someone who is not there is a clear error and exit code 1.
    const missing = await meshagent(
      ["room", "messaging", "send", "--room", "demo", "--to", "nobody", "--type", "x"],
      env,
    );
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^error: nobody by that id or name has messaging enabled in the room\. See who is there: meshagent room messaging list\n {2}\(the participant was not found\)$/m,
    );

    // Queues: send, receive, and an empty --no-wait receive.
    const q = ["--room", "demo", "--queue", "jobs"];
    assert.equal(
      (await meshagent(["room", "queue", "send", ...q, "--json", '{"job":1}'], env)).code,
      0,
    );
    const got = await meshagent(["room", "queue", "receive", ...q], env);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), { job: 1 });
    const empty = await meshagent(["room", "queue", "receive", ...q, "--no-wait"], env);
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, "");
    assert.match(empty.stderr, /queue jobs is empty/);
    const bad = await meshagent(["room", "queue", "send", ...q, "--json", "[1]"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--json must be a JSON object/);

    // A minted token works with the server (the room accepts it) and a wrong key does not.
    const token = await meshagent(["token", "--room", "demo", "--name", "carol"], env);
    assert.equal(token.code, 0, token.stderr);
    const jwt = token.stdout.trim();
    const ok = await meshagent(
      ["room", "queue", "receive", "--room", "demo", "--queue", "none", "--no-wait"],
      { MESHAGENT_API_URL: server.url, MESHAGENT_TOKEN: jwt },
    );
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await meshagent(
      ["room", "queue", "receive", "--room", "other", "--queue", "none", "--no-wait"],
      { MESHAGENT_API_URL: server.url, MESHAGENT_TOKEN: jwt },
    );
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /^error: the token does not grant room other\. Mint one that does \(meshagent token --room other --name NAME\)/m,
    );
    assert.match(wrong.stderr, /status 403: forbidden: the token has no room grant for other\)$/m);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("meshagent reports usage errors without a stack trace", async () => {
  const run = await meshagent(["room", "queue", "send", "--room", "demo"]);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /required option '--queue <name>' not specified/);
  assert.doesNotMatch(run.stderr, /^\s+at /m);
  const help = await meshagent(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /server/);
  assert.match(help.stdout, /token/);
  assert.match(help.stdout, /room/);
});
