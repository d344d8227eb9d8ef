// Private: helpers for document JSON (spec §2.9) shared by MeshSchema and MeshDocument.
import type { JsonObject } from "./packing.ts";
import { ELEMENT_ID_ATTRIBUTE, type ElementType } from "./element_type.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import { isPlainObject } from "./_json_value.ts";

/** What these helpers need of a MeshSchema: its root tag and its element types by tag. */
export interface SchemaLookup {
  /** The tag of the root element type. */
  readonly rootTagName: string;
  /** The element type of a tag; throws a MeshSchemaValidationError when there is none. */
  element(tagName: string): ElementType;
}

/**
 * Returns the content object of document JSON: unwraps `{"<root>": {...}}`, else takes the
 * object as the root's content.
 */
export function unwrapRootJson(schema: SchemaLookup, json: unknown): JsonObject {
  if (!isPlainObject(json)) {
    throw new MeshSchemaValidationError(
      `document JSON must be an object like {"${schema.rootTagName}": {...}}`,
      { element: schema.rootTagName },
    );
  }
  const keys = Object.keys(json);
  if (keys.length === 1 && keys[0] === schema.rootTagName && isPlainObject(json[keys[0]])) {
    return json[keys[0]] as JsonObject;
  }
  return json;
}

/** Returns `[tag, content]` of element JSON `{"<tag>": {...}}`, or throws. */
export function splitElementJson(json: unknown, where: string): [string, JsonObject] {
  if (!isPlainObject(json) || Object.keys(json).length !== 1) {
    throw new MeshSchemaValidationError(
      `${where}: an element must be an object with a single key, its tag: {"<tag>": {...}}`,
      { element: where },
    );
  }
  const [tag, content] = Object.entries(json)[0];
  if (!isPlainObject(content)) {
    throw new MeshSchemaValidationError(
      `${where}: the value of element "${tag}" must be an object of attributes and children`,
      { element: tag },
    );
  }
  return [tag, content];
}

/** The key of the child list of `text` elements whose type declares no child property. */
export const TEXT_CHILDREN_KEY = "children";

/** Returns the key of an element's child list in document JSON, if it has one. */
export function childListKey(type: ElementType): string | undefined {
  return type.childProperty?.name ?? (type.tagName === "text" ? TEXT_CHILDREN_KEY : undefined);
}

/** Tells whether a child list entry is a text run `{"text":{"delta":[...]}}`. */
export function isTextRunJson(json: unknown): json is { text: { delta: unknown[] } } {
  if (!isPlainObject(json)) return false;
  const keys = Object.keys(json);
  if (keys.length !== 1 || keys[0] !== "text") return false;
  const inner = json.text;
  return isPlainObject(inner) && Object.keys(inner).length === 1 && Array.isArray(inner.delta);
}

export function validateElementJson(
  schema: SchemaLookup,
  type: ElementType,
  content: JsonObject,
  label: string,
  checkValues: boolean,
): void {
  const listKey = childListKey(type);
  for (const [key, value] of Object.entries(content)) {
    if (key === ELEMENT_ID_ATTRIBUTE) {
      if (typeof value !== "string" || value === "") {
        throw new MeshSchemaValidationError(`${label}: "$id" must be a non-empty string`, {
          element: label,
          attribute: key,
        });
      }
      continue;
    }
    if (key === listKey) {
      if (!Array.isArray(value)) {
        throw new MeshSchemaValidationError(
          `${label}: child list "${key}" must be an array of elements`,
          { element: label, attribute: key },
        );
      }
      value.forEach((child, i) => {
        const at = `${label}.${key}[${i}]`;
        if (type.tagName === "text" && isTextRunJson(child)) return;
        const [tag, childContent] = splitElementJson(child, at);
        if (!type.childProperty?.isTagAllowed(tag)) {
          throw new MeshSchemaValidationError(
            `${at}: "${tag}" is not allowed in "${type.tagName}"` +
              (type.childProperty
                ? ` (allowed: ${type.childProperty.childTagNames.join(", ")})`
                : " (it has no child property)"),
            { element: label, attribute: key },
          );
        }
        validateElementJson(schema, schema.element(tag), childContent, `${at}.${tag}`, checkValues);
      });
      continue;
    }
    const prop = type.property(key);
    if (!prop || prop.kind !== "value") {
      throw new MeshSchemaValidationError(
        `${label}: attribute "${key}" is not declared by element type "${type.tagName}"`,
        { element: label, attribute: key },
      );
    }
    if (checkValues) {
      const problem = prop.problemWith(value);
      if (problem) {
        throw new MeshSchemaValidationError(
          `${label}: attribute "${key}": ${problem}`,
          { element: label, attribute: key },
        );
      }
    }
  }
}
