// The CI fuzz run (issue 9 item 6): each target replays its seed corpus (server/testdata/fuzz/)
// and then runs a fixed number of mutated inputs from a fixed seed, within a time cap, and must
// find nothing: about 30 s in all on an idle 2-core machine, at most ~45 s on a loaded one.
// MESHAGENT_FUZZ_SECONDS=N runs each target for N seconds instead (no input limit),
// MESHAGENT_FUZZ_SEED=N picks another seed. The long run is bench/fuzz.ts (bench/README.md). A
// finding prints the input and how to replay it.
import assert from "node:assert/strict";
import { FUZZ_TARGETS } from "./_fuzz_targets.ts";
import { formatFindings, loadCorpus, runFuzz } from "./_fuzz_runner.ts";

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
