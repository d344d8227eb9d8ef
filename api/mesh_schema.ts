/**
 * MeshSchema: the element types a MeshDocument may contain, parsed from and serialised to the
 * JSON-Schema-compatible form the MeshAgent clients exchange (spec: protocol-data §2.6).
 *
 * @module
 */
import type { JsonObject } from "./packing.ts";
import { ElementType } from "./element_type.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import { isPlainObject } from "./_json_value.ts";
import { unwrapRootJson, validateElementJson } from "./_document_json.ts";
import { refTo, tagOfRef } from "./_schema_ref.ts";

/** Options of a {@linkcode MeshSchema}. */
export interface MeshSchemaInit {
  /** The tag of the root element type. */
  rootTagName: string;
  /** Every element type, the root included. */
  elements: readonly ElementType[];
}

/** Options of document validation. */
export interface DocumentValidationOptions {
  /**
   * Check attribute values against their property types and enumerations. Defaults to true.
   * Turn it off to check only tags and attribute names, as the official clients do.
   */
  checkValues?: boolean;
}

/**
 * A MeshSchema: the element types of a document and which children and attributes each allows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshSchema } from "@meshagent/api";
 * const schema = MeshSchema.fromJson({
 *   $root_tag_ref: "#/$defs/page",
 *   $defs: {
 *     page: {
 *       type: "object",
 *       properties: {
 *         page: {
 *           type: "object",
 *           properties: {
 *             title: { type: ["string", "null"] },
 *             children: { type: "array", items: { anyOf: [{ $ref: "#/$defs/para" }] } },
 *           },
 *         },
 *       },
 *     },
 *     para: { type: "object", properties: { para: { type: "object", properties: {} } } },
 *   },
 * });
 * assert(schema.root.tagName === "page");
 * schema.validateDocument({ page: { title: "Hi", children: [{ para: {} }] } });
 * ```
 */
export class MeshSchema {
  /** The tag of the root element type. */
  readonly rootTagName: string;
  /** Every element type, in declaration order. */
  readonly elements: readonly ElementType[];
  readonly #byTag = new Map<string, ElementType>();

  /**
   * Creates and validates the schema.
   *
   * @param init The root tag and the element types.
   * @throws {MeshSchemaValidationError} On duplicate tags, a missing root type or a child
   *   property that names an unknown tag.
   */
  constructor(init: MeshSchemaInit) {
    this.rootTagName = init.rootTagName;
    this.elements = [...init.elements];
    for (const e of this.elements) {
      if (this.#byTag.has(e.tagName)) {
        throw new MeshSchemaValidationError(`element type "${e.tagName}" is defined twice`, {
          element: e.tagName,
        });
      }
      this.#byTag.set(e.tagName, e);
    }
    if (!this.#byTag.has(this.rootTagName)) {
      throw new MeshSchemaValidationError(
        `the root tag "${this.rootTagName}" has no element type; add it to $defs`,
        { element: this.rootTagName },
      );
    }
    for (const e of this.elements) {
      const child = e.childProperty;
      if (!child) continue;
      for (const tag of child.childTagNames) {
        if (!this.#byTag.has(tag)) {
          throw new MeshSchemaValidationError(
            `child property "${child.name}" of "${e.tagName}" refers to "${tag}", which has no element type`,
            { element: e.tagName, attribute: child.name },
          );
        }
      }
    }
  }

  /** The root element type. */
  get root(): ElementType {
    return this.#byTag.get(this.rootTagName)!;
  }

  /**
   * Looks up an element type.
   *
   * @param tagName The tag.
   * @returns The element type.
   * @throws {MeshSchemaValidationError} When the schema has no such tag.
   */
  element(tagName: string): ElementType {
    const e = this.#byTag.get(tagName);
    if (!e) {
      throw new MeshSchemaValidationError(`the schema has no element type "${tagName}"`, {
        element: tagName,
      });
    }
    return e;
  }

  /**
   * Looks up an element type without throwing.
   *
   * @param tagName The tag.
   * @returns The element type, or undefined.
   */
  findElement(tagName: string): ElementType | undefined {
    return this.#byTag.get(tagName);
  }

  /**
   * Parses MeshSchema JSON (spec §2.6), as produced by {@linkcode MeshSchema.toJson} or by the
   * official clients.
   *
   * @param json The schema JSON (an object, or a JSON string).
   * @returns The schema.
   * @throws {MeshSchemaValidationError} With a message that names the part at fault.
   */
  static fromJson(json: unknown): MeshSchema {
    if (typeof json === "string") {
      try {
        json = JSON.parse(json);
      } catch (e) {
        throw new MeshSchemaValidationError(
          `the schema is not valid JSON: ${(e as Error).message}`,
        );
      }
    }
    if (!isPlainObject(json)) throw new MeshSchemaValidationError("a MeshSchema must be an object");
    const ref = json.$root_tag_ref;
    if (typeof ref !== "string" || ref === "") {
      throw new MeshSchemaValidationError(
        'a MeshSchema needs "$root_tag_ref": "#/$defs/<root tag>"',
      );
    }
    const rootTagName = tagOfRef(ref);
    const defs = json.$defs;
    if (!isPlainObject(defs)) {
      throw new MeshSchemaValidationError('a MeshSchema needs "$defs": an object of element types');
    }
    const elements: ElementType[] = [];
    for (const [key, def] of Object.entries(defs)) {
      const e = ElementType.fromJson(def, key);
      if (e.tagName !== key) {
        throw new MeshSchemaValidationError(
          `$defs.${key} defines tag "${e.tagName}"; the key and the tag must be the same`,
          { element: e.tagName },
        );
      }
      elements.push(e);
    }
    return new MeshSchema({ rootTagName, elements });
  }

  /**
   * Serialises the schema to MeshSchema JSON (spec §2.6).
   *
   * @returns The JSON object.
   */
  toJson(): JsonObject {
    const defs: JsonObject = {};
    for (const e of this.elements) defs[e.tagName] = e.toJson();
    return {
      $root_tag_ref: refTo(this.rootTagName),
      $defs: defs,
      ...this.root.toJson(),
    };
  }

  /**
   * Validates document JSON (spec §2.9) against the schema: the root tag, every child tag,
   * every attribute name and (unless turned off) every attribute value.
   *
   * The root may be given wrapped (`{"<root>": {...}}`) or as its bare content object.
   *
   * @param json The document JSON.
   * @param options What to check.
   * @throws {MeshSchemaValidationError} Naming the element and attribute at fault.
   */
  validateDocument(json: unknown, options: DocumentValidationOptions = {}): void {
    const content = unwrapRootJson(this, json);
    validateElementJson(this, this.root, content, this.rootTagName, options.checkValues ?? true);
  }
}
