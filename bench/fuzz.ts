// The long fuzz run (the CI run is server/_fuzz_targets_test.ts): the frame decoder, packing, the
// room toolkits' argument parsing through a real connection, and the sqlite request validation,
// each seeded with its corpus in server/testdata/fuzz/. See bench/README.md for the last result.
//
//   deno run -A --v8-flags=--expose-gc bench/fuzz.ts --inputs 1000000   # 1M over all targets
//   deno run -A bench/fuzz.ts --target sqlite --seconds 60 --seed 7
//   deno run -A bench/fuzz.ts --target connection --replay <base64 of a finding's input>
//
// --inputs N is the total over the chosen targets, shared by INPUT_SHARE (the cheap byte-level
// targets get more inputs than the ones that open a room or a database per input); --seconds N
// bounds each target's time instead. Exits 1 when anything was found.
import { parseArgs } from "node:util";
import process from "node:process";
import { FUZZ_TARGETS } from "../server/_fuzz_targets.ts";
import {
  formatFindings,
  type FuzzReport,
  inputFromText,
  inputToText,
  loadCorpus,
  runFuzz,
} from "../server/_fuzz_runner.ts";

/** Each target's share of `--inputs`. */
const INPUT_SHARE: Record<string, number> = {
  frames: 0.35,
  packing: 0.35,
  connection: 0.1,
  sqlite: 0.2,
};

const { values } = parseArgs({
  options: {
    target: { type: "string", multiple: true },
    inputs: { type: "string" },
    seconds: { type: "string" },
    seed: { type: "string", default: "1" },
    replay: { type: "string" },
    "max-findings": { type: "string", default: "20" },
    trace: { type: "string" },
  },
});

const targets = values.target?.length
  ? FUZZ_TARGETS.filter((t) => values.target!.includes(t.name))
  : FUZZ_TARGETS;
if (targets.length === 0) {
  console.error(`unknown target; choose from ${FUZZ_TARGETS.map((t) => t.name).join(", ")}`);
  Deno.exit(2);
}

if (values.replay !== undefined) {
  const input = inputFromText(values.replay);
  const target = targets[0];
  const report = await runFuzz(target, [{ name: "replay", source: "found", input }], {
    seed: 0,
    inputs: 0,
  });
  console.log(report.findings.length === 0 ? "nothing found" : formatFindings(report));
  Deno.exit(report.findings.length === 0 ? 0 : 1);
}

const total = values.inputs === undefined ? undefined : Number(values.inputs);
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
if (total === undefined && seconds === undefined) {
  console.error("give --inputs N and/or --seconds N");
  Deno.exit(2);
}
const shares = targets.reduce((n, t) => n + (INPUT_SHARE[t.name] ?? 0.1), 0);
const seed = Number(values.seed);
const reports: FuzzReport[] = [];
// With --v8-flags=--expose-gc the heap figures are after a full collection (what is really kept).
const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = () => {
  gc?.();
  return (Deno.memoryUsage().heapUsed / 1e6).toFixed(0);
};
const startRss = process.memoryUsage().rss;
const startHeap = heapMb();

for (const target of targets) {
  const corpus = await loadCorpus(target.name);
  const inputs = total === undefined
    ? undefined
    : Math.round(total * (INPUT_SHARE[target.name] ?? 0.1) / shares);
  const report = await runFuzz(target, corpus, {
    seed,
    inputs,
    seconds,
    maxFindings: Number(values["max-findings"]),
    // --trace FILE: each input is written there before it runs (what crashed a run?).
    beforeInput: values.trace === undefined
      ? undefined
      : (input, where) =>
        Deno.writeTextFileSync(values.trace!, `${where}\n${inputToText(input)}\n`),
    onProgress: (n, ms) => {
      if (Math.floor(ms / 1000) % 30 === 0) {
        const rss = (process.memoryUsage().rss / 1e6).toFixed(0);
        console.log(
          `  ${target.name}: ${n} inputs in ${(ms / 1000).toFixed(0)} s, rss ${rss} MB, ` +
            `heap ${heapMb()} MB`,
        );
      }
    },
  });
  reports.push(report);
  const rate = report.inputs / (report.elapsedMs / 1000);
  console.log(
    `${target.name}: ${report.corpus} corpus + ${report.inputs} inputs in ` +
      `${(report.elapsedMs / 1000).toFixed(1)} s (${rate.toFixed(0)}/s, slowest ` +
      `${report.slowestMs.toFixed(0)} ms), ${report.findings.length} found`,
  );
  for (const [note, n] of Object.entries(report.known)) {
    console.log(`  known issue (not counted): ${note}: ${n} inputs`);
  }
  if (report.findings.length > 0) console.log(formatFindings(report));
}

const found = reports.reduce((n, r) => n + r.findings.length, 0);
const inputs = reports.reduce((n, r) => n + r.inputs, 0);
const rss = process.memoryUsage().rss;
console.log(
  `total: ${inputs} inputs, seed ${seed}, ${found} found; rss ${(startRss / 1e6).toFixed(0)} → ` +
    `${(rss / 1e6).toFixed(0)} MB, heap ${startHeap} → ${heapMb()} MB`,
);
Deno.exit(found === 0 ? 0 : 1);
