// Private: the Yjs layout of a MeshDocument (spec: protocol-data §2.7) — reading and writing the
// attributes of a Y.XmlElement, building an element subtree from element JSON (validated), reading
// one back as JSON, finding an element by `$id`, and checking a whole tree against the schema.
import * as Y from "yjs";
import type { JsonObject } from "./packing.ts";
import { ELEMENT_ID_ATTRIBUTE, type ElementType } from "./element_type.ts";
import type { DocumentValidationOptions, MeshSchema } from "./mesh_schema.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import { MeshDocumentError } from "./mesh_document_error.ts";
import { describeValue, isPlainObject } from "./_json_value.ts";
import {
  childListKey,
  isTextRunJson,
  splitElementJson,
  TEXT_CHILDREN_KEY,
} from "./_document_json.ts";

/** The tag of elements that hold rich text. */
export const TEXT_TAG = "text";

// deno-lint-ignore no-explicit-any
type AnyXml = Y.XmlElement<Record<string, any>>;

export function yAttr(y: Y.XmlElement, name: string): unknown {
  return (y as AnyXml).getAttribute(name);
}

export function yAttrs(y: Y.XmlElement): Record<string, unknown> {
  return (y as AnyXml).getAttributes() as Record<string, unknown>;
}

export function ySetAttr(y: Y.XmlElement, name: string, value: unknown): void {
  (y as AnyXml).setAttribute(name, value as never);
}

/** Reads `$id` of an element, even when it has just been deleted (observer phase). */
export function readIdEvenIfDeleted(y: Y.XmlElement): string | undefined {
  const live = yAttr(y, ELEMENT_ID_ATTRIBUTE);
  if (typeof live === "string") return live;
  const item = (y as unknown as { _map: Map<string, { content?: { getContent(): unknown[] } }> })
    ._map.get(ELEMENT_ID_ATTRIBUTE);
  const value = item?.content?.getContent()[0];
  return typeof value === "string" ? value : undefined;
}

export function isDeleted(y: { _item: Y.Item | null }): boolean {
  return y._item !== null && y._item.deleted;
}

export function label(tag: string, id: unknown): string {
  return typeof id === "string" ? `${tag}#${id}` : tag;
}

export function elementChildren(y: Y.XmlElement): Y.XmlElement[] {
  return y.toArray().filter((c): c is Y.XmlElement => c instanceof Y.XmlElement);
}

export function sortedAttributeEntries(
  type: ElementType | undefined,
  attrs: Record<string, unknown>,
): [string, unknown][] {
  const out: [string, unknown][] = [];
  const seen = new Set<string>([ELEMENT_ID_ATTRIBUTE]);
  if (ELEMENT_ID_ATTRIBUTE in attrs) out.push([ELEMENT_ID_ATTRIBUTE, attrs[ELEMENT_ID_ATTRIBUTE]]);
  for (const p of type?.properties ?? []) {
    if (p.name in attrs) {
      out.push([p.name, attrs[p.name]]);
      seen.add(p.name);
    }
  }
  for (const k of Object.keys(attrs).sort()) if (!seen.has(k)) out.push([k, attrs[k]]);
  return out;
}

export function checkRange(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MeshDocumentError(`${what} ${value} is out of range (${min}..${max})`);
  }
}

export function checkAttribute(type: ElementType, at: string, name: string, value: unknown): void {
  const where = { element: at, attribute: name };
  if (name === ELEMENT_ID_ATTRIBUTE) {
    throw new MeshSchemaValidationError(`${at}: "$id" is set when the element is created`, where);
  }
  const prop = type.property(name);
  if (!prop || prop.kind !== "value") {
    throw new MeshSchemaValidationError(
      `${at}: attribute "${name}" is not declared by element type "${type.tagName}"` +
        (type.valueProperties.length
          ? ` (declared: ${type.valueProperties.map((p) => p.name).join(", ")})`
          : ""),
      where,
    );
  }
  const problem = prop.problemWith(value);
  if (problem) throw new MeshSchemaValidationError(`${at}: attribute "${name}": ${problem}`, where);
}

/** Builds an unintegrated Yjs element subtree from element JSON, validating it. */
export function buildElement(
  schema: MeshSchema,
  parentType: ElementType,
  parentLabel: string,
  json: unknown,
  where: string,
): Y.XmlElement {
  const [tag, content] = splitElementJson(json, `${parentLabel} ${where}`);
  const child = parentType.childProperty;
  if (!child?.isTagAllowed(tag)) {
    throw new MeshSchemaValidationError(
      `"${tag}" is not allowed in ${parentLabel}` +
        (child
          ? ` (allowed: ${child.childTagNames.join(", ")})`
          : ` (element type "${parentType.tagName}" has no child property)`),
      { element: parentLabel, attribute: child?.name },
    );
  }
  const type = schema.element(tag);
  const rawId = content[ELEMENT_ID_ATTRIBUTE];
  if (rawId !== undefined && (typeof rawId !== "string" || rawId === "")) {
    throw new MeshSchemaValidationError(`${tag}: "$id" must be a non-empty string`, {
      element: tag,
      attribute: ELEMENT_ID_ATTRIBUTE,
    });
  }
  const id = (rawId as string | undefined) ?? crypto.randomUUID();
  const at = label(tag, id);
  const y = new Y.XmlElement(tag);
  ySetAttr(y, ELEMENT_ID_ATTRIBUTE, id);
  const nodes = fillContent(schema, type, at, content, (name, value) => ySetAttr(y, name, value));
  if (tag === TEXT_TAG && !nodes.some((n) => n instanceof Y.XmlText)) {
    nodes.unshift(new Y.XmlText());
  }
  if (nodes.length) y.insert(0, nodes);
  return y;
}

/** Validates content (attributes + child list), sets attributes, returns built child nodes. */
export function fillContent(
  schema: MeshSchema,
  type: ElementType,
  at: string,
  content: JsonObject,
  setAttr: (name: string, value: unknown) => void,
): (Y.XmlElement | Y.XmlText)[] {
  const listKey = childListKey(type);
  const nodes: (Y.XmlElement | Y.XmlText)[] = [];
  const attrs: [string, unknown][] = [];
  const textNode = new Y.XmlText();
  let textDelta: unknown[] | undefined;
  for (const [key, value] of Object.entries(content)) {
    if (key === ELEMENT_ID_ATTRIBUTE) continue;
    if (key === listKey) {
      if (!Array.isArray(value)) {
        throw new MeshSchemaValidationError(
          `${at}: child list "${key}" must be an array of elements`,
          { element: at, attribute: key },
        );
      }
      value.forEach((c, i) => {
        if (type.tagName === TEXT_TAG && isTextRunJson(c)) {
          // A text element holds exactly one text node: every run goes into it.
          if (!textDelta) {
            textDelta = [];
            nodes.push(textNode);
          }
          textDelta.push(...checkDelta(c.text.delta, `${at}.${key}[${i}]`));
        } else {
          nodes.push(buildElement(schema, type, at, c, `${key}[${i}]`));
        }
      });
      continue;
    }
    checkAttribute(type, at, key, value);
    attrs.push([key, value]);
  }
  for (const [k, v] of attrs) setAttr(k, v);
  if (textDelta?.length) textNode.applyDelta(textDelta);
  return nodes;
}

export function checkDelta(delta: unknown[], at: string): unknown[] {
  for (const op of delta) {
    if (
      !isPlainObject(op) || (typeof op.insert !== "string" && !isPlainObject(op.insert)) ||
      (op.attributes !== undefined && !isPlainObject(op.attributes))
    ) {
      throw new MeshSchemaValidationError(
        `${at}: a text delta is a list of {"insert": "<text>", "attributes"?: {...}}, got ${
          describeValue(op)
        }`,
        { element: at },
      );
    }
  }
  return delta;
}

export function findById(y: Y.XmlElement, id: string): Y.XmlElement | undefined {
  if (yAttr(y, ELEMENT_ID_ATTRIBUTE) === id) return y;
  for (const c of elementChildren(y)) {
    const found = findById(c, id);
    if (found) return found;
  }
  return undefined;
}

export function elementToJson(
  schema: MeshSchema,
  y: Y.XmlElement,
  tag: string,
  includeIds: boolean,
): JsonObject {
  const type = schema.findElement(tag);
  const content: JsonObject = {};
  for (const [k, v] of sortedAttributeEntries(type, yAttrs(y))) {
    if (k === ELEMENT_ID_ATTRIBUTE && !includeIds) continue;
    content[k] = v;
  }
  const listKey = type ? childListKey(type) : TEXT_CHILDREN_KEY;
  const nodes = y.toArray();
  if (listKey && (type?.childProperty || nodes.length > 0)) {
    const list: JsonObject[] = [];
    for (const n of nodes) {
      if (n instanceof Y.XmlElement) list.push(elementToJson(schema, n, n.nodeName, includeIds));
      else if (n instanceof Y.XmlText) list.push({ text: { delta: n.toDelta() } });
    }
    content[listKey] = list;
  }
  return { [tag]: content };
}

/** Validates a whole Yjs element tree against the schema. */
export function validateTree(
  schema: MeshSchema,
  yroot: Y.XmlElement,
  options: DocumentValidationOptions,
): void {
  const checkValues = options.checkValues ?? true;
  const ids = new Set<string>();
  const visit = (y: Y.XmlElement, type: ElementType, at: string, isRoot: boolean): void => {
    for (const [name, value] of Object.entries(yAttrs(y))) {
      if (name === ELEMENT_ID_ATTRIBUTE) continue;
      const prop = type.property(name);
      if (!prop || prop.kind !== "value") {
        throw new MeshSchemaValidationError(
          `${at}: attribute "${name}" is not declared by element type "${type.tagName}"`,
          { element: at, attribute: name },
        );
      }
      if (checkValues) {
        const problem = prop.problemWith(value);
        if (problem) {
          throw new MeshSchemaValidationError(`${at}: attribute "${name}": ${problem}`, {
            element: at,
            attribute: name,
          });
        }
      }
    }
    let hasText = false;
    for (const c of y.toArray()) {
      if (c instanceof Y.XmlText) {
        if (type.tagName !== TEXT_TAG) {
          throw new MeshSchemaValidationError(
            `${at}: holds a text node, but only "text" elements may hold text`,
            { element: at },
          );
        }
        hasText = true;
        continue;
      }
      if (!(c instanceof Y.XmlElement)) {
        throw new MeshSchemaValidationError(`${at}: holds a node that is not an element`, {
          element: at,
        });
      }
      const tag = c.nodeName;
      const id = yAttr(c, ELEMENT_ID_ATTRIBUTE);
      const childAt = label(tag, id);
      if (!type.childProperty?.isTagAllowed(tag)) {
        throw new MeshSchemaValidationError(
          `${at}: child ${childAt} is not allowed in "${type.tagName}"` +
            (type.childProperty
              ? ` (allowed: ${type.childProperty.childTagNames.join(", ")})`
              : " (it has no child property)"),
          { element: childAt, attribute: type.childProperty?.name },
        );
      }
      if (typeof id !== "string" || id === "") {
        throw new MeshSchemaValidationError(
          `${at}: child "${tag}" has no "$id" (got ${describeValue(id)})`,
          { element: childAt, attribute: ELEMENT_ID_ATTRIBUTE },
        );
      }
      if (ids.has(id)) {
        throw new MeshSchemaValidationError(`${childAt}: "$id" ${id} is used twice`, {
          element: childAt,
          attribute: ELEMENT_ID_ATTRIBUTE,
        });
      }
      ids.add(id);
      visit(c, schema.element(tag), childAt, false);
    }
    if (type.tagName === TEXT_TAG && !isRoot && !hasText) {
      throw new MeshSchemaValidationError(`${at}: a "text" element must hold a text node`, {
        element: at,
      });
    }
  };
  visit(yroot, schema.root, schema.rootTagName, true);
}
