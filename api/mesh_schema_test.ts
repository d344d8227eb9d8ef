import assert from "node:assert/strict";
import { ChildProperty, ElementType, ValueProperty } from "./element_type.ts";
import { MeshSchema } from "./mesh_schema.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import pageSchemaJson from "./testdata/page_schema.json" with { type: "json" };
import { notesSchema } from "./testdata/notes_schema.ts";

// Test-only: schema JSON edited freely to break it.
// deno-lint-ignore no-explicit-any
type Loose = { $defs: Record<string, any> };

function rejects(json: unknown, ...fragments: string[]): MeshSchemaValidationError {
  let caught: unknown;
  try {
    MeshSchema.fromJson(json);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MeshSchemaValidationError, `expected a validation error`);
  assert.equal(caught.code, 1002);
  for (const f of fragments) assert.match(caught.message, new RegExp(RegExp.escape(f)));
  return caught;
}

Deno.test("MeshSchema parses the spec example and serialises it back to the same JSON", () => {
  const schema = MeshSchema.fromJson(pageSchemaJson);
  assert.equal(schema.rootTagName, "page");
  assert.deepEqual(schema.elements.map((e) => e.tagName), ["page", "para"]);
  const title = schema.root.valueProperty("title")!;
  assert.equal(title.type, "string");
  assert.equal(title.required, false);
  assert.deepEqual(schema.root.childProperty?.childTagNames, ["para"]);
  const style = schema.element("para").valueProperty("style")!;
  assert.equal(style.required, true);
  assert.deepEqual(style.enumValues, ["body", "quote"]);
  assert.deepEqual(schema.toJson(), pageSchemaJson);
  // A JSON string parses too.
  assert.deepEqual(MeshSchema.fromJson(JSON.stringify(pageSchemaJson)).toJson(), pageSchemaJson);
});

Deno.test("MeshSchema built from classes round-trips through JSON", () => {
  const schema = new MeshSchema({
    rootTagName: "doc",
    elements: [
      new ElementType({
        tagName: "doc",
        description: "the root",
        properties: [
          new ValueProperty({ name: "n", type: "number", required: true, description: "a count" }),
          new ValueProperty({ name: "flag", type: "boolean" }),
          new ValueProperty({ name: "kind", type: "string", enumValues: ["a", "b"] }),
          new ValueProperty({ name: "nothing", type: "null" }),
          new ChildProperty({
            name: "items",
            childTagNames: ["item", "doc"],
            ordered: true,
            description: "in order",
          }),
        ],
      }),
      new ElementType({ tagName: "item", properties: [] }),
    ],
  });
  const json = schema.toJson();
  assert.deepEqual(json.required, ["doc"]);
  assert.equal(json.description, "the root");
  const back = MeshSchema.fromJson(json);
  assert.deepEqual(back.toJson(), json);
  assert.equal(JSON.stringify(back.toJson()), JSON.stringify(json));
  const items = back.root.childProperty!;
  assert.equal(items.ordered, true);
  assert.equal(items.description, "in order");
  assert.deepEqual(items.childTagNames, ["item", "doc"]);
  const kind = back.root.valueProperty("kind")!;
  assert.equal(kind.required, false);
  assert.deepEqual(kind.enumValues, ["a", "b"]);
  assert.equal(back.root.valueProperty("n")!.description, "a count");
  assert.deepEqual(back.root.properties.map((p) => p.name), [
    "n",
    "flag",
    "kind",
    "nothing",
    "items",
  ]);
  const again = notesSchema();
  assert.deepEqual(MeshSchema.fromJson(again.toJson()).toJson(), again.toJson());
});

Deno.test("MeshSchema.fromJson refuses invalid schemas with messages naming the fault", () => {
  const valid = structuredClone(pageSchemaJson) as Record<string, unknown>;
  rejects(42, "must be an object");
  rejects("{not json", "not valid JSON");
  rejects({ $defs: {} }, "$root_tag_ref");
  rejects({ $root_tag_ref: "#/$defs/page" }, "$defs");
  rejects({ ...valid, $root_tag_ref: "#/$defs/nope" }, `"nope"`, "add it to $defs");
  const badRef = structuredClone(valid) as Loose;
  badRef.$defs.page.properties.page.properties.children.items.anyOf.push({ $ref: "#/$defs/x" });
  const e = rejects(badRef, `"children"`, `"page"`, `"x"`);
  assert.equal(e.element, "page");
  assert.equal(e.attribute, "children");
  const twoChildren = structuredClone(valid) as Loose;
  twoChildren.$defs.page.properties.page.properties.more = { type: "array", items: { anyOf: [] } };
  rejects(twoChildren, "two child properties");
  const badType = structuredClone(valid) as Loose;
  badType.$defs.para.properties.para.properties.style.type = "integer";
  const t = rejects(badType, `"style"`, `"para"`, "integer");
  assert.equal(t.attribute, "style");
  const badArray = structuredClone(valid) as Loose;
  badArray.$defs.para.properties.para.properties.list = { type: "array" };
  rejects(badArray, "anyOf", "prefixItems");
  const keyMismatch = structuredClone(valid) as Loose;
  keyMismatch.$defs.other = keyMismatch.$defs.para;
  rejects(keyMismatch, "$defs.other", `"para"`);
  const noProps = structuredClone(valid) as Loose;
  noProps.$defs.para = { type: "object", properties: {} };
  rejects(noProps, "$defs.para.properties");
  const reserved = structuredClone(valid) as Loose;
  reserved.$defs.para.properties.para.properties.$id = { type: "string" };
  rejects(reserved, "reserved");
  const badEnum = structuredClone(valid) as Loose;
  badEnum.$defs.para.properties.para.properties.style.enum = [{}];
  rejects(badEnum, "enum");
});

Deno.test("MeshSchema constructors refuse duplicates", () => {
  assert.throws(
    () => new MeshSchema({ rootTagName: "a", elements: [notesSchema().root, notesSchema().root] }),
    /"notes" is defined twice/,
  );
  assert.throws(
    () =>
      new ElementType({
        tagName: "a",
        properties: [
          new ValueProperty({ name: "x", type: "string" }),
          new ValueProperty({ name: "x", type: "number" }),
        ],
      }),
    (e) => e instanceof MeshSchemaValidationError && /property "x" twice/.test(e.message),
  );
  assert.throws(() => new ElementType({ tagName: "", properties: [] }), /non-empty tag/);
});

Deno.test("MeshSchema.validateDocument checks tags, attributes and values", () => {
  const schema = notesSchema();
  const good = {
    notes: {
      title: "t",
      version: 2,
      pinned: null,
      children: [
        { section: { heading: "h", content: [{ para: { style: "body" } }] } },
        { text: { children: [{ text: { delta: [{ insert: "hi" }] } }] } },
      ],
    },
  };
  schema.validateDocument(good);
  schema.validateDocument(good.notes); // the bare root content is accepted too
  const fail = (json: unknown, element: string, attribute: string | undefined, re: RegExp) => {
    assert.throws(() => schema.validateDocument(json), (e) => {
      assert.ok(e instanceof MeshSchemaValidationError);
      assert.match(e.message, re);
      assert.equal(e.element, element);
      assert.equal(e.attribute, attribute);
      return true;
    });
  };
  fail({ notes: { colour: "red" } }, "notes", "colour", /attribute "colour" is not declared/);
  fail(
    { notes: { children: [{ section: { content: [{ section: {} }] } }] } },
    "notes.children[0].section",
    "content",
    /"section" is not allowed in "section" \(allowed: para, text\)/,
  );
  fail(
    { notes: { children: [{ para: { style: "loud" } }] } },
    "notes.children[0].para",
    "style",
    /"loud" is not one of \["body","quote"\]/,
  );
  fail(
    { notes: { children: [{ para: { style: null } }] } },
    "notes.children[0].para",
    "style",
    /null is not allowed/,
  );
  fail({ notes: { version: "2" } }, "notes", "version", /expected a number, got "2"/);
  fail({ notes: { children: {} } }, "notes", "children", /must be an array/);
  assert.throws(
    () => schema.validateDocument({ notes: { children: [{ a: {}, b: {} }] } }),
    /single key/,
  );
  // Values can be left unchecked.
  schema.validateDocument({ notes: { version: "2" } }, { checkValues: false });
});
