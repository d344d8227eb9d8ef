// The fuzz mutation engine: reproducible from a seed, bounded in size, and its corpus encoding
// keeps byte strings and lone surrogates.
import assert from "node:assert/strict";
import {
  decodeFuzzValue,
  encodeFuzzValue,
  type FuzzValue,
  fuzzValueSize,
  MAX_INPUT_BYTES,
  Mutator,
  Rng,
} from "./_fuzz_mutator.ts";
import { inputFromText, inputToText } from "./_fuzz_runner.ts";

const CORPUS: FuzzValue[] = [
  { steps: [{ type: "room.invoke_tool", header: { toolkit: "storage", path: "a/b.txt" } }] },
  [new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 120])],
  { ops: [{ op: "search", request: { database: "main", limit: 10, where: { id: 1 } } }] },
];

Deno.test("fuzz mutator: one seed gives the same inputs, another seed others", () => {
  const run = (seed: number) => {
    const m = new Mutator(new Rng(seed), CORPUS);
    return Array.from({ length: 200 }, () => inputToText(m.next()));
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

Deno.test("fuzz mutator: inputs change, stay within the size bound, and leave the corpus alone", () => {
  const before = CORPUS.map(inputToText);
  const m = new Mutator(new Rng(1), CORPUS);
  let changed = 0;
  for (let i = 0; i < 3000; i++) {
    const input = m.next();
    assert(fuzzValueSize(input) <= MAX_INPUT_BYTES, `input ${i} is too big`);
    if (!before.includes(inputToText(input))) changed++;
  }
  assert(changed > 2500, `only ${changed} of 3000 inputs differ from the corpus`);
  assert.deepEqual(CORPUS.map(inputToText), before);
});

Deno.test("fuzz mutator: the corpus encoding keeps bytes and strings that are not UTF-16 well formed", () => {
  const value: FuzzValue = { a: new Uint8Array([1, 255]), b: ["\ud800x", "ok"], c: null };
  const json = JSON.stringify(encodeFuzzValue(value));
  assert(json.isWellFormed() && !json.includes("\\ud800"));
  assert.deepEqual(decodeFuzzValue(JSON.parse(json)), value);
  assert.deepEqual(inputFromText(inputToText(value)), value);
});
