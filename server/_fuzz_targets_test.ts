// The CI fuzz run (issue 9 item 6): each target replays its seed corpus (server/testdata/fuzz/)
// and then runs a fixed number of mutated inputs from a fixed seed, within a time cap, and must
// find nothing: about 35 s in all on an idle 2-core machine, at most ~45 s on a loaded one. MESHAGENT_FUZZ_SECONDS=N runs each target
// for N seconds instead (no input limit), MESHAGENT_FUZZ_SEED=N picks another seed. The long run
// is bench/fuzz.ts (bench/README.md). A finding prints the input and how to replay it.
import assert from "node:assert/strict";
import { JsonContent, RoomError } from "@meshagent/api";
import { connectionTarget, FUZZ_TARGETS } from "./_fuzz_targets.ts";
import { type CorpusEntry, formatFindings, loadCorpus, runFuzz } from "./_fuzz_runner.ts";
import type { RoomToolkit } from "./room_toolkit.ts";

/** Mutated inputs per target, and the most seconds each may take. */
const BUDGET: Record<string, { inputs: number; seconds: number }> = {
  frames: { inputs: 15_000, seconds: 6 },
  packing: { inputs: 10_000, seconds: 6 },
  connection: { inputs: 1_000, seconds: 20 },
  sqlite: { inputs: 2_500, seconds: 12 },
};

const envSeconds = Number(Deno.env.get("MESHAGENT_FUZZ_SECONDS") ?? "");
const seed = Number(Deno.env.get("MESHAGENT_FUZZ_SEED") ?? "") || 1;

for (const target of FUZZ_TARGETS) {
  const budget = BUDGET[target.name];
  const inputs = envSeconds > 0 ? undefined : budget.inputs;
  const seconds = envSeconds > 0 ? envSeconds : budget.seconds;
  Deno.test(`fuzz ${target.name}: the corpus and ${inputs ?? "timed"} mutated inputs find nothing`, async () => {
    const corpus = await loadCorpus(target.name);
    assert(corpus.length >= 4, `the ${target.name} corpus is missing`);
    const report = await runFuzz(target, corpus, { seed, inputs, seconds });
    assert.equal(report.findings.length, 0, `\n${formatFindings(report)}`);
    assert(report.inputs > 0);
  });
}

Deno.test("fuzz corpus: it holds captures of both encoders and hand-made nasty inputs", async () => {
  for (const target of FUZZ_TARGETS) {
    const sources = new Set((await loadCorpus(target.name)).map((e) => e.source));
    assert(sources.has("ours") && sources.has("nasty"), `${target.name}: ${[...sources]}`);
    if (target.name !== "sqlite") assert(sources.has("official"), target.name); // npm has no sqlite
  }
});

// The connection target's own checks, on planted bugs (a fuzzer that cannot fail is no test).

const planted: RoomToolkit = {
  name: "planted",
  surface: "developer",
  tools: {
    // Parses client text without a guard: a SyntaxError reaches the client as "internal error".
    parse(ctx) {
      const json = (ctx.input as JsonContent).json as { text: string };
      return new JsonContent(JSON.parse(json.text));
    },
    // A stream that ignores its caller leaving: it never ends.
    forever() {
      return (async function* () {
        yield new JsonContent({ started: true });
        await new Promise(() => {});
      })();
    },
    typed() {
      throw new RoomError("a typed refusal is fine", 1002);
    },
  },
};

const plantedEntry = (tool: string, json: unknown): CorpusEntry => ({
  name: tool,
  source: "nasty",
  input: {
    steps: [{
      type: "room.invoke_tool",
      header: { toolkit: "planted", tool, arguments: { type: "json", json } },
    }],
  } as never,
});

Deno.test("fuzz connection: a planted parse bug is found by mutation", async () => {
  const target = connectionTarget({ extraToolkits: [() => planted] });
  const report = await runFuzz(target, [plantedEntry("parse", { text: '{"a":[1,2]}' })], {
    seed: 2,
    inputs: 300,
  });
  const messages = report.findings.map((f) => f.message).join("\n");
  assert.match(messages, /planted\.parse threw a non-RoomError: SyntaxError/);
});

Deno.test("fuzz connection: a stream that outlives its caller and typed errors", async () => {
  const target = connectionTarget({ extraToolkits: [() => planted], leaveTimeoutMs: 300 });
  const report = await runFuzz(
    target,
    [plantedEntry("forever", {}), plantedEntry("typed", {})],
    { seed: 1, inputs: 0 },
  );
  assert.equal(report.findings.length, 1, formatFindings(report));
  assert.equal(report.findings[0].where, "corpus forever");
  assert.match(report.findings[0].message, /still running 300 ms after the callers left/);
});
