import assert from "node:assert/strict";
import { formArguments, formFields, FormValueError } from "./_schema_form.ts";

const schema = {
  type: "object",
  required: ["path", "n"],
  properties: {
    path: { type: "string", description: "where" },
    n: { type: "integer" },
    force: { type: "boolean" },
    mode: { type: ["string", "null"], enum: ["a", "b"] },
    meta: { type: "object" },
  },
};

Deno.test("a schema's properties become fields, one input kind per JSON type", () => {
  assert.deepEqual(formFields(schema).map((f) => [f.name, f.input, f.required]), [
    ["path", "text", true],
    ["n", "number", true],
    ["force", "checkbox", false],
    ["mode", "select", false],
    ["meta", "json", false],
  ]);
  assert.deepEqual(formFields(schema)[3].choices, ["a", "b"]);
  assert.deepEqual(formFields(undefined), []);
});

Deno.test("filled-in values become typed arguments; bad JSON and missing fields are named", () => {
  const fields = formFields(schema);
  assert.deepEqual(
    formArguments(fields, { path: "x", n: "3", force: true, mode: "b", meta: '{"k":1}' }),
    { path: "x", n: 3, force: true, mode: "b", meta: { k: 1 } },
  );
  assert.deepEqual(formArguments(fields, { path: "x", n: "1" }), { path: "x", n: 1, force: false });
  assert.throws(
    () => formArguments(fields, { path: "x" }),
    (e) => e instanceof FormValueError && /n is required/.test(e.message),
  );
  assert.throws(
    () => formArguments(fields, { path: "x", n: "1", meta: "{" }),
    /meta is not valid JSON/,
  );
});
