// The first hour of a new user, stumble by stumble (issue 12): the real CLI in subprocesses
// against a real server, asserting the text a user reads. The whole command tree is checked in
// process for the conventions every command keeps (`--json`, `help <command>`).
import assert from "node:assert/strict";
import { formatApiKey, generateApiKey, ParticipantToken, type RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { FunctionTool, startHostedToolkit, Toolkit } from "@meshagent/tools";
import { buildProgram } from "./_program.ts";
import { runCli } from "./cli.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("MESHAGENT_")) clean[k] = v;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { ...clean, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000), // nothing hangs: a stuck command is killed
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** The room flags for a test server, as a user with the banner's environment would have them. */
function envOf(server: TestServer): Record<string, string> {
  return { MESHAGENT_API_URL: server.url, MESHAGENT_API_KEY: server.apiKey };
}

// deno-lint-ignore no-explicit-any
type AnyCommand = any;

function leaves(command: AnyCommand, path: string[] = []): string[][] {
  const subs = command.commands as AnyCommand[];
  if (subs.length === 0) return [path];
  return subs.flatMap((c) => leaves(c, [...path, c.name()]));
}

function groups(command: AnyCommand, path: string[] = []): string[][] {
  const subs = command.commands as AnyCommand[];
  if (subs.length === 0) return [];
  return [path, ...subs.flatMap((c) => groups(c, [...path, c.name()]))];
}

function find(program: AnyCommand, path: string[]): AnyCommand {
  return path.reduce((c, name) => c.commands.find((s: AnyCommand) => s.name() === name), program);
}

/** Commands whose `--json` is an input flag of the official CLI, or that print nothing of theirs. */
const NO_JSON_OUTPUT: Readonly<Record<string, string>> = {
  "room queue send": "--json is the message (the official CLI's flag); it prints no result",
  "room sync create": "--json is the document (the official CLI's flag); it prints no result",
  "room connect": "the output is the program's own",
};

Deno.test("every command prints --json on request, or says why not", () => {
  const program = buildProgram({ out: () => {}, err: () => {} });
  const missing: string[] = [];
  for (const path of leaves(program)) {
    const name = path.join(" ");
    const json = find(program, path).options.find((o: AnyCommand) => o.long === "--json");
    const isOutput = json && !json.required && !json.optional; // a flag, not `--json <value>`
    if (name in NO_JSON_OUTPUT) assert.ok(!isOutput, `${name} has --json now: drop the exception`);
    else if (!isOutput) missing.push(name);
  }
  assert.deepEqual(missing, [], "these commands need --json (cli/_room_options.ts jsonOption)");
});

/** The first line of a command's help (a command with an alias shows it: `room sqlite|db`). */
function usage(path: readonly string[]): RegExp {
  return new RegExp(`^Usage: meshagent ${path.join(" ")}(\\|\\S+)? `);
}

Deno.test("help <group> <command> shows that command, for every command", async () => {
  const program = buildProgram({ out: () => {}, err: () => {} });
  for (const path of [...groups(program), ...leaves(program)]) {
    if (path.length === 0) continue;
    const lines: string[] = [];
    const code = await runCli(["help", ...path], { out: (l) => lines.push(l), err: () => {} });
    assert.equal(code, 0, path.join(" "));
    assert.match(lines.join("\n"), usage(path), path.join(" "));
    // ... and inside its group: `meshagent room help storage`.
    if (path.length > 1) {
      const inside: string[] = [];
      const args = [...path.slice(0, -1), "help", path.at(-1)!];
      assert.equal(await runCli(args, { out: (l) => inside.push(l), err: () => {} }), 0);
      assert.match(inside.join("\n"), usage(path));
    }
  }
});

Deno.test("first hour: help, validated options and a word on what to run", async () => {
  let r = await cli(["help", "room", "storage"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: meshagent room storage \[options\] \[command\]/);
  assert.match(r.stdout, /^ {2}cp \[options\] <source> <destination>/m);
  r = await cli(["help", "room", "storage", "cp"]);
  assert.match(r.stdout, /^Usage: meshagent room storage cp \[options\] <source> <destination>/);
  // A file named help is still a file.
  r = await cli(["room", "storage", "cp", "help", "--help"]);
  assert.match(r.stdout, /^Usage: meshagent room storage cp/);

  r = await cli(["token", "--room", "demo", "--name", "x", "--role", "bogus", "--key", "ma-x"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^error: option '--role <role>' argument 'bogus' is invalid\. Allowed choices are user, agent, tool\./m,
  );
  r = await cli(["token", "--room", "demo", "--name", "x", "--api", "root"]);
  assert.match(
    r.stderr,
    /argument 'root' is invalid\. Allowed choices are agent, user, full, none\./,
  );
  r = await cli(["token", "--room", "demo", "--name", "x", "--expires", "soon"]);
  assert.match(r.stderr, /--expires must be a non-negative number \(got soon\)/);
  r = await cli(["server", "--port", "eighty"]);
  assert.match(r.stderr, /--port must be a port number from 0 to 65535 \(got eighty\)/);
  r = await cli(["room", "storage", "ls", "--room", "demo", "--api-url", "localhost:8078"]);
  assert.match(r.stderr, /--api-url must start with http:\/\/, https:\/\/, ws:\/\/ or wss:\/\//);
  assert.match(r.stderr, /\(add --help to see the command's options\)/);
  r = await cli(["room", "storage", "ls", "--room", "Not_A_Room", "--key", "ma-x"]);
  assert.match(
    r.stderr,
    /^error: "Not_A_Room" is not a room name: use 1-63 lowercase letters, digits and hyphens/m,
  );
  r = await cli(["room", "storage", "ls", "--room", "demo", "--data-dir", "/nonexistent"]);
  assert.match(
    r.stderr,
    /^error: no credentials: set MESHAGENT_API_KEY \(meshagent server prints it\), pass --key/m,
  );
  r = await cli(["room", "storage", "ls", "--room", "demo", "--key", "ma-bogus"]);
  assert.match(
    r.stderr,
    /^error: --key \/ MESHAGENT_API_KEY is not an API key .*Copy the whole MESHAGENT_API_KEY line meshagent server printed/m,
  );
  assert.doesNotMatch(r.stderr, /api-keys create/);
  r = await cli([
    "room",
    "storage",
    "ls",
    "--room",
    "demo",
    "--api-url",
    "http://127.0.0.1:1",
    "--key",
    "ma-x",
  ]);
  assert.equal(r.code, 1);
});

Deno.test("first hour: connecting with a bad token says why and what to run", async () => {
  const server = await startTestServer();
  try {
    const base = ["room", "queue", "list", "--room", "demo", "--api-url", server.url];
    const [keyId, projectId] = [
      ParticipantToken.decodeUnverified(await server.token("demo", "x")).apiKeyId!,
      ParticipantToken.decodeUnverified(await server.token("demo", "x")).projectId!,
    ];
    const forged = await new ParticipantToken({ name: "x", apiKeyId: keyId, projectId })
      .addRoomGrant("demo").toJwt({ secret: "not-the-secret" });
    let r = await cli([...base, "--token", forged]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: the server refused the token: its signature does not match the key the server trusts\. Sign with the MESHAGENT_API_KEY that meshagent server printed/m,
    );
    r = await cli([
      ...base,
      "--token",
      await server.token("demo", "x", { expiresInSeconds: -600 }),
    ]);
    assert.match(
      r.stderr,
      /^error: the token has expired\. Mint a new one \(meshagent token --room ROOM --name NAME/m,
    );
    r = await cli([...base, "--token", await server.token("other", "x")]);
    assert.match(
      r.stderr,
      /^error: the token does not grant room demo\. Mint one that does \(meshagent token --room demo --name NAME\)/m,
    );
    const stranger = await new ParticipantToken({ name: "x", apiKeyId: crypto.randomUUID() })
      .addRoomGrant("demo").toJwt({ secret: "s" });
    r = await cli([...base, "--token", stranger]);
    assert.match(
      r.stderr,
      /^error: the server does not trust the key that signed the token \(API key \S+ is not trusted here\)/m,
    );
    r = await cli([...base, "--token", "abc.def.ghi"]);
    assert.match(
      r.stderr,
      /^error: --token \/ MESHAGENT_TOKEN is not a participant token the server can read/m,
    );
    // Every one keeps what the server said.
    assert.match(
      r.stderr,
      /^ {2}\(websocket connect failed with status 403: forbidden: malformed/m,
    );
    r = await cli(["room", "queue", "list", "--room", "demo", "--api-url", "http://127.0.0.1:1"], {
      MESHAGENT_API_KEY: server.apiKey,
    });
    assert.match(
      r.stderr,
      /^error: no room server answers at ws:\/\/127\.0\.0\.1:1\/rooms\/demo\. Start one \(meshagent server, or deno task start in the repository\)/m,
    );
  } finally {
    await server.close();
  }
});

Deno.test("first hour: documents from built-in schemas; update, inspect, grep", async () => {
  const server = await startTestServer();
  const env = envOf(server);
  const sync = (...args: string[]) => cli(["room", "sync", ...args, "--room", "docs"], env);
  try {
    let r = await sync("create", "notes.doc");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: no schema for notes\.doc\. Pass --schema: a built-in one \(document, thread, thread-list; see meshagent room sync create --help\)/m,
    );
    r = await cli(["room", "sync", "create", "--help"]);
    assert.match(
      r.stdout,
      /^Built-in schemas:\n {2}document {5}a document of headings, body text and files \(\*\.document\)\n {2}thread/m,
    );
    assert.match(r.stdout, /meshagent room sync create notes\.document --schema document/);

    const doc = '{"document":{"title":"Notes","content":[{"body":{"text":"hello"}}]}}';
    r = await sync("create", "notes.document", "--schema", "document", "--json", doc);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^created notes\.document \(schema document\); see it with meshagent room sync show notes\.document$/m,
    );
    for (const [name, path] of [["thread", "a.thread"], ["thread_list", "index.threadl"]]) {
      r = await sync("create", path, "--schema", name);
      assert.equal(r.code, 0, r.stderr);
    }
    r = await sync(
      "update",
      "notes.document",
      "--patch",
      '{"title":"Plans"}',
      "--append",
      '{"body":{"text":"buy milk"}}',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^updated notes\.document \(1 attribute, 1 element appended\)$/m);
    r = await sync("get", "notes.document", "--json");
    assert.deepEqual(JSON.parse(r.stdout), {
      document: {
        title: "Plans",
        content: [{ body: { text: "hello" } }, { body: { text: "buy milk" } }],
      },
    });
    r = await sync("inspect", "notes.document");
    assert.match(
      r.stdout,
      /^notes\.document: a document of schema root "document"\nelement +count +attributes +children\n/,
    );
    assert.match(r.stdout, /^body +2 +text +-$/m);
    r = await sync("grep", "MILK", "notes.document", "-i");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^notes\.document: body#\S+ text: buy milk$/m);
    r = await sync("grep", "nothing-like-this", "notes.document");
    assert.equal(r.code, 1, "no match exits 1, as grep");
    assert.equal(r.stdout, "no match for nothing-like-this in notes.document\n");
  } finally {
    await server.close();
  }
});

Deno.test("first hour: files without room://, downloads that do not overwrite, exists, get", async () => {
  const server = await startTestServer();
  const env = envOf(server);
  const dir = await Deno.makeTempDir();
  const storage = (...args: string[]) => cli(["room", "storage", ...args, "--room", "files"], env);
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "alpha");
    // Bare paths: the source exists on disk, so this uploads…
    let r = await cli([
      "room",
      "storage",
      "cp",
      "a.txt",
      "docs/a.txt",
      "--room",
      "files",
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
    ]);
    assert.equal(r.code, 1, "run from elsewhere: a.txt is no local file, so it is a download");
    assert.match(
      r.stderr,
      /^error: room:\/\/a\.txt: no such file in the room \(see what is there: meshagent room storage ls\)/m,
    );
    r = await storage("cp", `${dir}/a.txt`, "docs/");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^copied .*\/a\.txt → room:\/\/docs\/a\.txt \(5 bytes\)$/m);
    // …and a bare room path to a local folder downloads.
    r = await storage("cp", "docs/a.txt", dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a\.txt exists; pass --overwrite to replace it/);
    assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "alpha", "the local file is untouched");
    r = await storage("cp", "docs/a.txt", `${dir}/b.txt`, "--json");
    assert.deepEqual(JSON.parse(r.stdout), {
      source: "room://docs/a.txt",
      destination: `${dir}/b.txt`,
      bytes: 5,
    });

    r = await storage("exists", "docs/a.txt");
    assert.deepEqual([r.code, r.stdout], [0, "room://docs/a.txt exists\n"]);
    r = await storage("exists", "docs/none.txt", "--json");
    assert.deepEqual([r.code, JSON.parse(r.stdout)], [1, { path: "docs/none.txt", exists: false }]);
    r = await storage("get", "docs/a.txt");
    assert.deepEqual([r.code, r.stdout], [0, "alpha"]);
    r = await storage("get", "docs/a.txt", "--output", `${dir}/b.txt`);
    assert.match(r.stderr, /b\.txt exists; pass --overwrite to replace it/);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("first hour: queues, participants, rooms, databases and the developer log", async () => {
  const server = await startTestServer();
  const env = envOf(server);
  const room = (...args: string[]) => cli(["room", ...args, "--room", "misc"], env);
  let app: RoomClient | undefined;
  try {
    let r = await room("queue", "list");
    assert.equal(
      r.stdout,
      "no queues in room misc (meshagent room queue send --queue NAME --json '{...}' makes one)\n",
    );
    r = await room("messaging", "list");
    assert.equal(r.stdout, "nobody else has messaging enabled in room misc\n");
    assert.equal((await room("queue", "send", "--queue", "jobs", "--json", '{"n":1}')).code, 0);
    r = await room("queue", "list");
    assert.deepEqual(r.stdout.trimEnd().split("\n"), ["queue  size", "-----  ----", "jobs   1"]);
    r = await room("queue", "size", "--queue", "jobs");
    assert.equal(r.stdout, "1\n");
    r = await room("queue", "size", "--queue", "jobs", "--json");
    assert.deepEqual(JSON.parse(r.stdout), { queue: "jobs", size: 1 });

    app = await server.connect("misc", "app");
    await app.messaging.enable();
    r = await room("messaging", "list", "--json");
    assert.deepEqual(JSON.parse(r.stdout), {
      id: app.localParticipant!.id,
      name: "app",
      role: "user",
    });

    // The developer log: one event another participant logs.
    const following = cli(["room", "developer", "--room", "misc", "--count", "1"], env);
    const deadline = Date.now() + 30_000;
    let result: Run | undefined;
    following.then((done) => result = done);
    while (result === undefined && Date.now() < deadline) {
      await app.developer.info("deployed", { version: 2 });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const followed = await following;
    assert.equal(followed.code, 0, followed.stderr);
    assert.equal(followed.stdout, 'info  deployed  {"version":2}\n');

    r = await cli(["rooms", "list"], env);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), ["room  active", "----  ------", "misc  yes"]);
    r = await cli(["rooms", "list", "--json"], env);
    const listed = JSON.parse(r.stdout);
    assert.deepEqual([listed.name, listed.active, typeof listed.id], ["misc", true, "string"]);
    const stranger = formatApiKey(generateApiKey());
    r = await cli(["rooms", "list", "--key", stranger], { MESHAGENT_API_URL: server.url });
    assert.match(
      r.stderr,
      /^error: the server did not accept the API key \(.*\)\. Use the MESHAGENT_API_KEY that meshagent server printed/m,
    );

    // room sqlite (the official name; room db is the alias): database create, list, drop.
    r = await room("sqlite", "database", "create", "--database", "main");
    assert.match(r.stderr, /^created database main$/m);
    r = await room("sqlite", "sql", "--database", "main", "SELECT 6 * 7 AS answer");
    assert.deepEqual(r.stdout.trimEnd().split("\n"), ["answer", "------", "42"]);
    r = await room("sqlite", "database", "list", "--json");
    assert.equal(r.stdout, '{"name":"main"}\n');
    r = await room("sqlite", "database", "drop", "--database", "main");
    assert.equal(r.code, 0, r.stderr);
    r = await room("db", "databases");
    assert.match(r.stdout, /^no databases yet/);
  } finally {
    await app?.dispose();
    await server.close();
  }
});

Deno.test("first hour: tool calls — a table of toolkits, --stream and --timeout in the errors", async () => {
  const server = await startTestServer();
  const env = envOf(server);
  const host = await server.connect("tools", "slow-host");
  const hosted = await startHostedToolkit(
    host,
    new Toolkit({
      name: "slow",
      tools: [
        new FunctionTool({
          name: "nap",
          inputSchema: { type: "object", properties: {} },
          run: async (ctx) => {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 5_000);
              ctx.signal.addEventListener("abort", () => {
                clearTimeout(timer);
                resolve();
              });
            });
            return "rested";
          },
        }),
      ],
    }),
    { public: true },
  );
  try {
    const invoke = (...args: string[]) =>
      cli(["room", "agents", "invoke-tool", "--room", "tools", ...args], env);
    let r = await invoke("--toolkit", "slow", "--tool", "nap", "--timeout", "0.3");
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: the tool did not answer within the time limit \(300 ms\)\. Pass a longer --timeout SECONDS, or check that its toolkit is still hosted: meshagent room agents list-toolkits$/m,
    );
    r = await invoke("--toolkit", "developer", "--tool", "logs");
    assert.match(r.stderr, /^error: the tool streams its output: call it again with --stream$/m);
    r = await invoke("--toolkit", "slow", "--tool", "snore");
    assert.match(
      r.stderr,
      /^error: toolkit slow has no tool snore\. See its tools: meshagent room agents list-toolkits --json$/m,
    );
    r = await invoke("--toolkit", "queues", "--tool", "list", "--json");
    assert.deepEqual(JSON.parse(r.stdout), { type: "json", json: { queues: [] } });
  } finally {
    await hosted.stop();
    await host.dispose();
    await server.close();
  }
});
