// The fuzz runner reports what it must: unexpected errors, hangs, unhandled rejections and
// console errors, each with an input that replays it; and it keeps to its input budget.
import assert from "node:assert/strict";
import type { FuzzValue } from "./_fuzz_mutator.ts";
import {
  type CorpusEntry,
  FuzzFinding,
  type FuzzSession,
  type FuzzTarget,
  inputFromText,
  runFuzz,
} from "./_fuzz_runner.ts";

function target(
  run: (input: FuzzValue) => void | Promise<void>,
  extra: Partial<FuzzTarget> = {},
): FuzzTarget {
  return {
    name: "test",
    description: "a planted bug",
    timeoutMs: 200,
    open: (): Promise<FuzzSession> => Promise.resolve({ run, close: () => Promise.resolve() }),
    ...extra,
  };
}

/** The run of the hang test (sessions are opened again after a hang). */
function hangingRun(input: FuzzValue): Promise<void> {
  const { n, s } = (input ?? {}) as { n?: unknown; s?: unknown };
  if (n === 1 && s === "abc") return new Promise<void>((resolve) => setTimeout(resolve, 400));
  if (typeof s !== "string") {
    Promise.reject(new RangeError("nobody awaits this"));
    console.error("something broke");
  }
  return new Promise<void>((resolve) => setTimeout(resolve, 1));
}

const corpus: CorpusEntry[] = [{ name: "seed", source: "nasty", input: { n: 1, s: "abc" } }];

Deno.test("fuzz runner: an unexpected error is found by mutation, with a replayable input", async () => {
  // The bug: a TypeError whenever `s` is not a string; mutation reaches it quickly.
  const report = await runFuzz(
    target((input) => {
      const s = (input as { s?: unknown } | null)?.s;
      if (typeof s !== "string") (undefined as unknown as { x: number }).x;
    }),
    corpus,
    { seed: 3, inputs: 2000 },
  );
  const finding = report.findings.find((f) => f.where.startsWith("seed"))!;
  assert.match(finding.message, /^TypeError: Cannot read properties/);
  assert.match(finding.where, /^seed 3 input \d+$/);
  const replayed = inputFromText(finding.input) as { s?: unknown };
  assert.notEqual(typeof replayed.s, "string");
});

Deno.test("fuzz runner: typed errors thrown on purpose are not findings; FuzzFinding is", async () => {
  const clean = await runFuzz(target(() => {}), corpus, { seed: 1, inputs: 300 });
  assert.equal(clean.findings.length, 0);
  assert.equal(clean.inputs, 300);
  assert.equal(clean.corpus, 1);
  const flagged = await runFuzz(
    target(() => {
      throw new FuzzFinding("the target's own check failed");
    }),
    corpus,
    { seed: 1, inputs: 10 },
  );
  assert.equal(flagged.findings.length, 1);
  assert.equal(flagged.findings[0].where, "corpus seed");
});

Deno.test("fuzz runner: a hang, an unhandled rejection and a console.error are findings", async () => {
  let opened = 0;
  const report = await runFuzz(
    // The corpus entry itself hangs; inputs whose `s` is not a string break quietly.
    target(hangingRun, {
      open: () => (opened++, Promise.resolve({ run: hangingRun, close: () => Promise.resolve() })),
    }),
    corpus,
    { seed: 5, inputs: 100 },
  );
  const messages = report.findings.map((f) => f.message).join("\n");
  assert.match(messages, /hang: the input took over 200 ms/);
  assert.match(messages, /unhandled rejection: RangeError: nobody awaits this/);
  assert.match(messages, /console\.error: something broke/);
  assert(opened >= 2, "a session whose input hung is replaced by a fresh one");
  // The late end of the hung input is awaited by nobody: let it pass before the test ends.
  await new Promise((resolve) => setTimeout(resolve, 250));
});

Deno.test("fuzz runner: known issues are counted, not reported", async () => {
  const report = await runFuzz(
    target(() => {
      throw new RangeError("Maximum call stack size exceeded");
    }, { knownIssues: [{ pattern: /Maximum call stack/, note: "deep values" }] }),
    corpus,
    { seed: 1, inputs: 5 },
  );
  assert.equal(report.findings.length, 0);
  assert.deepEqual(report.known, { "deep values": 6 });
});
