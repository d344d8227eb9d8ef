import assert from "node:assert/strict";
import { ToolContentSpec } from "./tool_content_spec.ts";
import { ToolError } from "./tool_error.ts";

Deno.test("ToolContentSpec round-trips its wire shape", () => {
  const spec = new ToolContentSpec({
    types: ["json", "text"],
    stream: true,
    schema: { type: "object" },
  });
  const json = spec.toJson();
  assert.deepEqual(json, { types: ["json", "text"], stream: true, schema: { type: "object" } });
  assert.deepEqual(ToolContentSpec.fromJson(json)?.toJson(), json);
  assert.deepEqual(new ToolContentSpec({ types: ["file"] }).toJson(), {
    types: ["file"],
    stream: false,
  });
  assert.equal(ToolContentSpec.fromJson(null), null);
  assert.equal(ToolContentSpec.fromJson(undefined), null);
});

Deno.test("ToolContentSpec refuses bad types and schemas", () => {
  assert.throws(
    () => new ToolContentSpec({ types: [] }),
    (e) => e instanceof ToolError && e.code === 1002,
  );
  assert.throws(
    () => ToolContentSpec.fromJson({ types: ["error"] }),
    /unsupported tool content type "error"/,
  );
  assert.throws(() => ToolContentSpec.fromJson("json"), /must be a JSON object/);
  assert.throws(
    () => ToolContentSpec.fromJson({ types: ["json"], schema: [] }),
    /schema must be a JSON object/,
  );
});

Deno.test("ToolContentSpec.accepts treats empty as no JSON arguments", () => {
  const json = ToolContentSpec.json();
  assert.ok(json.accepts("json") && json.accepts("empty"));
  assert.ok(!json.accepts("text"));
  const text = new ToolContentSpec({ types: ["text"] });
  assert.ok(!text.accepts("empty"));
});
