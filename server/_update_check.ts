// Private: incremental schema checks of remote updates on the server's copy of a document.
//
// MeshDocument.checkUpdate validates a scratch copy of the whole document, which costs the
// document's size per update. The sync server instead applies an update to its Y.Doc and checks
// only what the transaction integrated (new items, deleted text nodes, `$id`s), in
// `afterTransaction`, before Yjs garbage-collects deleted content. A failed check leaves the
// Y.Doc dirty: the caller throws it away and rebuilds it from the last good state.
//
// The rules are those of MeshDocument.validate (protocol-data §2.6-2.7): only the root type
// "xml"; children are elements whose tag the parent's child property allows, or one text node in
// a `text` element; attributes are declared value properties with values of their type; every
// element has a unique, never-changing `$id`.
import * as Y from "yjs";
import {
  ELEMENT_ID_ATTRIBUTE,
  type ElementType,
  type MeshSchema,
  MeshSchemaValidationError,
} from "@meshagent/api";

const ROOT_NAME = "xml";
const TEXT_TAG = "text";

// deno-lint-ignore no-explicit-any
type AnyXml = Y.XmlElement<Record<string, any>>;

function idOf(y: Y.XmlElement): unknown {
  return (y as AnyXml).getAttribute(ELEMENT_ID_ATTRIBUTE);
}

function isNew(item: Y.Item | null, tr: Y.Transaction): boolean {
  return item !== null && item.id.clock >= (tr.beforeState.get(item.id.client) ?? 0);
}

// deno-lint-ignore no-explicit-any
type AnyType = Y.AbstractType<any>;

/** True when neither the type nor any ancestor is deleted. */
function isLive(y: AnyType): boolean {
  for (let t: AnyType | null = y; t; t = (t._item?.parent as AnyType | undefined) ?? null) {
    if (t._item?.deleted) return false;
  }
  return true;
}

function label(y: Y.XmlElement): string {
  const id = idOf(y);
  return typeof id === "string" ? `${y.nodeName}#${id}` : y.nodeName;
}

/** Watches a Y.Doc and checks every transaction against a schema. */
export class UpdateChecker {
  readonly #schema: MeshSchema;
  readonly #doc: Y.Doc;
  readonly #root: Y.XmlElement;
  readonly #ids = new Map<string, Y.XmlElement>();
  #error: MeshSchemaValidationError | null = null;

  /** Indexes the document (one walk) and starts watching it. */
  constructor(schema: MeshSchema, doc: Y.Doc) {
    this.#schema = schema;
    this.#doc = doc;
    this.#root = doc.get(ROOT_NAME, Y.XmlElement) as Y.XmlElement;
    const walk = (y: Y.XmlElement) => {
      for (const c of y.toArray()) {
        if (!(c instanceof Y.XmlElement)) continue;
        const id = idOf(c);
        if (typeof id === "string") this.#ids.set(id, c);
        walk(c);
      }
    };
    walk(this.#root);
    doc.on("afterTransaction", (tr: Y.Transaction) => {
      if (this.#error) return;
      try {
        this.#check(tr);
      } catch (e) {
        this.#error = e instanceof MeshSchemaValidationError
          ? e
          : new MeshSchemaValidationError(`the update could not be checked: ${e}`);
      }
    });
  }

  /** Returns and clears the problem found in the last transactions, if any. */
  takeError(): MeshSchemaValidationError | null {
    const e = this.#error;
    this.#error = null;
    return e;
  }

  #typeOf(y: Y.XmlElement): ElementType {
    if (y === this.#root) return this.#schema.root;
    const type = this.#schema.findElement(y.nodeName);
    if (!type) {
      throw new MeshSchemaValidationError(`the schema has no element type "${y.nodeName}"`, {
        element: y.nodeName,
      });
    }
    return type;
  }

  #check(tr: Y.Transaction): void {
    const store = this.#doc.store;
    const newElements: Y.XmlElement[] = [];
    const textParents = new Set<Y.XmlElement>();
    tr.afterState.forEach((after, client) => {
      const before = tr.beforeState.get(client) ?? 0;
      if (after <= before) return;
      const structs = store.clients.get(client)!;
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const s = structs[i];
        if (s instanceof Y.Item && !s.deleted) this.#checkItem(s, tr, newElements);
      }
    });
    // Deletions: a text node removed from a live `text` element, or a removed `$id`.
    Y.iterateDeletedStructs(tr, tr.deleteSet, (s) => {
      if (!(s instanceof Y.Item) || isNew(s, tr)) return;
      const parent = s.parent;
      if (!(parent instanceof Y.XmlElement) || !isLive(parent)) return;
      if (s.parentSub === ELEMENT_ID_ATTRIBUTE && typeof idOf(parent) !== "string") {
        throw new MeshSchemaValidationError(`${parent.nodeName}: "$id" may not be removed`, {
          element: parent.nodeName,
          attribute: ELEMENT_ID_ATTRIBUTE,
        });
      }
      if (s.parentSub === null && s.content instanceof Y.ContentType) textParents.add(parent);
    });
    for (const el of newElements) {
      if (!isLive(el)) continue;
      const id = idOf(el);
      if (typeof id !== "string" || id === "") {
        throw new MeshSchemaValidationError(`a new "${el.nodeName}" element has no "$id"`, {
          element: el.nodeName,
          attribute: ELEMENT_ID_ATTRIBUTE,
        });
      }
      const other = this.#ids.get(id);
      if (other && other !== el && isLive(other)) {
        throw new MeshSchemaValidationError(`${label(el)}: "$id" ${id} is used twice`, {
          element: label(el),
          attribute: ELEMENT_ID_ATTRIBUTE,
        });
      }
      this.#ids.set(id, el);
      if (el.nodeName === TEXT_TAG) textParents.add(el);
    }
    for (const el of textParents) {
      if (el.nodeName !== TEXT_TAG || el === this.#root || !isLive(el)) continue;
      if (!el.toArray().some((c) => c instanceof Y.XmlText)) {
        throw new MeshSchemaValidationError(
          `${label(el)}: a "text" element must hold a text node`,
          {
            element: label(el),
          },
        );
      }
    }
  }

  #checkItem(item: Y.Item, tr: Y.Transaction, newElements: Y.XmlElement[]): void {
    const parent = item.parent;
    if (!(parent instanceof Y.AbstractType)) return;
    if (parent._item === null && parent !== this.#root) {
      throw new MeshSchemaValidationError(
        `the update writes to a root type other than "${ROOT_NAME}"; documents have one root`,
      );
    }
    if (parent._item?.deleted) return;
    if (parent instanceof Y.XmlText) {
      if (item.content instanceof Y.ContentType) {
        throw new MeshSchemaValidationError("text may not embed shared types");
      }
      return;
    }
    if (!(parent instanceof Y.XmlElement)) {
      throw new MeshSchemaValidationError("the update writes into a node that is not an element");
    }
    const type = this.#typeOf(parent);
    const at = label(parent);
    if (item.parentSub !== null) {
      const name = item.parentSub;
      const values = item.content.getContent();
      const value = values[values.length - 1];
      if (name === ELEMENT_ID_ATTRIBUTE) {
        if (parent === this.#root || !isNew(parent._item, tr)) {
          throw new MeshSchemaValidationError(`${at}: "$id" is set when the element is created`, {
            element: at,
            attribute: name,
          });
        }
        return;
      }
      const prop = type.property(name);
      if (!prop || prop.kind !== "value") {
        throw new MeshSchemaValidationError(
          `${at}: attribute "${name}" is not declared by element type "${type.tagName}"`,
          { element: at, attribute: name },
        );
      }
      const problem = prop.problemWith(value);
      if (problem) {
        throw new MeshSchemaValidationError(`${at}: attribute "${name}": ${problem}`, {
          element: at,
          attribute: name,
        });
      }
      return;
    }
    const content = item.content;
    const node = content instanceof Y.ContentType ? content.type : undefined;
    if (node instanceof Y.XmlElement) {
      if (!type.childProperty?.isTagAllowed(node.nodeName)) {
        throw new MeshSchemaValidationError(
          `${at}: child "${node.nodeName}" is not allowed in "${type.tagName}"` +
            (type.childProperty
              ? ` (allowed: ${type.childProperty.childTagNames.join(", ")})`
              : " (it has no child property)"),
          { element: at, attribute: type.childProperty?.name },
        );
      }
      newElements.push(node);
      return;
    }
    if (node instanceof Y.XmlText) {
      if (type.tagName !== TEXT_TAG) {
        throw new MeshSchemaValidationError(
          `${at}: holds a text node, but only "text" elements may hold text`,
          { element: at },
        );
      }
      return;
    }
    throw new MeshSchemaValidationError(`${at}: holds a node that is not an element`, {
      element: at,
    });
  }
}
