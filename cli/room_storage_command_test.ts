// `meshagent room storage ls|cp|rm|mv|stat`, run as the real CLI in a subprocess against a real
// server.
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "@meshagent/server/testing";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(server: TestServer, room: string, ...args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "room",
      "storage",
      ...args,
      "--room",
      room,
      "--api-url",
      server.url,
      "--key",
      server.apiKey,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(30_000), // nothing hangs: a stuck command is killed
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("cli room storage: cp both ways with progress, ls, stat, mv, rm", async () => {
  const server = await startTestServer();
  const dir = await Deno.makeTempDir();
  try {
    const room = "cli-storage";
    const data = crypto.getRandomValues(new Uint8Array(65536));
    const big = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i += data.length) big.set(data, i);
    await Deno.writeFile(`${dir}/big.bin`, big);
    await Deno.writeTextFile(`${dir}/note.txt`, "hello");

    let r = await cli(server, room, "cp", `${dir}/big.bin`, "room://in/big.bin", "--progress");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /room:\/\/in\/big\.bin 100% 3\.0\/3\.0 MiB/);
    assert.match(r.stderr, /copied .*big\.bin → room:\/\/in\/big\.bin \(3145728 bytes\)/);

    r = await cli(server, room, "cp", `${dir}/note.txt`, "room://in/");
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /%/, "no progress without --progress on a pipe");
    r = await cli(server, room, "cp", `${dir}/note.txt`, "room://in/note.txt");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exists; pass --overwrite/);
    r = await cli(server, room, "cp", `${dir}/note.txt`, "room://in/note.txt", "--overwrite");
    assert.equal(r.code, 0, r.stderr);

    r = await cli(server, room, "ls");
    assert.match(r.stdout, /^name {2}size {2}modified\n-+ {2}-+ {2}-+\nin\/ {3}- {5}-\n$/);
    r = await cli(server, room, "ls", "room://in");
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4);
    assert.match(lines[2], /^big\.bin {3}3145728 {2}\d{4}-.*Z$/);
    assert.match(lines[3], /^note\.txt {2}5 {8}\d{4}-.*Z$/);
    r = await cli(server, room, "ls", "in", "--json");
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l).name), [
      "big.bin",
      "note.txt",
    ]);

    r = await cli(server, room, "stat", "room://in/note.txt");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^path: {7}in\/note\.txt\nname: {7}note\.txt\n/);
    r = await cli(server, room, "stat", "in/note.txt", "--json");
    const stat = JSON.parse(r.stdout);
    assert.equal(stat.path, "in/note.txt");
    assert.equal(stat.size, 5);
    assert.equal(stat.is_folder, false);
    r = await cli(server, room, "stat", "in/none.txt");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no such file/);

    // A download does not replace a local file without --overwrite.
    r = await cli(server, room, "cp", "room://in/big.bin", `${dir}/`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /big\.bin exists; pass --overwrite to replace it/);
    r = await cli(server, room, "cp", "room://in/big.bin", `${dir}/`, "--progress", "--overwrite");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /100% 3\.0\/3\.0 MiB/);
    assert.deepEqual(await Deno.readFile(`${dir}/big.bin`), big);
    r = await cli(server, room, "cp", "room://in/note.txt", `${dir}/copy.txt`);
    assert.equal(await Deno.readTextFile(`${dir}/copy.txt`), "hello");
    r = await cli(server, room, "cp", "room://in/missing.txt", `${dir}/missing.txt`);
    assert.equal(r.code, 1);
    await assert.rejects(Deno.stat(`${dir}/missing.txt`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${dir}/missing.txt.part`), Deno.errors.NotFound);
    r = await cli(server, room, "cp", `${dir}/note.txt`, `${dir}/other.txt`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /both paths are local: mark the room side with room:\/\//);

    r = await cli(server, room, "mv", "room://in/note.txt", "room://out/note.txt");
    assert.equal(r.code, 0, r.stderr);
    r = await cli(server, room, "ls", "--json");
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l).name), ["in", "out"]);

    r = await cli(server, room, "rm", "in");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not empty; pass -r/);
    r = await cli(server, room, "rm", "in", "-r");
    assert.equal(r.code, 0, r.stderr);
    r = await cli(server, room, "rm", "room://out/note.txt");
    assert.equal(r.code, 0, r.stderr);
    r = await cli(server, room, "ls");
    assert.equal(r.stdout, "room storage is empty (room://)\n");
    r = await cli(server, room, "ls", "--json");
    assert.equal(r.stdout, "");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
