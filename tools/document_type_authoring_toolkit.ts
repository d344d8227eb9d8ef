import {
  type AttributeValue,
  type ElementType,
  ErrorCode,
  type JsonObject,
  type MeshSchema,
  type RoomClient,
  type ValueProperty,
} from "@meshagent/api";
import { DocumentAccess, elementById, elementResult } from "./_open_documents.ts";
import { strictObject } from "./_tool_room.ts";
import { FunctionTool, type Tool } from "./tool.ts";
import type { ToolContext } from "./tool_context.ts";
import { ToolError } from "./tool_error.ts";
import { Toolkit } from "./toolkit.ts";

/** Options of a {@linkcode DocumentTypeAuthoringToolkit}. */
export interface DocumentTypeAuthoringToolkitOptions {
  /** The room to use when a call's context has none (default: the context's room only). */
  room?: RoomClient | null;
  /** Whether the toolkit is public once hosted (default false). */
  public?: boolean;
  /** How long opening a document or storing an edit may take, in ms (default 30000). */
  timeout?: number;
}

interface InsertArgs {
  path: string;
  parent_id?: string;
  index: number | null;
  attributes: Record<string, AttributeValue>;
  text?: string | null;
}

function toolPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_");
}

function attributeSchema(p: ValueProperty): JsonObject {
  const schema: JsonObject = {
    type: p.required || p.type === "null" ? p.type : [p.type, "null"],
  };
  if (p.enumValues) {
    schema.enum = p.required || p.enumValues.includes(null)
      ? [...p.enumValues]
      : [...p.enumValues, null];
  }
  if (p.description) schema.description = p.description;
  return schema;
}

function insertTool(
  access: DocumentAccess,
  schema: MeshSchema,
  documentType: string,
  type: ElementType,
  parents: string[],
  atRoot: boolean,
): Tool {
  const tag = type.tagName;
  const name = `${toolPart(documentType)}_insert_${atRoot ? "root_" : ""}${toolPart(tag)}`;
  const attributes: JsonObject = {};
  for (const p of type.valueProperties) attributes[p.name] = attributeSchema(p);
  const properties: JsonObject = {
    path: { type: "string", description: `The path of the ${documentType} document` },
  };
  if (!atRoot) {
    properties.parent_id = {
      type: "string",
      description: `The $id of the parent element (${parents.join(" or ")})`,
    };
  }
  properties.index = {
    type: ["integer", "null"],
    description: "The position among the parent's children (null: at the end)",
  };
  properties.attributes = strictObject(attributes, `The attributes of the ${tag} element`);
  const isText = tag === "text";
  if (isText) {
    properties.text = { type: ["string", "null"], description: "The initial text" };
  }
  const where = atRoot ? `the ${schema.rootTagName} (root) element` : parents.join(" or ");
  return new FunctionTool<InsertArgs>({
    name,
    title: `insert ${tag}`,
    description: `Inserts a ${tag} element into ${where} of a ${documentType} document` +
      (type.description ? `. A ${tag}: ${type.description}` : ""),
    strict: true,
    inputSchema: strictObject(properties),
    run: async (ctx: ToolContext, args) => {
      const { path, doc } = await access.get(ctx, args.path);
      if (doc.schema.rootTagName !== schema.rootTagName) {
        throw new ToolError(
          `${path} is a ${doc.schema.rootTagName} document, not a ${documentType} document ` +
            `(root ${schema.rootTagName}); use the tools of its own type`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      const parent = atRoot ? doc.root : elementById(doc, path, args.parent_id ?? "");
      if (!atRoot && parent.isRoot) {
        throw new ToolError(
          `give parent_id; to insert into the root use ${documentType}_insert_root_${
            toolPart(tag)
          }`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      const values: Record<string, AttributeValue> = {};
      for (const [k, v] of Object.entries(args.attributes ?? {})) if (v !== null) values[k] = v;
      const element = parent.createChildElement(
        tag,
        values,
        args.index === null || args.index === undefined ? {} : { index: args.index },
      );
      if (isText && args.text) element.insertText(0, args.text);
      await access.store(ctx, path);
      return elementResult(path, element);
    },
  });
}

function makeTools(access: DocumentAccess, schema: MeshSchema, documentType: string): Tool[] {
  const tools: Tool[] = [];
  const root = schema.root;
  for (const type of schema.elements) {
    if (type.tagName === root.tagName) continue;
    if (root.childProperty?.isTagAllowed(type.tagName)) {
      tools.push(insertTool(access, schema, documentType, type, [root.tagName], true));
    }
    const parents = schema.elements
      .filter((p) => p.tagName !== root.tagName && p.childProperty?.isTagAllowed(type.tagName))
      .map((p) => p.tagName);
    if (parents.length > 0) {
      tools.push(insertTool(access, schema, documentType, type, parents, false));
    }
  }
  return tools;
}

/**
 * Typed insert tools for one document type (agents.md §3, toolkit
 * `meshagent.document_authoring.<type>`), generated from its schema: for each element type that
 * may be a child of another, `<type>_insert_<tag> {path, parent_id, index, attributes}`, and for
 * each one the root accepts, `<type>_insert_root_<tag> {path, index, attributes}`. `attributes`
 * is a strict object of the element's value properties (optional ones nullable; null leaves the
 * attribute unset); a `text` element's tool also takes its initial `text`.
 *
 * Use it next to a {@linkcode DocumentAuthoringToolkit} (which opens, reads and removes): the
 * tools share its open documents, and open an existing document themselves when needed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshSchema } from "@meshagent/api";
 * import { DocumentTypeAuthoringToolkit } from "@meshagent/tools";
 *
 * const schema = MeshSchema.fromJson({
 *   $root_tag_ref: "#/$defs/list",
 *   $defs: {
 *     list: { properties: { list: { properties: {
 *       items: { type: "array", items: { anyOf: [{ $ref: "#/$defs/item" }] } },
 *     } } } },
 *     item: { properties: { item: { properties: {
 *       label: { type: "string" },
 *       notes: { type: "array", items: { anyOf: [{ $ref: "#/$defs/item" }] } },
 *     } } } },
 *   },
 * });
 * const kit = new DocumentTypeAuthoringToolkit(schema, "list");
 * assert(kit.name === "meshagent.document_authoring.list");
 * assert(kit.tools.map((t) => t.name).join() === "list_insert_root_item,list_insert_item");
 * ```
 */
export class DocumentTypeAuthoringToolkit extends Toolkit {
  /** The schema the tools were generated from. */
  readonly schema: MeshSchema;
  /** The document type (usually the file extension). */
  readonly documentType: string;

  /**
   * Creates the toolkit.
   *
   * @param schema The document type's schema.
   * @param documentType The type name used in the toolkit and tool names (e.g. `"page"`).
   * @param options The room, visibility and timeout.
   * @throws {ToolError} 1002 for an empty type name; 1004 when two tags give the same tool name.
   */
  constructor(
    schema: MeshSchema,
    documentType: string,
    options: DocumentTypeAuthoringToolkitOptions = {},
  ) {
    if (documentType.trim() === "") {
      throw new ToolError("the document type needs a name", ErrorCode.INVALID_REQUEST);
    }
    const name = `meshagent.document_authoring.${documentType}`;
    super({
      name,
      title: `${documentType} authoring`,
      description: `Insert elements into ${documentType} documents`,
      public: options.public ?? false,
      tools: makeTools(new DocumentAccess(name, options), schema, documentType),
    });
    this.schema = schema;
    this.documentType = documentType;
  }
}
