/**
 * ElementType: one element of a {@linkcode MeshSchema} — its tag, its value properties
 * (attributes holding JSON scalars) and at most one child property — parsed from and serialised
 * to the `$defs` entries of MeshSchema JSON (spec: protocol-data §2.6).
 *
 * @module
 */
import type { JsonObject } from "./packing.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import { describeValue, isPlainObject, typeOfScalar } from "./_json_value.ts";
import { refTo, tagOfRef } from "./_schema_ref.ts";

/**
 * The attribute name that holds an element's identity. Schemas may not declare it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ELEMENT_ID_ATTRIBUTE } from "@meshagent/api";
 * assert(ELEMENT_ID_ATTRIBUTE === "$id");
 * ```
 */
export const ELEMENT_ID_ATTRIBUTE = "$id";

/** The scalar types a value property may hold. */
export type SimpleValueType = "string" | "number" | "boolean" | "null";

/** A value an element attribute may hold: a JSON scalar. */
export type AttributeValue = string | number | boolean | null;

const SIMPLE_TYPES: readonly SimpleValueType[] = ["string", "number", "boolean", "null"];

function isSimpleType(value: unknown): value is SimpleValueType {
  return typeof value === "string" && (SIMPLE_TYPES as readonly string[]).includes(value);
}

/** Options of a {@linkcode ValueProperty}. */
export interface ValuePropertyInit {
  /** The attribute name. */
  name: string;
  /** A description for people and LLMs. */
  description?: string;
  /** The scalar type. */
  type: SimpleValueType;
  /** The allowed values, when the property is an enumeration. */
  enumValues?: readonly AttributeValue[];
  /** When true the value may not be `null`. Defaults to false. */
  required?: boolean;
}

/**
 * A value property: an element attribute holding a JSON scalar.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ValueProperty } from "@meshagent/api";
 * const p = new ValueProperty({ name: "title", type: "string" });
 * assert(p.accepts("x") && p.accepts(null) && !p.accepts(3));
 * ```
 */
export class ValueProperty {
  /** Always `"value"`. */
  readonly kind = "value" as const;
  /** The attribute name. */
  readonly name: string;
  /** A description, if any. */
  readonly description?: string;
  /** The scalar type. */
  readonly type: SimpleValueType;
  /** The allowed values of an enumeration. */
  readonly enumValues?: readonly AttributeValue[];
  /** Whether `null` is refused. */
  readonly required: boolean;

  /**
   * Creates the property.
   *
   * @param init The property definition.
   */
  constructor(init: ValuePropertyInit) {
    this.name = init.name;
    if (init.description !== undefined) this.description = init.description;
    this.type = init.type;
    if (init.enumValues !== undefined) this.enumValues = [...init.enumValues];
    this.required = init.required ?? false;
  }

  /**
   * Tells whether a value fits this property (type, nullability and enumeration).
   *
   * @param value The candidate value.
   * @returns True when the value is allowed.
   */
  accepts(value: unknown): boolean {
    return this.problemWith(value) === undefined;
  }

  /**
   * Describes why a value does not fit, or returns undefined when it does.
   *
   * @param value The candidate value.
   * @returns A short reason, or undefined.
   */
  problemWith(value: unknown): string | undefined {
    const t = typeOfScalar(value);
    if (t === undefined) {
      return `${describeValue(value)} is not a JSON scalar (string, number, boolean or null)`;
    }
    if (t === "null") {
      if (this.type === "null" || !this.required) return undefined;
      return `null is not allowed, the property is a required ${this.type}`;
    }
    if (t !== this.type) return `expected a ${this.type}, got ${describeValue(value)}`;
    if (this.enumValues && !this.enumValues.includes(value as AttributeValue)) {
      return `${describeValue(value)} is not one of ${JSON.stringify(this.enumValues)}`;
    }
    return undefined;
  }

  /**
   * The property JSON (the value under the property name in the element type JSON).
   *
   * @returns The JSON object.
   */
  toJson(): JsonObject {
    const out: JsonObject = { type: this.required ? this.type : [this.type, "null"] };
    if (this.enumValues) out.enum = [...this.enumValues];
    if (this.description) out.description = this.description;
    return out;
  }
}

/** Options of a {@linkcode ChildProperty}. */
export interface ChildPropertyInit {
  /** The property name (used as the child list key in document JSON). */
  name: string;
  /** A description for people and LLMs. */
  description?: string;
  /** The tags of the allowed children. */
  childTagNames: readonly string[];
  /** Serialise as `prefixItems` (ordered) rather than `items.anyOf`. Defaults to false. */
  ordered?: boolean;
}

/**
 * A child property: the ordered children of an element, limited to some tags.
 *
 * Like both official clients, an ordered property only limits which tags may appear; it does
 * not force their positions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChildProperty } from "@meshagent/api";
 * const p = new ChildProperty({ name: "children", childTagNames: ["para"] });
 * assert(p.isTagAllowed("para") && !p.isTagAllowed("page"));
 * ```
 */
export class ChildProperty {
  /** Always `"child"`. */
  readonly kind = "child" as const;
  /** The property name. */
  readonly name: string;
  /** A description, if any. */
  readonly description?: string;
  /** The tags of the allowed children. */
  readonly childTagNames: readonly string[];
  /** Whether the JSON form is `prefixItems`. */
  readonly ordered: boolean;

  /**
   * Creates the property.
   *
   * @param init The property definition.
   */
  constructor(init: ChildPropertyInit) {
    this.name = init.name;
    if (init.description !== undefined) this.description = init.description;
    this.childTagNames = [...init.childTagNames];
    this.ordered = init.ordered ?? false;
  }

  /**
   * Tells whether a child with this tag is allowed.
   *
   * @param tagName The child tag.
   * @returns True when allowed.
   */
  isTagAllowed(tagName: string): boolean {
    return this.childTagNames.includes(tagName);
  }

  /**
   * The property JSON (the value under the property name in the element type JSON).
   *
   * @returns The JSON object.
   */
  toJson(): JsonObject {
    const out: JsonObject = {};
    if (this.description) out.description = this.description;
    out.type = "array";
    const refs = this.childTagNames.map((t) => ({ $ref: refTo(t) }));
    if (this.ordered) {
      out.prefixItems = refs;
      out.items = false;
    } else {
      out.items = { anyOf: refs };
    }
    return out;
  }
}

/** A property of an element type. */
export type ElementProperty = ValueProperty | ChildProperty;

/** Options of an {@linkcode ElementType}. */
export interface ElementTypeInit {
  /** The tag name. */
  tagName: string;
  /** A description for people and LLMs. */
  description?: string;
  /** The properties: value properties and at most one child property. */
  properties: readonly ElementProperty[];
}

/**
 * An element type: a tag, its value properties and its (at most one) child property.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChildProperty, ElementType, ValueProperty } from "@meshagent/api";
 * const page = new ElementType({
 *   tagName: "page",
 *   properties: [
 *     new ValueProperty({ name: "title", type: "string" }),
 *     new ChildProperty({ name: "children", childTagNames: ["para"] }),
 *   ],
 * });
 * assert(page.childProperty?.name === "children");
 * ```
 */
export class ElementType {
  /** The tag name. */
  readonly tagName: string;
  /** A description, if any. */
  readonly description?: string;
  /** Every property, in declaration order. */
  readonly properties: readonly ElementProperty[];
  /** The child property, if the element may have children. */
  readonly childProperty?: ChildProperty;
  readonly #lookup = new Map<string, ElementProperty>();

  /**
   * Creates the element type.
   *
   * @param init The definition.
   * @throws {MeshSchemaValidationError} On an empty tag, duplicate property names, a property
   *   named `$id` or more than one child property.
   */
  constructor(init: ElementTypeInit) {
    if (typeof init.tagName !== "string" || init.tagName === "") {
      throw new MeshSchemaValidationError("an element type needs a non-empty tag name");
    }
    this.tagName = init.tagName;
    if (init.description !== undefined) this.description = init.description;
    this.properties = [...init.properties];
    for (const p of this.properties) {
      const where = { element: this.tagName, attribute: p.name };
      if (typeof p.name !== "string" || p.name === "") {
        throw new MeshSchemaValidationError(
          `element type "${this.tagName}" has a property without a name`,
          { element: this.tagName },
        );
      }
      if (p.name === ELEMENT_ID_ATTRIBUTE) {
        throw new MeshSchemaValidationError(
          `element type "${this.tagName}" declares "${ELEMENT_ID_ATTRIBUTE}", which is reserved for element ids; rename the property`,
          where,
        );
      }
      if (this.#lookup.has(p.name)) {
        throw new MeshSchemaValidationError(
          `element type "${this.tagName}" declares property "${p.name}" twice`,
          where,
        );
      }
      if (p.kind === "child") {
        if (this.childProperty) {
          throw new MeshSchemaValidationError(
            `element type "${this.tagName}" has two child properties ("${this.childProperty.name}" and "${p.name}"); only one is allowed`,
            where,
          );
        }
        this.childProperty = p;
      }
      this.#lookup.set(p.name, p);
    }
  }

  /** The value properties, in declaration order. */
  get valueProperties(): ValueProperty[] {
    return this.properties.filter((p): p is ValueProperty => p.kind === "value");
  }

  /**
   * Looks up a property by name.
   *
   * @param name The property name.
   * @returns The property, or undefined.
   */
  property(name: string): ElementProperty | undefined {
    return this.#lookup.get(name);
  }

  /**
   * Looks up a value property by name.
   *
   * @param name The attribute name.
   * @returns The value property, or undefined when there is none (or it is the child property).
   */
  valueProperty(name: string): ValueProperty | undefined {
    const p = this.#lookup.get(name);
    return p?.kind === "value" ? p : undefined;
  }

  /**
   * Parses an element type JSON (one entry of `$defs`).
   *
   * @param json The element type JSON.
   * @param defName The `$defs` key, used in error messages.
   * @returns The element type.
   * @throws {MeshSchemaValidationError} When the JSON is not an element type.
   */
  static fromJson(json: unknown, defName?: string): ElementType {
    const label = defName === undefined ? "element type" : `$defs.${defName}`;
    if (!isPlainObject(json)) throw new MeshSchemaValidationError(`${label} must be an object`);
    const description = json.description;
    if (description !== undefined && description !== null && typeof description !== "string") {
      throw new MeshSchemaValidationError(`${label}.description must be a string`);
    }
    const outer = json.properties;
    if (!isPlainObject(outer) || Object.keys(outer).length === 0) {
      throw new MeshSchemaValidationError(
        `${label}.properties must be an object whose first key is the tag name`,
      );
    }
    const [tagName, inner] = Object.entries(outer)[0];
    if (!isPlainObject(inner)) {
      throw new MeshSchemaValidationError(`${label}.properties.${tagName} must be an object`, {
        element: tagName,
      });
    }
    const propsJson = inner.properties ?? {};
    if (!isPlainObject(propsJson)) {
      throw new MeshSchemaValidationError(
        `${label}.properties.${tagName}.properties must be an object`,
        { element: tagName },
      );
    }
    const properties: ElementProperty[] = [];
    for (const [name, pj] of Object.entries(propsJson)) {
      properties.push(propertyFromJson(tagName, name, pj));
    }
    return new ElementType({
      tagName,
      description: typeof description === "string" ? description : undefined,
      properties,
    });
  }

  /**
   * Serialises the element type JSON (the `$defs` entry).
   *
   * @returns The JSON object.
   */
  toJson(): JsonObject {
    const props: JsonObject = {};
    for (const p of this.properties) props[p.name] = p.toJson();
    const out: JsonObject = { type: "object", additionalProperties: false };
    if (this.description) out.description = this.description;
    out.required = [this.tagName];
    out.properties = {
      [this.tagName]: {
        type: "object",
        additionalProperties: false,
        required: this.properties.map((p) => p.name),
        properties: props,
      },
    };
    return out;
  }
}

function refTag(ref: unknown, where: { element: string; attribute: string }): string {
  if (!isPlainObject(ref) || typeof ref.$ref !== "string") {
    throw new MeshSchemaValidationError(
      `child property "${where.attribute}" of "${where.element}" must list {"$ref":"#/$defs/<tag>"} objects`,
      where,
    );
  }
  return tagOfRef(ref.$ref);
}

function propertyFromJson(tagName: string, name: string, json: unknown): ElementProperty {
  const where = { element: tagName, attribute: name };
  const at = `property "${name}" of "${tagName}"`;
  if (!isPlainObject(json)) throw new MeshSchemaValidationError(`${at} must be an object`, where);
  const description = json.description;
  if (description !== undefined && description !== null && typeof description !== "string") {
    throw new MeshSchemaValidationError(`${at}: description must be a string`, where);
  }
  const desc = typeof description === "string" ? description : undefined;
  let type = json.type;
  let required = true;
  if (Array.isArray(type)) {
    if (type.length === 0) {
      throw new MeshSchemaValidationError(`${at}: "type" is an empty array`, where);
    }
    type = type[0];
    required = false;
  }
  if (type === "array") {
    if (Array.isArray(json.prefixItems)) {
      return new ChildProperty({
        name,
        description: desc,
        childTagNames: json.prefixItems.map((r) => refTag(r, where)),
        ordered: true,
      });
    }
    if (isPlainObject(json.items) && Array.isArray(json.items.anyOf)) {
      return new ChildProperty({
        name,
        description: desc,
        childTagNames: json.items.anyOf.map((r) => refTag(r, where)),
      });
    }
    throw new MeshSchemaValidationError(
      `${at}: an array property needs "items": {"anyOf": [...]} or "prefixItems": [...]`,
      where,
    );
  }
  if (!isSimpleType(type)) {
    throw new MeshSchemaValidationError(
      `${at}: type ${JSON.stringify(type)} is not one of string, number, boolean, null or array`,
      where,
    );
  }
  let enumValues: AttributeValue[] | undefined;
  if (json.enum !== undefined && json.enum !== null) {
    if (!Array.isArray(json.enum) || json.enum.some((v) => typeOfScalar(v) === undefined)) {
      throw new MeshSchemaValidationError(`${at}: "enum" must be an array of JSON scalars`, where);
    }
    enumValues = json.enum as AttributeValue[];
  }
  return new ValueProperty({ name, description: desc, type, enumValues, required });
}
