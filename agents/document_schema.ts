/**
 * The plain `document` MeshSchema: a document of headings, body text and file references — what
 * `meshagent room sync create notes.document --schema document` creates, and a starting point
 * for agents that write documents. [impl] Modelled on the official SDKs' `document_schema`
 * (a root `document` whose ordered `content` holds `heading`, `body` and `file` elements); the
 * spec names that schema without its fields.
 *
 * @module
 */
import type { MeshSchema } from "@meshagent/api";
import { type SchemaElementSpec, schemaFromTable } from "./thread_schema.ts";

/** The `document` schema's elements, by tag. */
export const DOCUMENT_ELEMENTS: Readonly<Record<string, SchemaElementSpec>> = {
  document: {
    description: "a document of headings, body text and files",
    attributes: { title: ["string", "the document's title"] },
    children: {
      name: "content",
      tags: ["heading", "body", "file"],
      description: "the document's content, in order",
      ordered: true,
    },
  },
  heading: {
    description: "a heading",
    attributes: { text: ["string", "the heading's text"] },
  },
  body: {
    description: "a paragraph of body text",
    attributes: { text: ["string", "the paragraph's text (markdown)"] },
  },
  file: {
    description: "a file of the room, shown in the document",
    attributes: { path: ["string", "the file's room path"] },
  },
};

/**
 * The `document` schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshDocument } from "@meshagent/api";
 * import { documentSchema } from "@meshagent/agents";
 * const doc = new MeshDocument(documentSchema);
 * doc.root.setAttribute("title", "Notes");
 * doc.root.createChildElement("heading", { text: "Today" });
 * doc.root.createChildElement("body", { text: "It works." });
 * assert.deepEqual(doc.root.children.map((e) => e.tagName), ["heading", "body"]);
 * ```
 */
export const documentSchema: MeshSchema = schemaFromTable("document", DOCUMENT_ELEMENTS);
