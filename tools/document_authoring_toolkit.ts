import {
  type AttributeValue,
  ErrorCode,
  type JsonObject,
  type MeshSchema,
  type RoomClient,
} from "@meshagent/api";
import { DocumentAccess, documentPath, elementById, elementResult } from "./_open_documents.ts";
import { SCALAR_SCHEMA, strictObject } from "./_tool_room.ts";
import { FunctionTool, type Tool } from "./tool.ts";
import { ToolError } from "./tool_error.ts";
import { Toolkit } from "./toolkit.ts";

/** Options of a {@linkcode DocumentAuthoringToolkit}. */
export interface DocumentAuthoringToolkitOptions {
  /**
   * Schemas for new documents, by file extension without the dot (`{"page": pageSchema}`).
   * Without one, the room resolves the schema (`.schemas/<extension>.json` in room storage).
   */
  schemas?: Readonly<Record<string, MeshSchema>>;
  /** The room to use when a call's context has none (default: the context's room only). */
  room?: RoomClient | null;
  /** Whether the toolkit is public once hosted (default false). */
  public?: boolean;
  /** How long opening a document or storing an edit may take, in ms (default 30000). */
  timeout?: number;
}

const PATH: JsonObject = {
  type: "string",
  description: 'The document\'s path in the room, e.g. "notes/plan.page"',
};

interface PathArgs {
  path: string;
}
interface SetAttributeArgs {
  path: string;
  id: string | null;
  name: string;
  value: AttributeValue;
}
interface RemoveArgs {
  path: string;
  id: string;
}
interface InsertArgs {
  path: string;
  parent_id: string | null;
  tag_name: string;
  attributes: { name: string; value: AttributeValue }[];
  index: number | null;
}

function makeTools(access: DocumentAccess): Tool[] {
  return [
    new FunctionTool<PathArgs>({
      name: "meshagent.document.open",
      title: "open document",
      description: "Opens a document in the room (creating it when it does not exist) and " +
        "returns its content with element ids and its schema",
      strict: true,
      inputSchema: strictObject({ path: PATH }),
      run: async (ctx, { path: raw }) => {
        const { path, doc } = await access.open(ctx, raw);
        return {
          path,
          document: doc.toJson({ includeIds: true }),
          schema: doc.schema.toJson(),
        };
      },
    }),
    new FunctionTool<PathArgs>({
      name: "meshagent.document.close",
      title: "close document",
      description: "Closes a document opened with meshagent.document.open",
      strict: true,
      inputSchema: strictObject({ path: PATH }),
      run: async (ctx, { path }) => {
        const closed = await access.close(ctx, path);
        if (!closed) {
          throw new ToolError(
            `the document ${JSON.stringify(path)} is not open`,
            ErrorCode.SYNC_NOT_CONNECTED,
          );
        }
        return { path: documentPath(path), closed: true };
      },
    }),
    new FunctionTool<PathArgs>({
      name: "get_document",
      title: "get document",
      description: "Returns the content of an open document, with the id ($id) of every " +
        "element",
      strict: true,
      inputSchema: strictObject({ path: PATH }),
      run: async (ctx, { path: raw }) => {
        const { path, doc } = await access.get(ctx, raw);
        return { path, document: doc.toJson({ includeIds: true }) };
      },
    }),
    new FunctionTool<InsertArgs>({
      name: "insert_element",
      title: "insert element",
      description: "Inserts a new element under a parent element; the document's schema " +
        "decides which tags and attributes are allowed where",
      strict: true,
      inputSchema: strictObject({
        path: PATH,
        parent_id: {
          type: ["string", "null"],
          description: "The $id of the parent element, or null for the root",
        },
        tag_name: { type: "string", description: "The new element's tag" },
        attributes: {
          type: "array",
          description: "The new element's attributes",
          items: strictObject({ name: { type: "string" }, value: SCALAR_SCHEMA }),
        },
        index: {
          type: ["integer", "null"],
          description: "The position among the parent's children (null: at the end)",
        },
      }),
      run: async (ctx, args) => {
        const { path, doc } = await access.get(ctx, args.path);
        const parent = elementById(doc, path, args.parent_id);
        const attributes: Record<string, AttributeValue> = {};
        for (const { name, value } of args.attributes) {
          if (name in attributes) {
            throw new ToolError(`the attribute ${name} is given twice`, ErrorCode.INVALID_REQUEST);
          }
          attributes[name] = value;
        }
        const element = parent.createChildElement(
          args.tag_name,
          attributes,
          args.index === null ? {} : { index: args.index },
        );
        await access.store(ctx, path);
        return elementResult(path, element);
      },
    }),
    new FunctionTool<SetAttributeArgs>({
      name: "set_attribute",
      title: "set attribute",
      description: "Sets an attribute of an element (null id: the root element)",
      strict: true,
      inputSchema: strictObject({
        path: PATH,
        id: { type: ["string", "null"], description: "The element's $id, or null for the root" },
        name: { type: "string", description: "The attribute name" },
        value: SCALAR_SCHEMA,
      }),
      run: async (ctx, args) => {
        const { path, doc } = await access.get(ctx, args.path);
        const element = elementById(doc, path, args.id);
        element.setAttribute(args.name, args.value);
        await access.store(ctx, path);
        return elementResult(path, element);
      },
    }),
    new FunctionTool<RemoveArgs>({
      name: "remove_element_by_id",
      title: "remove element",
      description: "Removes an element, and everything in it, from a document",
      strict: true,
      inputSchema: strictObject({
        path: PATH,
        id: { type: "string", description: "The element's $id" },
      }),
      run: async (ctx, args) => {
        const { path, doc } = await access.get(ctx, args.path);
        const element = elementById(doc, path, args.id);
        if (element.isRoot) {
          throw new ToolError("the root element cannot be removed", ErrorCode.INVALID_REQUEST);
        }
        element.delete();
        await access.store(ctx, path);
        return { path, removed: args.id };
      },
    }),
  ];
}

/**
 * Tools an agent uses to edit MeshDocuments in the room (agents.md §3, toolkit
 * `meshagent.document_authoring`), through the room's sync service on live documents that every
 * participant sees change:
 *
 * - `meshagent.document.open {path}` → `{path, document, schema}` (creates a missing document,
 *   with the schema given for its extension in {@linkcode DocumentAuthoringToolkitOptions.schemas}
 *   or the one the room resolves)
 * - `meshagent.document.close {path}` → `{path, closed}`
 * - `get_document {path}` → `{path, document}` (document JSON with each element's `$id`)
 * - `insert_element {path, parent_id, tag_name, attributes: [{name, value}], index}` →
 *   `{path, id, element}`
 * - `set_attribute {path, id, name, value}` → `{path, id, element}`
 * - `remove_element_by_id {path, id}` → `{path, removed}`
 *
 * Editing tools open a document that exists when it is not open yet. The schema is checked
 * before anything changes: a tag or attribute it does not allow fails with a
 * `MeshSchemaValidationError`'s message (code 1002) and leaves the document as it was. Each
 * edit resolves once the room has stored it. Input schemas are strict (all properties required,
 * optional ones nullable).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DocumentAuthoringToolkit } from "@meshagent/tools";
 *
 * const authoring = new DocumentAuthoringToolkit();
 * assert(authoring.name === "meshagent.document_authoring");
 * assert(authoring.tools.map((t) => t.name).includes("remove_element_by_id"));
 * // Host it in a room (startHostedToolkit) or hand it to an agent; the tools use the room of
 * // each call's ToolContext.
 * ```
 */
export class DocumentAuthoringToolkit extends Toolkit {
  /**
   * Creates the toolkit.
   *
   * @param options Schemas for new documents, the room, visibility and timeout.
   */
  constructor(options: DocumentAuthoringToolkitOptions = {}) {
    const name = "meshagent.document_authoring";
    super({
      name,
      title: "document authoring",
      description: "Open, read and edit MeshDocuments in the room",
      public: options.public ?? false,
      tools: makeTools(new DocumentAccess(name, options)),
    });
  }
}
