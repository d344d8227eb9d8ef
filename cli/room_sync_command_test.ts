import assert from "node:assert/strict";
import { startTestServer } from "@meshagent/server/testing";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("MESHAGENT_")) env[k] = v;
  }
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env,
    signal: AbortSignal.timeout(60_000),
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

const SCHEMA = {
  $root_tag_ref: "#/$defs/note",
  $defs: {
    note: {
      type: "object",
      properties: {
        note: {
          type: "object",
          properties: {
            title: { type: ["string", "null"] },
            items: { type: "array", items: { anyOf: [{ $ref: "#/$defs/item" }] } },
          },
        },
      },
    },
    item: { type: "object", properties: { item: { type: "object", properties: {} } } },
  },
};

Deno.test("cli: room sync create, show and export through the real command", async () => {
  const server = await startTestServer();
  const dir = await Deno.makeTempDir();
  try {
    const flags = ["--room", "clisync", "--api-url", server.url, "--key", server.apiKey];
    const schemaFile = `${dir}/note.json`;
    const jsonFile = `${dir}/doc.json`;
    await Deno.writeTextFile(schemaFile, JSON.stringify(SCHEMA));
    await Deno.writeTextFile(
      jsonFile,
      JSON.stringify({ note: { title: "cli", items: [{ item: {} }] } }),
    );
    const created = await cli([
      "room",
      "sync",
      "create",
      "n/a.note",
      "--schema",
      schemaFile,
      "--json",
      jsonFile,
      ...flags,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const shown = await cli(["room", "sync", "show", "n/a.note", ...flags]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(JSON.parse(shown.stdout), { note: { title: "cli", items: [{ item: {} }] } });
    const exported = `${dir}/out.json`;
    const exp = await cli(["room", "sync", "export", "n/a.note", "--output", exported, ...flags]);
    assert.equal(exp.code, 0, exp.stderr);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(exported)), JSON.parse(shown.stdout));
    // Errors are clear and exit non-zero: a missing document, an existing one.
    const missing = await cli(["room", "sync", "show", "n/none.note", ...flags]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no document at n\/none\.note/);
    const again = await cli([
      "room",
      "sync",
      "create",
      "n/a.note",
      "--schema",
      schemaFile,
      ...flags,
    ]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists already/);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
