// The committed console.js is what `deno task console-bundle` makes from the sources now: a test
// that fails when someone changes the console (or the api client it bundles) and forgets to
// rebuild it.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

Deno.test("console/web/console.js is up to date with its sources (deno task console-bundle)", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks as Record<
    string,
    string
  >;
  const task = tasks["console-bundle"];
  assert.ok(task, "deno.json has the console-bundle task");
  const dir = await Deno.makeTempDir({ prefix: "console-bundle-" });
  try {
    const out = `${dir}/console.js`;
    // The task's own command line, writing to a temporary file instead.
    const args = task.replace(/^deno\s+/, "").split(/\s+/);
    const at = args.indexOf("-o");
    assert.ok(at > 0, "the task names its output with -o");
    args[at + 1] = out;
    const run = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(run.success, new TextDecoder().decode(run.stderr));
    const fresh = await Deno.readFile(out);
    const committed = await Deno.readFile(`${ROOT}console/web/console.js`);
    assert.ok(
      fresh.length === committed.length && fresh.every((b, i) => b === committed[i]),
      "console/web/console.js is stale: run `deno task console-bundle` and commit it (the bundle " +
        "holds the parts of @meshagent/api and @meshagent/agents the console uses, so a change " +
        "there can need it too)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
