// Interop with the official client (@meshagent/meshagent 0.39.9): its MeshSchema JSON parses in
// ours and back, and a document edited by its runtime and one edited by ours converge through
// Yjs updates in both directions.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { MeshDocument } from "./mesh_document.ts";
import { MeshSchema } from "./mesh_schema.ts";
import { base64ToBytes, bytesToBase64 } from "./_base64.ts";

// The official package bundles its own copy of Yjs, which warns (console.error) that Yjs is
// already loaded. The two copies never share objects here (only update bytes), so the warning
// does not apply; keep it out of the test output.
// deno-lint-ignore no-explicit-any
const mesh: any = (() => {
  const error = console.error;
  console.error = () => {};
  try {
    return createRequire(import.meta.url)("@meshagent/meshagent");
  } finally {
    console.error = error;
  }
})();

// deno-lint-ignore no-explicit-any
type Official = any;

function officialSchema(): Official {
  const { MeshSchema: TheirSchema, ElementType, ValueProperty, ChildProperty, SimpleValue } = mesh;
  return new TheirSchema({
    rootTagName: "doc",
    elements: [
      new ElementType({
        tagName: "doc",
        description: "a document",
        properties: [
          new ValueProperty({ name: "title", type: SimpleValue.string }),
          new ValueProperty({ name: "count", type: SimpleValue.number, required: true }),
          new ChildProperty({ name: "blocks", childTagNames: ["para", "text", "list"] }),
        ],
      }),
      new ElementType({
        tagName: "para",
        properties: [
          new ValueProperty({
            name: "style",
            type: SimpleValue.string,
            enumValues: ["body", "quote"],
            description: "how it looks",
          }),
          new ValueProperty({ name: "done", type: SimpleValue.boolean }),
        ],
      }),
      new ElementType({ tagName: "text", properties: [] }),
      new ElementType({
        tagName: "list",
        properties: [
          new ChildProperty({
            name: "items",
            childTagNames: ["para", "text"],
            ordered: true,
            description: "list items",
          }),
        ],
      }),
    ],
  });
}

/** Their in-memory tree in our document JSON shape (with ids), to compare with ours. */
function theirJson(schema: MeshSchema, el: Official): Record<string, unknown> {
  const type = schema.element(el.tagName);
  const content: Record<string, unknown> = { ...el.attributes };
  if (el === el.doc.root) delete content.$id;
  const children = el.getChildren().map((c: Official) =>
    c instanceof mesh.TextElement ? { text: plain(c.delta) } : theirJson(schema, c)
  );
  const key = type.childProperty?.name ?? (el.tagName === "text" ? "children" : undefined);
  if (key) content[key] = children;
  return { [el.tagName]: content };
}

/** Our JSON with each text run reduced to its plain text (their runtime keeps its own deltas). */
function ourJson(doc: MeshDocument): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === "text") {
        const inner = o.text as Record<string, unknown>;
        if (Array.isArray(inner.delta)) return { text: plain(inner.delta) };
      }
      return Object.fromEntries(keys.map((k) => [k, strip(o[k])]));
    }
    return v;
  };
  return strip(doc.toJson({ includeIds: true })) as Record<string, unknown>;
}

function plain(delta: { insert: unknown }[]): string {
  return delta.map((d) => typeof d.insert === "string" ? d.insert : "").join("");
}

/** Runs `fn` with the official runtime's per-change console.log silenced. */
function quiet<T>(fn: () => T): T {
  const log = console.log;
  console.log = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
  }
}

Deno.test("interop: the official MeshSchema JSON parses in ours and serialises back identically", () => {
  const theirs = officialSchema();
  const theirJsonText = JSON.stringify(theirs.toJson());
  const ours = MeshSchema.fromJson(JSON.parse(theirJsonText));
  assert.equal(JSON.stringify(ours.toJson()), theirJsonText);
  assert.equal(ours.rootTagName, "doc");
  assert.equal(ours.element("list").childProperty?.ordered, true);
  assert.equal(ours.element("para").valueProperty("style")?.description, "how it looks");
  // And ours parses in theirs.
  const back = mesh.MeshSchema.fromJson(ours.toJson());
  assert.equal(JSON.stringify(back.toJson()), theirJsonText);
  assert.deepEqual(Object.keys(back.elementsByTagName), ["doc", "para", "text", "list"]);
});

Deno.test("interop: official and our documents exchange Yjs updates both ways and converge", () => {
  quiet(() => {
    const theirSchema = officialSchema();
    const schema = MeshSchema.fromJson(theirSchema.toJson());
    const ours = new MeshDocument(schema);
    const toOurs: string[] = [];
    const theirs = new mesh.MeshDocument({
      schema: theirSchema,
      sendChangesToBackend: (b64: string) => toOurs.push(b64),
    });
    const flushToOurs = () => {
      for (const b64 of toOurs.splice(0)) ours.applyUpdate(base64ToBytes(b64), { validate: true });
    };
    ours.onLocalUpdate((u) => mesh.applyBackendChanges(theirs.id, bytesToBase64(u)));

    // Their edits.
    theirs.root.setAttribute("title", "from them");
    const p = theirs.root.createChildElement("para", { style: "body" });
    const t = theirs.root.createChildElement("text", {});
    t.getChildren()[0].insert(0, "hello", {});
    const list = theirs.root.createChildElement("list", {});
    list.createChildElement("para", { style: "quote", done: false });
    flushToOurs();
    assert.equal(ours.root.getAttribute("title"), "from them");
    assert.deepEqual(ours.root.children.map((c) => c.tagName), ["para", "text", "list"]);
    assert.equal(ours.getElementById(p.id)?.getAttribute("style"), "body");
    assert.equal(ours.getElementById(t.id)?.text, "hello");
    ours.validate();

    // Our edits.
    ours.root.setAttribute("count", 7);
    ours.getElementById(p.id)!.setAttribute("style", "quote");
    const ourText = ours.getElementById(t.id)!;
    ourText.insertText(5, " world");
    ourText.formatText(0, 5, { bold: true });
    const ourPara = ours.root.createChildElement("para", { style: "body", done: true }, {
      index: 1,
    });
    ours.getElementById(list.id)!.createChildElement("text").insertText(0, "item");
    ours.root.createChildElement("text").insertText(0, "ours");
    assert.equal(theirs.root.getAttribute("count"), 7);
    assert.equal(theirs.root.getNodeByID(ourPara.id!)?.getAttribute("done"), true);
    assert.equal(theirs.root.getNodeByID(p.id).getAttribute("style"), "quote");

    // Concurrent edits on both sides before exchanging.
    theirs.root.createChildElement("para", { style: "body" });
    theirs.root.getNodeByID(ourPara.id!).delete();
    theirs.root.removeAttribute("title");
    flushToOurs();
    ours.root.children[0].delete();
    flushToOurs();

    const expected = ourJson(ours);
    assert.deepEqual(theirJson(schema, theirs.root), expected);
    ours.validate();

    // Late joiners in both directions see the same document.
    const lateOurs = MeshDocument.fromUpdate(schema, base64ToBytes(theirs.getState()), {
      validate: true,
    });
    assert.deepEqual(ourJson(lateOurs), expected);
    // Their Yjs state, loaded by us, is ours exactly (rich text included).
    assert.deepEqual(lateOurs.toJson({ includeIds: true }), ours.toJson({ includeIds: true }));
    assert.deepEqual(base64ToBytes(theirs.getStateVector()), ours.encodeStateVector());
    const lateTheirs = new mesh.MeshDocument({ schema: theirSchema });
    mesh.applyBackendChanges(lateTheirs.id, bytesToBase64(ours.encodeStateAsUpdate()));
    assert.deepEqual(theirJson(schema, lateTheirs.root), expected);
    // A diff against their state vector brings them up to date.
    ours.root.setAttribute("title", "diffed");
    const diff = ours.encodeStateAsUpdate(base64ToBytes(lateTheirs.getStateVector()));
    mesh.applyBackendChanges(lateTheirs.id, bytesToBase64(diff));
    assert.equal(lateTheirs.root.getAttribute("title"), "diffed");
    assert.deepEqual(theirJson(schema, lateTheirs.root), ourJson(ours));

    for (const d of [theirs, lateTheirs]) d.dispose();
    for (const d of [ours, lateOurs]) d.dispose();
  });
});
