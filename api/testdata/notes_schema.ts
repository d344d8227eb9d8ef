// Test fixture: a schema with nesting, every value type, an enumeration and text elements.
import { ChildProperty, ElementType, ValueProperty } from "../element_type.ts";
import { MeshSchema } from "../mesh_schema.ts";

/** The `notes` schema used by the MeshDocument tests. */
export function notesSchema(): MeshSchema {
  return new MeshSchema({
    rootTagName: "notes",
    elements: [
      new ElementType({
        tagName: "notes",
        description: "a page of notes",
        properties: [
          new ValueProperty({ name: "title", type: "string" }),
          new ValueProperty({ name: "version", type: "number" }),
          new ValueProperty({ name: "pinned", type: "boolean" }),
          new ChildProperty({ name: "children", childTagNames: ["section", "para", "text"] }),
        ],
      }),
      new ElementType({
        tagName: "section",
        properties: [
          new ValueProperty({ name: "heading", type: "string", description: "the heading" }),
          new ChildProperty({ name: "content", childTagNames: ["para", "text"] }),
        ],
      }),
      new ElementType({
        tagName: "para",
        properties: [
          new ValueProperty({
            name: "style",
            type: "string",
            enumValues: ["body", "quote"],
            required: true,
          }),
          new ValueProperty({ name: "weight", type: "number" }),
        ],
      }),
      new ElementType({ tagName: "text", properties: [] }),
    ],
  });
}
