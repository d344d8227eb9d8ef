import assert from "node:assert/strict";
import { MeshSchema } from "@meshagent/api";
import { RequiredSchema, RequiredToolkit, Requirement } from "./requirement.ts";
import { RequirementError } from "./requirement_error.ts";

const SCHEMA = {
  $root_tag_ref: "#/$defs/notes",
  $defs: {
    notes: {
      type: "object",
      properties: {
        notes: {
          type: "object",
          properties: {
            title: { type: ["string", "null"] },
            children: { type: "array", items: { anyOf: [{ $ref: "#/$defs/note" }] } },
          },
        },
      },
    },
    note: { type: "object", properties: { note: { type: "object", properties: {} } } },
  },
};

Deno.test("RequiredToolkit: exact JSON with every key, and back", () => {
  const full = new RequiredToolkit({
    name: "math-toolkit",
    tools: ["add", "subtract"],
    participantName: "math-tools",
    callable: true,
  });
  assert.equal(
    JSON.stringify(full.toJson()),
    '{"toolkit":"math-toolkit","tools":["add","subtract"],"participant_name":"math-tools","callable":true}',
  );
  const bare = new RequiredToolkit({ name: "storage" });
  assert.deepEqual(bare.toJson(), {
    toolkit: "storage",
    tools: null,
    participant_name: null,
    callable: null,
  });
  for (const r of [full, bare]) {
    const back = Requirement.fromJson(JSON.parse(JSON.stringify(r.toJson())));
    assert.ok(back instanceof RequiredToolkit);
    assert.deepEqual(back.toJson(), r.toJson());
  }
});

Deno.test("RequiredToolkit: reads the TypeScript SDK's shape (no callable)", () => {
  const r = Requirement.fromJson({ toolkit: "kit", tools: ["a"], participant_name: undefined });
  assert.ok(r instanceof RequiredToolkit);
  assert.deepEqual(r.toJson(), {
    toolkit: "kit",
    tools: ["a"],
    participant_name: null,
    callable: null,
  });
});

Deno.test("RequiredSchema: exact JSON with every key, and back", () => {
  const bare = new RequiredSchema({ name: "thread" });
  assert.equal(JSON.stringify(bare.toJson()), '{"schema":"thread","callable":null,"json":null}');
  const withJson = new RequiredSchema({ name: "notes", json: SCHEMA, callable: false });
  assert.deepEqual(withJson.toJson(), { schema: "notes", callable: false, json: SCHEMA });
  assert.equal(withJson.path, ".schemas/notes.json");
  // A MeshSchema is stored as its JSON.
  const fromSchema = new RequiredSchema({ name: "notes", json: MeshSchema.fromJson(SCHEMA) });
  assert.equal(MeshSchema.fromJson(fromSchema.json).rootTagName, "notes");
  for (const r of [bare, withJson]) {
    const back = Requirement.fromJson(JSON.parse(JSON.stringify(r.toJson())));
    assert.ok(back instanceof RequiredSchema);
    assert.deepEqual(back.toJson(), r.toJson());
  }
  // The TypeScript SDK writes only the name.
  assert.deepEqual(Requirement.fromJson({ schema: "doc" }).toJson(), {
    schema: "doc",
    callable: null,
    json: null,
  });
});

Deno.test("Requirement.fromJson: clear errors for bad JSON", () => {
  const cases: [unknown, RegExp][] = [
    [null, /must be an object/],
    [{ nothing: 1 }, /"toolkit" or "schema"/],
    [{ toolkit: "" }, /non-empty name/],
    [{ toolkit: "k", tools: "add" }, /list of tool names/],
    [{ toolkit: "k", callable: "yes" }, /callable/],
    [{ schema: "s", json: "x" }, /MeshSchema object/],
    [{ schema: "s", json: { $defs: {} } }, /not a valid MeshSchema/],
    [{ schema: "a/b" }, /path separator/],
    [{ table: "t" }, /RequiredTable is not supported/],
  ];
  for (const [json, pattern] of cases) {
    assert.throws(
      () => Requirement.fromJson(json),
      (e: unknown) => e instanceof RequirementError && e.code === 1002 && pattern.test(e.message),
      JSON.stringify(json),
    );
  }
});
