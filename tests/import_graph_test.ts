// No file imports a file that imports it back, and no package's imports — its tests' included —
// lead back to it (DESIGN.md: api ← tools ← agents ← adapters; server uses api; cli uses all).
import assert from "node:assert/strict";
import {
  describeLoop,
  findLoops,
  findPackageLoops,
  type ImportGraph,
  packageOf,
  readImportGraph,
  sourceFiles,
} from "./_import_graph.ts";

function graph(edges: Record<string, string[]>): ImportGraph {
  return new Map(Object.entries(edges).map(([file, deps]) => [file, new Set(deps)]));
}

Deno.test("the workspace has no import loop between files", async () => {
  const loops = findLoops(await readImportGraph(await sourceFiles()));
  assert.deepEqual(
    loops.map(describeLoop),
    [],
    `files that import each other:\n${loops.map(describeLoop).join("\n")}`,
  );
});

Deno.test("the workspace has no import loop between packages, tests included", async () => {
  const loops = findPackageLoops(await readImportGraph(await sourceFiles()));
  assert.deepEqual(
    loops.map(describeLoop),
    [],
    `packages that import each other:\n${loops.map(describeLoop).join("\n")}`,
  );
});

Deno.test("the graph holds type imports, JSON imports and imports by package name", async () => {
  const files = await sourceFiles();
  assert.ok(files.includes("api/mod.ts") && files.includes("tests/import_graph_test.ts"));
  assert.ok(!files.some((file) => file.startsWith("node_modules/") || file.startsWith(".")));
  const read = await readImportGraph([
    "api/mod.ts",
    "api/room_client.ts",
    "api/mesh_schema_test.ts",
    "tools/mod.ts",
  ]);
  // `import type { Content }`: a type-only import is still an import.
  assert.ok(read.get("api/room_client.ts")?.has("api/content.ts"));
  assert.ok(read.get("api/mesh_schema_test.ts")?.has("api/testdata/page_schema.json"));
  // `@meshagent/api` resolves to the member's entry point.
  assert.ok(
    [...read.keys()].some((file) => file.startsWith("tools/") && read.get(file)?.has("api/mod.ts")),
  );
});

Deno.test("findLoops names each tangle once, by a shortest circle from its smallest file", () => {
  const loops = findLoops(graph({
    "a.ts": ["b.ts"],
    "b.ts": ["c.ts", "d.ts"],
    "c.ts": ["a.ts"],
    "d.ts": ["b.ts"],
    "e.ts": ["e.ts"],
    "f.ts": ["a.ts"],
  }));
  assert.deepEqual(loops, [
    { nodes: ["a.ts", "b.ts", "c.ts"], tangle: ["a.ts", "b.ts", "c.ts", "d.ts"] },
    { nodes: ["e.ts"], tangle: ["e.ts"] },
  ]);
  assert.equal(
    describeLoop(loops[0]),
    "a.ts → b.ts → c.ts → a.ts\n    tangled with: d.ts",
  );
  assert.deepEqual(findLoops(graph({ "a.ts": ["b.ts"], "b.ts": [] })), []);
});

Deno.test("a test that imports a package depending on its own is a package loop", () => {
  const loops = findPackageLoops(graph({
    "api/client.ts": [],
    "api/client_test.ts": ["api/client.ts", "server/testing.ts"],
    "server/testing.ts": ["server/room.ts"],
    "server/room.ts": ["api/mod.ts"],
    "api/mod.ts": ["api/client.ts"],
    "cli/main.ts": ["api/mod.ts", "server/room.ts"],
  }));
  assert.deepEqual(loops, [{
    nodes: ["api", "server"],
    tangle: ["api", "server"],
    because: [
      "api/client_test.ts imports server/testing.ts",
      "server/room.ts imports api/mod.ts",
    ],
  }]);
  assert.equal(packageOf("api/testdata/x.ts"), "api");
  assert.equal(packageOf("main.ts"), ".");
});

Deno.test("a JSDoc example's relative import counts as an import of its file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/p`);
    await Deno.writeTextFile(`${dir}/deno.json`, "{}");
    await Deno.writeTextFile(`${dir}/p/a.ts`, 'import { b } from "./b.ts";\nexport const a = b;\n');
    await Deno.writeTextFile(
      `${dir}/p/b.ts`,
      '/**\n * @example\n * ```ts\n * import { a } from "./a.ts";\n * ```\n */\nexport const b = 1;\n',
    );
    const read = await readImportGraph(["p/a.ts", "p/b.ts"], `${dir}/`);
    assert.ok(read.get("p/b.ts")?.has("p/a.ts"));
    assert.deepEqual(findLoops(read).map((loop) => loop.nodes), [["p/a.ts", "p/b.ts"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
