import assert from "node:assert/strict";
import { compileSchema } from "./_validator.ts";

Deno.test("compileSchema: schemas sharing an $id do not clash", () => {
  const a = compileSchema({ $id: "https://example.com/s", type: "string" });
  const b = compileSchema({ $id: "https://example.com/s", type: "number" });
  assert.deepEqual(a("x"), []);
  assert.deepEqual(b(1), []);
  assert.deepEqual(b("x"), ["/ must be number"]);
});

Deno.test("compileSchema: caches by schema object, merges defs", () => {
  const schema = { type: "object" };
  assert.equal(compileSchema(schema), compileSchema(schema));
  const withDefs = compileSchema({ $ref: "#/$defs/n" }, { n: { type: "integer" } });
  assert.deepEqual(withDefs(1), []);
  assert.deepEqual(withDefs(1.5), ["/ must be integer"]);
});

Deno.test("compileSchema: long error lists are cut", () => {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < 12; i++) properties[`p${i}`] = { type: "string" };
  const check = compileSchema({ type: "object", properties });
  const value: Record<string, number> = {};
  for (let i = 0; i < 12; i++) value[`p${i}`] = i;
  const problems = check(value);
  assert.equal(problems.length, 9);
  assert.equal(problems.at(-1), "and 4 more");
});

Deno.test("compileSchema: an invalid schema throws with ajv's explanation", () => {
  assert.throws(() => compileSchema({ type: "nope" }), /schema is invalid/);
});
