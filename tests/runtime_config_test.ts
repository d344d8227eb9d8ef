// deno.runtime.json, the config `deno task start` and the installed `meshagent` command run with:
// the workspace's import map without the test-only packages, and a lock of exactly what the rest
// needs, locked as deno.lock locks it. Deno installs every package of a lock on a first run, so a
// test-only package in this lock would be downloaded by every first server start.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Packages only tests (and benchmarks) use, with where. Nothing the server or CLI runs needs them. */
const TEST_ONLY: Readonly<Record<string, string>> = {
  "@meshagent/meshagent": "the official client, for the interop tests",
  "@modelcontextprotocol/server-everything": "the MCP test server (adapters/mcp, cli mcp tests)",
  "@hocuspocus/server": "bench/sync_load.ts",
  "@hocuspocus/provider": "bench/sync_load.ts",
  "smtp-server": "the SMTP sink of the mail channel tests (agents/testdata)",
  "@types/smtp-server": "the SMTP sink's types",
  preact: "bundled into console/web/console.js by `deno task console-bundle`, not run by Deno",
  htm: "bundled into console/web/console.js by `deno task console-bundle`, not run by Deno",
};

interface Lock {
  specifiers: Record<string, string>;
  npm: Record<string, { integrity: string; dependencies?: string[] }>;
  workspace?: { dependencies?: string[] };
}

async function json<T>(file: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}${file}`)) as T;
}

/** The npm package name of a lock key (`@scope/name@1.2.3_peer@4` → `@scope/name`). */
function packageOf(key: string): string {
  return key.slice(0, key.indexOf("@", 1));
}

Deno.test("deno.runtime.json is deno.json without the test-only packages", async () => {
  const root = await json<{ workspace: string[]; imports: Record<string, string> }>("deno.json");
  const runtime = await json<{
    workspace: string[];
    imports: Record<string, string>;
    lock: { path: string; frozen: boolean };
    nodeModulesDir: string;
  }>("deno.runtime.json");
  assert.deepEqual(runtime.workspace, root.workspace, "the same workspace members");
  const expected = Object.fromEntries(
    Object.entries(root.imports).filter(([name]) => !(name.replace(/\/$/, "") in TEST_ONLY)),
  );
  assert.deepEqual(
    runtime.imports,
    expected,
    "deno.runtime.json's imports must be deno.json's without the test-only ones: copy a new " +
      "runtime dependency there (or add a test-only one to TEST_ONLY in " +
      "tests/runtime_config_test.ts), then run `deno task runtime-lock`",
  );
  assert.deepEqual(runtime.lock, { path: "./deno.runtime.lock", frozen: true });
  // [impl] Packages in the global cache, not in node_modules: the runtime run never touches the
  // node_modules folder the tests' config installs.
  assert.equal(runtime.nodeModulesDir, "none");
});

/**
 * The lock keys a set of specifiers needs in a lock: each one's package and, transitively, its
 * dependencies and optional dependencies (what Deno keeps in a lock and installs).
 */
function closure(lock: Lock, specifiers: Readonly<Record<string, string>>): Set<string> {
  const keys = Object.keys(lock.npm);
  const resolve = (dep: string): string => {
    if (dep in lock.npm) return dep;
    const byName = keys.filter((k) => packageOf(k) === dep);
    if (byName.length === 1) return byName[0];
    const withPeers = keys.filter((k) => k.startsWith(`${dep}_`));
    if (withPeers.length === 1) return withPeers[0];
    throw new Error(`cannot resolve ${dep} in the lock`);
  };
  const seen = new Set<string>();
  const todo = Object.entries(specifiers).map(([spec, version]) =>
    `${packageOf(spec.slice("npm:".length))}@${version}`
  );
  while (todo.length > 0) {
    const key = todo.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    const entry = lock.npm[key] as Lock["npm"][string] & { optionalDependencies?: string[] };
    assert.ok(entry, `${key} is not in the lock`);
    for (const dep of [...entry.dependencies ?? [], ...entry.optionalDependencies ?? []]) {
      todo.push(resolve(dep));
    }
  }
  return seen;
}

Deno.test("deno.runtime.lock is deno.lock cut to what the runtime imports need", async () => {
  const root = await json<Lock>("deno.lock");
  const runtime = await json<Lock>("deno.runtime.lock");
  const hint = "run `deno task runtime-lock` to rebuild deno.runtime.lock from deno.lock";
  for (const [specifier, version] of Object.entries(runtime.specifiers)) {
    assert.equal(version, root.specifiers[specifier], `${specifier}: ${hint}`);
  }
  for (const [key, entry] of Object.entries(runtime.npm)) {
    assert.ok(!(packageOf(key) in TEST_ONLY), `${key} is test-only: ${hint}`);
    // The same version and integrity (a dependency may be written `name` here where deno.lock,
    // which holds more versions, writes `name@version`).
    assert.equal(
      entry.integrity,
      root.npm[key]?.integrity,
      `${key} is not as in deno.lock: ${hint}`,
    );
  }
  // Exactly the packages the runtime's specifiers need, as deno.lock resolves them: nothing of
  // the test-only packages' trees unless the runtime needs it too.
  assert.deepEqual(
    [...closure(root, runtime.specifiers)].sort(),
    Object.keys(runtime.npm).sort(),
    hint,
  );
});

Deno.test("deno task start and deno task install run with deno.runtime.json, quietly", async () => {
  const root = await json<{ tasks: Record<string, string> }>("deno.json");
  assert.match(
    root.tasks.start,
    /^deno run -A --quiet --config deno\.runtime\.json cli\/main\.ts server$/,
  );
  assert.match(root.tasks.install, /--config deno\.runtime\.json cli\/_install\.ts$/);
});
