import assert from "node:assert/strict";
import * as Y from "yjs";
import {
  type AttributeChangedEvent,
  type ElementAddedEvent,
  type ElementRemovedEvent,
  MeshDocument,
} from "./mesh_document.ts";
import { MeshDocumentError } from "./mesh_document_error.ts";
import { fromWireUpdate, toWireUpdate } from "./wire_update.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import { notesSchema } from "./testdata/notes_schema.ts";

const schema = notesSchema();

Deno.test("MeshDocument edits: children, attributes, text, delete, lookups", () => {
  const doc = new MeshDocument(schema);
  assert.equal(doc.root.tagName, "notes");
  assert.equal(doc.root.isRoot, true);
  assert.equal(doc.root.id, undefined);
  assert.deepEqual(doc.toJson(), { notes: { children: [] } });

  doc.root.setAttributes({ title: "Groceries", version: 1, pinned: false });
  const s = doc.root.createChildElement("section", { heading: "Dairy" });
  const p1 = s.createChildElement("para", { style: "body" });
  const p3 = s.createChildElement("para", { style: "quote" });
  const p2 = s.createChildElement("para", { style: "body", weight: 2 }, { after: p1 });
  const p0 = s.createChildElement("para", { style: "body" }, { index: 0, id: "fixed-id" });
  assert.equal(p0.id, "fixed-id");
  assert.deepEqual(s.children, [p0, p1, p2, p3]);
  assert.equal(p1.parent, s);
  assert.equal(s.parent, doc.root);
  assert.match(p1.id!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(doc.getElementById(p2.id!), p2);
  assert.equal(doc.getElementById("nope"), undefined);

  p2.setAttribute("style", "quote");
  p2.removeAttribute("weight");
  p2.removeAttribute("weight"); // no-op
  assert.deepEqual(p2.attributes, { style: "quote" });
  assert.equal(p2.getAttribute("weight"), undefined);

  const t = doc.root.createChildElement("text");
  assert.equal(t.isText, true);
  assert.equal(t.text, "");
  t.insertText(0, "hello world");
  t.formatText(0, 5, { bold: true });
  t.deleteText(5, 6);
  t.insertText(5, "!");
  assert.equal(t.text, "hello!");
  assert.deepEqual(t.textDelta, [{ insert: "hello", attributes: { bold: true } }, { insert: "!" }]);

  p3.delete();
  p3.delete(); // deleting twice is a no-op
  assert.equal(p3.isDeleted, true);
  assert.throws(() => p3.setAttribute("style", "body"), /was deleted/);
  assert.throws(() => doc.root.delete(), MeshDocumentError);

  assert.deepEqual(doc.toJson(), {
    notes: {
      title: "Groceries",
      version: 1,
      pinned: false,
      children: [
        {
          section: {
            heading: "Dairy",
            content: [
              { para: { style: "body" } },
              { para: { style: "body" } },
              { para: { style: "quote" } },
            ],
          },
        },
        {
          text: {
            children: [{
              text: { delta: [{ insert: "hello", attributes: { bold: true } }, { insert: "!" }] },
            }],
          },
        },
      ],
    },
  });
  // deno-lint-ignore no-explicit-any
  const withIds = doc.toJson({ includeIds: true }) as any;
  assert.equal(withIds.notes.children[0].section.content[0].para.$id, "fixed-id");
  doc.validate();
  doc.dispose();
});

Deno.test("MeshDocument refuses local edits the schema does not allow, and changes nothing", () => {
  const doc = MeshDocument.fromJson(schema, {
    notes: { title: "x", children: [{ para: { style: "body" } }] },
  });
  const before = doc.encodeStateVector();
  const para = doc.root.children[0];
  const check = (fn: () => unknown, element: RegExp, attribute: string | undefined, re: RegExp) => {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof MeshSchemaValidationError, String(e));
      assert.match(e.element ?? "", element);
      assert.equal(e.attribute, attribute);
      assert.match(e.message, re);
      return true;
    });
  };
  check(
    () => doc.root.setAttribute("colour", "red"),
    /^notes$/,
    "colour",
    /not declared.*declared: title, version, pinned/,
  );
  check(() => doc.root.setAttribute("children", "x"), /^notes$/, "children", /not declared/);
  check(() => doc.root.setAttribute("version", "one"), /^notes$/, "version", /expected a number/);
  check(() => para.setAttribute("style", "loud"), /^para#/, "style", /not one of/);
  check(() => para.setAttribute("style", null), /^para#/, "style", /null is not allowed/);
  check(() => para.setAttributes({ weight: 3, bogus: 1 }), /^para#/, "bogus", /not declared/);
  check(
    () => doc.root.createChildElement("notes"),
    /^notes$/,
    "children",
    /"notes" is not allowed in notes \(allowed: section, para, text\)/,
  );
  check(() => para.createChildElement("text"), /^para#/, undefined, /has no child property/);
  check(
    () => doc.root.createChildElement("para", { style: "body", size: 3 }),
    /^para#/,
    "size",
    /not declared/,
  );
  check(() => doc.root.createChildElement("nope"), /^notes$/, "children", /not allowed/);
  check(() => para.setAttribute("$id", "x"), /^para#/, "$id", /set when the element is created/);
  assert.throws(
    () => doc.root.createChildElement("para", { style: "body" }, { index: 5 }),
    /out of range/,
  );
  assert.throws(
    () => doc.root.createChildElement("para", { style: "body" }, { after: "missing" }),
    /no child with \$id missing/,
  );
  assert.throws(() => para.insertText(0, "x"), /not a text element/);
  assert.throws(
    () =>
      doc.root.appendJson({ section: { content: [{ para: { style: "body" } }, { section: {} }] } }),
    /"section" is not allowed in section#/,
  );
  assert.deepEqual(doc.encodeStateVector(), before);
  assert.deepEqual(doc.toJson(), {
    notes: { title: "x", children: [{ para: { style: "body" } }] },
  });
  doc.dispose();
});

Deno.test("MeshDocument.fromJson builds the tree and toJson gives it back", () => {
  const json = {
    notes: {
      title: "T",
      version: 3.5,
      pinned: true,
      children: [
        {
          section: {
            heading: "A",
            content: [{ para: { style: "quote", weight: 1 } }, {
              text: {
                children: [{
                  text: { delta: [{ insert: "x" }, { insert: "y", attributes: { i: true } }] },
                }],
              },
            }],
          },
        },
        { section: { content: [] } },
        { text: { children: [{ text: { delta: [] } }] } },
      ],
    },
  };
  const doc = MeshDocument.fromJson(schema, json);
  assert.deepEqual(doc.toJson(), json);
  doc.validate();
  // Bare root content works as well, and an empty text element gets its text node.
  const bare = MeshDocument.fromJson(schema, { title: "B", children: [{ text: {} }] });
  assert.deepEqual(bare.toJson(), {
    notes: { title: "B", children: [{ text: { children: [{ text: { delta: [] } }] } }] },
  });
  bare.validate();
  assert.throws(
    () => MeshDocument.fromJson(schema, { notes: { colour: 1 } }),
    MeshSchemaValidationError,
  );
  assert.throws(() => MeshDocument.fromJson(schema, [1]), /document JSON must be an object/);
  // appendJson adds a subtree in one update.
  let updates = 0;
  doc.onLocalUpdate(() => updates++);
  const added = doc.root.appendJson({
    section: { heading: "new", content: [{ para: { style: "body" } }] },
  }, { index: 0 });
  assert.equal(updates, 1);
  assert.equal(doc.root.children[0], added);
  assert.equal(added.children[0].tagName, "para");
  doc.dispose();
  bare.dispose();
});

Deno.test("MeshDocument emits element, attribute, text and changed events, local and remote", () => {
  const a = new MeshDocument(schema);
  const b = new MeshDocument(schema);
  a.onLocalUpdate((u) => b.applyUpdate(u));
  const log: string[] = [];
  for (const [name, doc] of [["a", a], ["b", b]] as const) {
    const tag = (local: boolean) => `${name}${local ? "" : "(remote)"}`;
    doc.on(
      "elementAdded",
      (e: ElementAddedEvent) =>
        log.push(`${tag(e.local)} added ${e.element.tagName} to ${e.parent.tagName}`),
    );
    doc.on(
      "elementRemoved",
      (e: ElementRemovedEvent) =>
        log.push(`${tag(e.local)} removed ${e.tagName} ${e.id === "p" ? "p" : "?"}`),
    );
    doc.on(
      "attributeChanged",
      (e: AttributeChangedEvent) =>
        log.push(`${tag(e.local)} ${e.element.tagName}.${e.name}: ${e.oldValue} -> ${e.value}`),
    );
    doc.on("textChanged", (e) => log.push(`${tag(e.local)} text ${e.element.text}`));
    doc.on("changed", (e) => log.push(`${tag(e.local)} changed`));
  }
  const s = a.root.createChildElement("section");
  const p = s.createChildElement("para", { style: "body" }, { id: "p" });
  p.setAttribute("style", "quote");
  a.root.createChildElement("text").insertText(0, "hi");
  p.delete();
  assert.deepEqual(log, [
    "a added section to notes",
    "a changed",
    "b(remote) added section to notes",
    "b(remote) changed",
    "a added para to section",
    "a changed",
    "b(remote) added para to section",
    "b(remote) changed",
    "a para.style: body -> quote",
    "a changed",
    "b(remote) para.style: body -> quote",
    "b(remote) changed",
    "a added text to notes",
    "a changed",
    "b(remote) added text to notes",
    "b(remote) changed",
    "a text hi",
    "a changed",
    "b(remote) text hi",
    "b(remote) changed",
    "a removed para p",
    "a changed",
    "b(remote) removed para p",
    "b(remote) changed",
  ]);
  // transact groups edits into one update and one changed event.
  log.length = 0;
  let updates = 0;
  a.onLocalUpdate(() => updates++);
  a.transact(() => {
    a.root.setAttribute("title", "T");
    a.root.createChildElement("para", { style: "body" });
  });
  assert.equal(updates, 1);
  assert.equal(log.filter((l) => l === "a changed").length, 1);
  // A listener can be removed.
  const off = a.on("changed", () => assert.fail("removed listener called"));
  off();
  a.root.setAttribute("title", "U");
  a.dispose();
  b.dispose();
});

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomEdit(doc: MeshDocument, rand: () => number): void {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const all = [doc.root];
  for (let i = 0; i < all.length; i++) all.push(...all[i].children);
  const el = pick(all);
  const r = rand();
  if (el.tagName === "text") {
    const len = el.text.length;
    if (r < 0.5 || len === 0) {
      el.insertText(Math.floor(rand() * (len + 1)), pick(["a", "bc", "def"]));
    } else if (r < 0.8) el.deleteText(Math.floor(rand() * len), 1);
    else el.formatText(0, Math.ceil(rand() * len), { bold: rand() < 0.5 ? true : null });
    return;
  }
  if (r < 0.45 && el.tagName !== "para") {
    const tag = el.isRoot ? pick(["section", "para", "text"]) : pick(["para", "text"]);
    const count = el.children.length;
    const attrs: Record<string, string> = tag === "para" ? { style: pick(["body", "quote"]) } : {};
    el.createChildElement(tag, attrs, { index: Math.floor(rand() * (count + 1)) });
  } else if (r < 0.65 && !el.isRoot) {
    el.delete();
  } else if (el.isRoot) {
    if (rand() < 0.5) el.setAttribute("title", pick(["x", "y", "z"]));
    else el.setAttribute("version", Math.floor(rand() * 10));
  } else if (el.tagName === "section") {
    if (rand() < 0.7) el.setAttribute("heading", pick(["h1", "h2"]));
    else el.removeAttribute("heading");
  } else {
    if (rand() < 0.6) el.setAttribute("style", pick(["body", "quote"]));
    else if (rand() < 0.5) el.setAttribute("weight", rand());
    else el.removeAttribute("weight");
  }
}

for (const seed of [1, 2, 3, 42]) {
  Deno.test(`three replicas exchanging updates in random order converge (seed ${seed})`, () => {
    const rand = prng(seed);
    const docs = [0, 1, 2].map(() => new MeshDocument(schema));
    // inbox[i] holds updates not yet delivered to replica i.
    const inbox: Uint8Array[][] = [[], [], []];
    docs.forEach((doc, i) =>
      doc.onLocalUpdate((u) => inbox.forEach((box, j) => j !== i && box.push(u)))
    );
    for (let step = 0; step < 500; step++) {
      const i = Math.floor(rand() * 3);
      if (rand() < 0.6) {
        randomEdit(docs[i], rand);
      } else if (inbox[i].length) {
        // Deliver a random pending update (out of order on purpose).
        const k = Math.floor(rand() * inbox[i].length);
        const [u] = inbox[i].splice(k, 1);
        docs[i].applyUpdate(u);
      }
    }
    inbox.forEach((box, i) => {
      for (const u of box.splice(0)) docs[i].applyUpdate(u);
    });
    const texts = docs.map((d) => JSON.stringify(d.toJson({ includeIds: true })));
    assert.equal(texts[1], texts[0]);
    assert.equal(texts[2], texts[0]);
    assert.ok(docs[0].root.children.length + (docs[0].root.getAttribute("title") ? 1 : 0) > 0);
    for (const d of docs) d.validate();
    // A late joiner loads the whole state, or only the diff against a state vector.
    const late = MeshDocument.fromUpdate(schema, docs[1].encodeStateAsUpdate(), { validate: true });
    assert.equal(JSON.stringify(late.toJson({ includeIds: true })), texts[0]);
    const partial = new MeshDocument(schema);
    partial.applyUpdate(docs[2].encodeUpdate());
    randomEdit(docs[0], rand);
    const diff = docs[0].encodeStateAsUpdate(partial.encodeStateVector());
    assert.ok(diff.length < docs[0].encodeUpdate().length);
    partial.applyUpdate(diff);
    assert.deepEqual(partial.toJson({ includeIds: true }), docs[0].toJson({ includeIds: true }));
    for (const d of [...docs, late, partial]) d.dispose();
  });
}

/** Builds an update with raw Yjs, as a client that ignores the schema could. */
function rogueUpdate(base: MeshDocument, edit: (root: Y.XmlElement) => void): Uint8Array {
  const ydoc = new Y.Doc();
  Y.applyUpdate(ydoc, base.encodeStateAsUpdate());
  const root = ydoc.get("xml", Y.XmlElement) as Y.XmlElement;
  const sv = Y.encodeStateVector(ydoc);
  edit(root);
  const update = Y.encodeStateAsUpdate(ydoc, sv);
  ydoc.destroy();
  return update;
}

function rawElement(tag: string, attrs: Record<string, unknown>): Y.XmlElement {
  const el = new Y.XmlElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v as string);
  return el;
}

Deno.test("checkUpdate refuses updates that break the schema and leaves the document unchanged", () => {
  const doc = MeshDocument.fromJson(schema, {
    notes: { title: "t", children: [{ para: { style: "body" } }] },
  });
  const json = JSON.stringify(doc.toJson({ includeIds: true }));
  const sv = doc.encodeStateVector();
  const cases: [string, (root: Y.XmlElement) => void, RegExp, string | undefined][] = [
    [
      "unknown root attribute",
      (r) => r.setAttribute("colour", "red"),
      /attribute "colour" is not declared/,
      "colour",
    ],
    ["wrong value type", (r) => r.setAttribute("version", "x"), /expected a number/, "version"],
    [
      "child not allowed",
      (r) => r.push([rawElement("notes", { $id: "n1" })]),
      /child notes#n1 is not allowed/,
      "children",
    ],
    [
      "unknown tag",
      (r) => r.push([rawElement("blink", { $id: "b1" })]),
      /blink#b1 is not allowed/,
      "children",
    ],
    ["missing $id", (r) => r.push([rawElement("para", { style: "body" })]), /has no "\$id"/, "$id"],
    [
      "bad enum in nested",
      (r) => (r.get(0) as Y.XmlElement).setAttribute("style", "loud"),
      /attribute "style": "loud" is not one of/,
      "style",
    ],
    [
      "text in a para",
      (r) => (r.get(0) as Y.XmlElement).push([new Y.XmlText("x")]),
      /only "text" elements may hold text/,
      undefined,
    ],
    [
      "text element without text",
      (r) => r.push([rawElement("text", { $id: "t1" })]),
      /must hold a text node/,
      undefined,
    ],
  ];
  for (const [name, edit, re, attribute] of cases) {
    const update = rogueUpdate(doc, edit);
    const result = doc.checkUpdate(update);
    assert.equal(result.ok, false, name);
    if (result.ok) continue;
    assert.ok(result.error instanceof MeshSchemaValidationError, name);
    assert.match(result.error.message, re, name);
    assert.equal(result.error.attribute, attribute, name);
    assert.throws(() => doc.applyUpdate(update, { validate: true }), MeshSchemaValidationError);
    assert.equal(JSON.stringify(doc.toJson({ includeIds: true })), json, name);
    assert.deepEqual(doc.encodeStateVector(), sv, name);
  }
  // Value checks can be turned off; a good update passes and applies.
  const typeOnly = rogueUpdate(doc, (r) => r.setAttribute("version", "x"));
  assert.deepEqual(doc.checkUpdate(typeOnly, { checkValues: false }), { ok: true });
  const good = rogueUpdate(doc, (r) => r.push([rawElement("para", { $id: "p2", style: "quote" })]));
  assert.deepEqual(doc.checkUpdate(good), { ok: true });
  assert.equal(JSON.stringify(doc.toJson({ includeIds: true })), json);
  assert.equal(doc.applyUpdate(good, { validate: true }), true);
  assert.equal(doc.getElementById("p2")?.getAttribute("style"), "quote");
  assert.equal(doc.applyUpdate(good), false); // a duplicate changes nothing
  // Applying without validation accepts anything; validate() then reports it.
  doc.applyUpdate(rogueUpdate(doc, (r) => r.setAttribute("colour", "red")));
  assert.throws(() => doc.validate(), /attribute "colour" is not declared/);
  doc.dispose();
});

Deno.test("an update that depends on missing changes is refused by checkUpdate", () => {
  const a = new MeshDocument(schema);
  const b = new MeshDocument(schema);
  const updates: Uint8Array[] = [];
  a.onLocalUpdate((u) => updates.push(u));
  a.root.createChildElement("section");
  a.root.children[0].createChildElement("para", { style: "body" });
  const result = b.checkUpdate(updates[1]);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.error.message : "", /depends on changes/);
  assert.equal(b.checkUpdate(updates[0]).ok, true);
  a.dispose();
  b.dispose();
});

Deno.test("garbage bytes as an update give a clear error and change nothing", () => {
  const doc = MeshDocument.fromJson(schema, { notes: { title: "t", children: [] } });
  const sv = doc.encodeStateVector();
  const rand = prng(7);
  let refused = 0;
  for (let n = 1; n < 300; n++) {
    const bytes = new Uint8Array(n).map(() => Math.floor(rand() * 256));
    try {
      doc.applyUpdate(bytes);
    } catch (e) {
      assert.ok(e instanceof MeshDocumentError, String(e));
      assert.match(e.message, /not a Yjs v1 update|could not be applied/);
      assert.equal(e.code, 1002);
      refused++;
    }
    const check = doc.checkUpdate(bytes);
    if (!check.ok) assert.ok(check.error instanceof MeshDocumentError);
  }
  assert.ok(refused > 250, `only ${refused} garbage updates refused`);
  assert.deepEqual(doc.encodeStateVector(), sv);
  assert.deepEqual(doc.toJson(), { notes: { title: "t", children: [] } });
  // The base64 text of a valid update is refused with a hint.
  const wire = toWireUpdate(doc.encodeUpdate());
  assert.throws(() => doc.applyUpdate(wire), /base64 text, decode them with fromWireUpdate/);
  assert.throws(
    () => doc.encodeStateAsUpdate(new Uint8Array([255, 255, 255])),
    /not a Yjs state vector/,
  );
  assert.equal(doc.applyUpdate(new Uint8Array(0)), false);
  doc.dispose();
});

Deno.test("wire helpers encode and decode sync payloads as base64 text", () => {
  const doc = MeshDocument.fromJson(schema, { notes: { title: "w", children: [{ text: {} }] } });
  const wire = toWireUpdate(doc.encodeUpdate());
  assert.match(new TextDecoder().decode(wire), /^[A-Za-z0-9+/]+=*$/);
  const copy = MeshDocument.fromUpdate(schema, fromWireUpdate(wire));
  assert.deepEqual(copy.toJson(), doc.toJson());
  assert.deepEqual(fromWireUpdate(new Uint8Array(0)), new Uint8Array(0));
  assert.throws(() => fromWireUpdate(new TextEncoder().encode("not base64!")), MeshDocumentError);
  assert.throws(() => fromWireUpdate(new Uint8Array([0, 1, 2])), MeshDocumentError);
  doc.dispose();
  copy.dispose();
});
