/**
 * MeshDocument: a structured document on Yjs that follows a {@linkcode MeshSchema}, laid out
 * exactly as the official MeshAgent clients lay it out (spec: protocol-data §2.7), so that
 * documents converge through ordinary Yjs v1 updates.
 *
 * @module
 */
import * as Y from "yjs";
import { ErrorCode } from "./errors.ts";
import type { JsonObject } from "./packing.ts";
import { EventEmitter, type Listener } from "./event_emitter.ts";
import { type AttributeValue, ELEMENT_ID_ATTRIBUTE, type ElementType } from "./element_type.ts";
import type { DocumentValidationOptions, MeshSchema } from "./mesh_schema.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import { MeshDocumentError } from "./mesh_document_error.ts";
import {
  buildElement,
  checkAttribute,
  checkRange,
  elementChildren,
  elementToJson,
  fillContent,
  findById,
  isDeleted,
  label,
  readIdEvenIfDeleted,
  sortedAttributeEntries,
  TEXT_TAG,
  validateTree,
  yAttr,
  yAttrs,
  ySetAttr,
} from "./_document_tree.ts";
import { describeValue } from "./_json_value.ts";
import { unwrapRootJson } from "./_document_json.ts";

/** The name of the root shared type in the Yjs document. */
const ROOT_NAME = "xml";
const LOCAL_ORIGIN = Symbol("meshagent.local");
const REMOTE_ORIGIN = Symbol("meshagent.remote");

/** One run of rich text: a string (or embed) and its formatting attributes. */
export interface TextDeltaOp {
  /** The text of the run (an object for an embed). */
  insert: string | JsonObject;
  /** The formatting of the run, if any. */
  attributes?: JsonObject;
}

/** Emitted when an element is inserted (once for the top of an inserted subtree). */
export interface ElementAddedEvent {
  /** The new element. */
  element: Element;
  /** Its parent. */
  parent: Element;
  /** True when the edit was made on this document, false when it came in an update. */
  local: boolean;
}

/** Emitted when an element is removed (once for the top of a removed subtree). */
export interface ElementRemovedEvent {
  /** The `$id` the element had. */
  id: string | undefined;
  /** The tag the element had. */
  tagName: string;
  /** The parent it was removed from. */
  parent: Element;
  /** True when the edit was made on this document. */
  local: boolean;
}

/** Emitted when an attribute is set, changed or removed. */
export interface AttributeChangedEvent {
  /** The element. */
  element: Element;
  /** The attribute name. */
  name: string;
  /** The value before (undefined when it was not set). */
  oldValue: AttributeValue | undefined;
  /** The value now (undefined when it was removed). */
  value: AttributeValue | undefined;
  /** True when the edit was made on this document. */
  local: boolean;
}

/** Emitted when the text of a `text` element changes. */
export interface TextChangedEvent {
  /** The `text` element. */
  element: Element;
  /** True when the edit was made on this document. */
  local: boolean;
}

/** Emitted once per transaction that changed the element tree. */
export interface DocumentChangedEvent {
  /** True when the change was made on this document. */
  local: boolean;
}

/** Emitted for every Yjs update this document produced or accepted. */
export interface DocumentUpdateEvent {
  /** The Yjs v1 update. */
  update: Uint8Array;
  /** True for an edit made on this document, false for an applied update. */
  local: boolean;
}

/** The events of a {@linkcode MeshDocument}. */
export interface MeshDocumentEvents {
  /** An element was inserted. */
  elementAdded: ElementAddedEvent;
  /** An element was removed. */
  elementRemoved: ElementRemovedEvent;
  /** An attribute changed. */
  attributeChanged: AttributeChangedEvent;
  /** A text element's text changed. */
  textChanged: TextChangedEvent;
  /** Anything in the element tree changed. */
  changed: DocumentChangedEvent;
  /** A Yjs update was produced or applied. */
  update: DocumentUpdateEvent;
}

/** Options of {@linkcode MeshDocument.toJson} and {@linkcode Element.toJson}. */
export interface ToJsonOptions {
  /** Include each element's `$id` attribute. Defaults to false. */
  includeIds?: boolean;
}

/** Options of {@linkcode MeshDocument.applyUpdate}. */
export interface ApplyUpdateOptions extends DocumentValidationOptions {
  /** Check the update against the schema first and refuse it if it breaks it. Defaults to false. */
  validate?: boolean;
}

/** The result of {@linkcode MeshDocument.checkUpdate}. */
export type UpdateCheckResult =
  | { ok: true }
  | { ok: false; error: MeshDocumentError | MeshSchemaValidationError };

/** Where {@linkcode Element.createChildElement} inserts the new child. */
export interface CreateChildOptions {
  /** The position among the element children (text runs not counted). Defaults to the end. */
  index?: number;
  /** Insert right after this child (an element or its `$id`). */
  after?: Element | string;
  /** The `$id` to give the new element. Defaults to a fresh UUID v4. */
  id?: string;
}

interface DocInternals {
  ydoc: Y.Doc;
  yroot: Y.XmlElement;
  wrap(y: Y.XmlElement): Element;
  transact(fn: () => void): void;
}

let internalsOf: (doc: MeshDocument) => DocInternals;
let wrapElement: (doc: MeshDocument, y: Y.XmlElement) => Element;

/**
 * An element of a {@linkcode MeshDocument}: a tag, attributes (value properties), ordered
 * children (the child property) and, for `text` elements, rich text.
 *
 * Elements are obtained from a document (`doc.root`, `createChildElement`, `children`,
 * `getElementById`); the same element always yields the same object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshDocument, MeshSchema } from "@meshagent/api";
 * const schema = MeshSchema.fromJson({
 *   $root_tag_ref: "#/$defs/list",
 *   $defs: {
 *     list: { properties: { list: { properties: {
 *       items: { type: "array", items: { anyOf: [{ $ref: "#/$defs/item" }] } },
 *     } } } },
 *     item: { properties: { item: { properties: { label: { type: ["string", "null"] } } } } },
 *   },
 * });
 * const doc = new MeshDocument(schema);
 * const item = doc.root.createChildElement("item", { label: "milk" });
 * item.setAttribute("label", "oat milk");
 * assert(doc.getElementById(item.id!) === item);
 * assert(JSON.stringify(doc.toJson()) ===
 *   '{"list":{"items":[{"item":{"label":"oat milk"}}]}}');
 * ```
 */
export class Element {
  #doc!: MeshDocument;
  #y!: Y.XmlElement;

  private constructor() {}

  static {
    wrapElement = (doc, y) => {
      const e = new Element();
      e.#doc = doc;
      e.#y = y;
      return e;
    };
  }

  /** The document this element belongs to. */
  get document(): MeshDocument {
    return this.#doc;
  }

  /** True for the document's root element. */
  get isRoot(): boolean {
    return this.#y === internalsOf(this.#doc).yroot;
  }

  /** The element's `$id` (undefined for the root, which has none). */
  get id(): string | undefined {
    if (this.isRoot) return undefined;
    return readIdEvenIfDeleted(this.#y);
  }

  /** The tag name (the schema's root tag for the root). */
  get tagName(): string {
    return this.isRoot ? this.#doc.schema.rootTagName : this.#y.nodeName;
  }

  /**
   * The element type from the schema.
   *
   * @throws {MeshSchemaValidationError} When the tag is not in the schema (possible only for
   *   content that came in unvalidated updates).
   */
  get elementType(): ElementType {
    return this.#doc.schema.element(this.tagName);
  }

  /** True when the element has been removed from the document. */
  get isDeleted(): boolean {
    return isDeleted(this.#y);
  }

  /** The parent element (undefined for the root or a detached element). */
  get parent(): Element | undefined {
    const p = this.#y.parent;
    return p instanceof Y.XmlElement ? internalsOf(this.#doc).wrap(p) : undefined;
  }

  /** The child elements, in order (text runs are not elements). */
  get children(): Element[] {
    const { wrap } = internalsOf(this.#doc);
    return elementChildren(this.#y).map(wrap);
  }

  /**
   * Reads an attribute.
   *
   * @param name The attribute name.
   * @returns Its value, or undefined when it is not set.
   */
  getAttribute(name: string): AttributeValue | undefined {
    return yAttr(this.#y, name) as AttributeValue | undefined;
  }

  /** Every attribute except `$id`, in schema order. */
  get attributes(): Record<string, AttributeValue> {
    const out: Record<string, AttributeValue> = {};
    const type = this.#doc.schema.findElement(this.tagName);
    for (const [k, v] of sortedAttributeEntries(type, yAttrs(this.#y))) {
      if (k !== ELEMENT_ID_ATTRIBUTE) out[k] = v as AttributeValue;
    }
    return out;
  }

  /**
   * Sets an attribute. The schema must declare it as a value property and allow the value.
   *
   * @param name The attribute name.
   * @param value The value.
   * @throws {MeshSchemaValidationError} When the schema does not allow it.
   */
  setAttribute(name: string, value: AttributeValue): void {
    this.setAttributes({ [name]: value });
  }

  /**
   * Sets several attributes in one update.
   *
   * @param values The attributes to set.
   * @throws {MeshSchemaValidationError} When the schema does not allow one of them (nothing is
   *   set then).
   */
  setAttributes(values: Record<string, AttributeValue>): void {
    this.#assertLive("set attributes on");
    const type = this.elementType;
    for (const [name, value] of Object.entries(values)) {
      checkAttribute(type, label(this.tagName, this.id), name, value);
    }
    internalsOf(this.#doc).transact(() => {
      for (const [name, value] of Object.entries(values)) ySetAttr(this.#y, name, value);
    });
  }

  /**
   * Removes an attribute (no-op when it is not set).
   *
   * @param name The attribute name.
   * @throws {MeshSchemaValidationError} When `name` is `$id`.
   */
  removeAttribute(name: string): void {
    this.#assertLive("remove attributes from");
    if (name === ELEMENT_ID_ATTRIBUTE) {
      throw new MeshSchemaValidationError(`"$id" cannot be removed`, {
        element: label(this.tagName, this.id),
        attribute: name,
      });
    }
    if (!this.#y.hasAttribute(name)) return;
    internalsOf(this.#doc).transact(() => this.#y.removeAttribute(name));
  }

  /** True for a `text` element, which holds rich text. */
  get isText(): boolean {
    return this.tagName === TEXT_TAG;
  }

  /**
   * The plain text of a `text` element ("" for other elements). An embed counts as one
   * character and reads as U+FFFC.
   */
  get text(): string {
    return this.textDelta.map((op) => typeof op.insert === "string" ? op.insert : "\ufffc")
      .join("");
  }

  /** The rich text of a `text` element as delta runs ([] for other elements). */
  get textDelta(): TextDeltaOp[] {
    const t = this.#textNode(false);
    return t ? (t.toDelta() as TextDeltaOp[]) : [];
  }

  /**
   * Inserts text into a `text` element.
   *
   * @param index The character position.
   * @param text The text.
   * @param attributes Formatting of the inserted run (none by default).
   * @throws {MeshDocumentError} When this is not a `text` element or `index` is out of range.
   */
  insertText(index: number, text: string, attributes?: JsonObject): void {
    const t = this.#textNode(true)!;
    checkRange(index, 0, t.length, "text index");
    internalsOf(this.#doc).transact(() => t.insert(index, text, attributes ?? {}));
  }

  /**
   * Deletes text from a `text` element.
   *
   * @param index The first character.
   * @param length How many characters.
   * @throws {MeshDocumentError} When this is not a `text` element or the range is out of range.
   */
  deleteText(index: number, length: number): void {
    const t = this.#textNode(true)!;
    checkRange(index, 0, t.length, "text index");
    checkRange(length, 0, t.length - index, "text length");
    if (length === 0) return;
    internalsOf(this.#doc).transact(() => t.delete(index, length));
  }

  /**
   * Formats a range of a `text` element (a `null` attribute value removes that format).
   *
   * @param index The first character.
   * @param length How many characters.
   * @param attributes The formatting to apply.
   * @throws {MeshDocumentError} When this is not a `text` element or the range is out of range.
   */
  formatText(index: number, length: number, attributes: JsonObject): void {
    const t = this.#textNode(true)!;
    checkRange(index, 0, t.length, "text index");
    checkRange(length, 0, t.length - index, "text length");
    internalsOf(this.#doc).transact(() => t.format(index, length, attributes));
  }

  /**
   * Creates a child element. The schema must allow the tag here and every attribute on it.
   * A `text` child gets its (empty) text node, as the official clients do.
   *
   * @param tagName The child's tag.
   * @param attributes Its attributes.
   * @param options Where to insert it and which `$id` to give it.
   * @returns The new element.
   * @throws {MeshSchemaValidationError} When the schema does not allow the child or an attribute.
   * @throws {MeshDocumentError} When the position is invalid.
   */
  createChildElement(
    tagName: string,
    attributes: Record<string, AttributeValue> = {},
    options: CreateChildOptions = {},
  ): Element {
    this.#assertLive("add children to");
    const y = buildElement(this.#doc.schema, this.elementType, label(this.tagName, this.id), {
      [tagName]: options.id === undefined ? attributes : { ...attributes, $id: options.id },
    }, "child");
    this.#insertChildren([y], options);
    return internalsOf(this.#doc).wrap(y);
  }

  /**
   * Creates a child subtree from element JSON (spec §2.9), e.g.
   * `{"para": {"style": "body"}}`. Every element gets a fresh `$id` unless the JSON gives one.
   *
   * @param json The element JSON.
   * @param options Where to insert it.
   * @returns The new element.
   * @throws {MeshSchemaValidationError} When the schema does not allow part of it (nothing is
   *   inserted then).
   */
  appendJson(json: JsonObject, options: Omit<CreateChildOptions, "id"> = {}): Element {
    this.#assertLive("add children to");
    const y = buildElement(
      this.#doc.schema,
      this.elementType,
      label(this.tagName, this.id),
      json,
      "child",
    );
    this.#insertChildren([y], options);
    return internalsOf(this.#doc).wrap(y);
  }

  /**
   * Removes this element and its subtree. Removing an element that is already removed does
   * nothing.
   *
   * @throws {MeshDocumentError} For the root.
   */
  delete(): void {
    if (this.isRoot) throw new MeshDocumentError("the root element cannot be deleted");
    if (this.isDeleted) return;
    const parent = this.#y.parent as Y.XmlElement;
    const index = parent.toArray().indexOf(this.#y);
    internalsOf(this.#doc).transact(() => parent.delete(index, 1));
  }

  /**
   * Finds an element by `$id` in this subtree (this element included).
   *
   * @param id The `$id`.
   * @returns The element, or undefined.
   */
  getElementById(id: string): Element | undefined {
    const found = findById(this.#y, id);
    return found ? internalsOf(this.#doc).wrap(found) : undefined;
  }

  /**
   * Serialises this element as element JSON (spec §2.9): `{"<tag>": {attributes..., "<child
   * property>": [children...]}}`; a text run serialises as `{"text": {"delta": [...]}}`.
   *
   * @param options Whether to include `$id`.
   * @returns The JSON object.
   */
  toJson(options: ToJsonOptions = {}): JsonObject {
    return elementToJson(this.#doc.schema, this.#y, this.tagName, options.includeIds ?? false);
  }

  #assertLive(what: string): void {
    if (this.isDeleted) {
      throw new MeshDocumentError(
        `cannot ${what} ${label(this.tagName, this.id)}: the element was deleted`,
        ErrorCode.INVALID_STATE,
      );
    }
  }

  #textNode(required: boolean): Y.XmlText | undefined {
    if (!this.isText) {
      if (!required) return undefined;
      throw new MeshDocumentError(
        `${label(this.tagName, this.id)} is not a text element; only "text" elements hold text`,
      );
    }
    const t = this.#y.toArray().find((c): c is Y.XmlText => c instanceof Y.XmlText);
    if (!t && required) {
      throw new MeshDocumentError(`${label(this.tagName, this.id)} has no text node`);
    }
    if (required) this.#assertLive("edit the text of");
    return t;
  }

  #insertChildren(nodes: Y.XmlElement[], options: CreateChildOptions): void {
    const y = this.#y;
    internalsOf(this.#doc).transact(() => {
      if (options.after !== undefined) {
        const afterId = typeof options.after === "string" ? options.after : options.after.id;
        const after = elementChildren(y).find((c) => yAttr(c, ELEMENT_ID_ATTRIBUTE) === afterId);
        if (!after) {
          throw new MeshDocumentError(
            `${label(this.tagName, this.id)} has no child with $id ${afterId}`,
            ErrorCode.NOT_FOUND,
          );
        }
        y.insertAfter(after, nodes);
      } else if (options.index !== undefined) {
        const elements = elementChildren(y);
        checkRange(options.index, 0, elements.length, "child index");
        const at = options.index === elements.length
          ? y.length
          : y.toArray().indexOf(elements[options.index]);
        y.insert(at, nodes);
      } else {
        y.push(nodes);
      }
    });
  }
}

/**
 * A MeshDocument: a Yjs document whose root (the shared type `"xml"`) holds a tree of elements
 * allowed by a {@linkcode MeshSchema}. Local edits are checked against the schema; remote
 * updates can be checked with {@linkcode MeshDocument.checkUpdate} before they are applied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshDocument, MeshSchema } from "@meshagent/api";
 * const schema = MeshSchema.fromJson({
 *   $root_tag_ref: "#/$defs/page",
 *   $defs: {
 *     page: { properties: { page: { properties: {
 *       title: { type: ["string", "null"] },
 *       children: { type: "array", items: { anyOf: [{ $ref: "#/$defs/text" }] } },
 *     } } } },
 *     text: { properties: { text: { properties: {} } } },
 *   },
 * });
 * const a = MeshDocument.fromJson(schema, { page: { title: "Hello", children: [] } });
 * const b = new MeshDocument(schema);
 * a.onLocalUpdate((update) => b.applyUpdate(update));
 * b.applyUpdate(a.encodeStateAsUpdate());
 * a.root.createChildElement("text").insertText(0, "hi");
 * assert(b.root.children[0].text === "hi");
 * assert(b.root.getAttribute("title") === "Hello");
 * ```
 */
export class MeshDocument {
  /** The schema the document follows. */
  readonly schema: MeshSchema;
  readonly #ydoc: Y.Doc;
  readonly #yroot: Y.XmlElement;
  readonly #wrappers = new WeakMap<Y.XmlElement, Element>();
  readonly #events = new EventEmitter<MeshDocumentEvents>();
  readonly #internals: DocInternals;

  static {
    internalsOf = (doc) => doc.#internals;
  }

  /**
   * Creates an empty document.
   *
   * @param schema The schema the document follows.
   */
  constructor(schema: MeshSchema) {
    this.schema = schema;
    this.#ydoc = new Y.Doc();
    this.#yroot = this.#ydoc.get(ROOT_NAME, Y.XmlElement) as Y.XmlElement;
    const wrap = (y: Y.XmlElement): Element => {
      let e = this.#wrappers.get(y);
      if (!e) {
        e = wrapElement(this, y);
        this.#wrappers.set(y, e);
      }
      return e;
    };
    this.#internals = {
      ydoc: this.#ydoc,
      yroot: this.#yroot,
      wrap,
      transact: (fn) => this.#ydoc.transact(fn, LOCAL_ORIGIN),
    };
    this.#ydoc.on("update", (update: Uint8Array, _origin: unknown, _doc, tr: Y.Transaction) => {
      this.#events.emit("update", { update, local: tr.local });
    });
    this.#yroot.observeDeep((events, tr) => this.#onDeepEvents(events, tr));
  }

  /**
   * Creates a document from schema and document JSON (spec §2.9): the root attributes and
   * children, each element with a fresh `$id`.
   *
   * @param schema The schema.
   * @param json The document JSON (`{"<root>": {...}}`, or the root's content object).
   * @returns The document.
   * @throws {MeshSchemaValidationError} When the JSON does not follow the schema.
   */
  static fromJson(schema: MeshSchema, json: unknown): MeshDocument {
    const doc = new MeshDocument(schema);
    doc.#importRoot(json);
    return doc;
  }

  /**
   * Creates a document from a Yjs update (for example a stored `encodeStateAsUpdate()`).
   *
   * @param schema The schema.
   * @param update The Yjs v1 update.
   * @param options Whether to validate the content against the schema.
   * @returns The document.
   * @throws {MeshDocumentError} When the bytes are not a Yjs update.
   */
  static fromUpdate(
    schema: MeshSchema,
    update: Uint8Array,
    options: ApplyUpdateOptions = {},
  ): MeshDocument {
    const doc = new MeshDocument(schema);
    doc.applyUpdate(update, options);
    return doc;
  }

  /** The root element (the schema's root tag). */
  get root(): Element {
    return this.#internals.wrap(this.#yroot);
  }

  /**
   * Finds an element by `$id`.
   *
   * @param id The `$id`.
   * @returns The element, or undefined.
   */
  getElementById(id: string): Element | undefined {
    return this.root.getElementById(id);
  }

  /**
   * Serialises the document as document JSON (spec §2.9). Attributes come in schema order, so
   * documents with the same content give the same JSON text.
   *
   * @param options Whether to include `$id`.
   * @returns `{"<root>": {...}}`.
   */
  toJson(options: ToJsonOptions = {}): JsonObject {
    return this.root.toJson(options);
  }

  /**
   * Groups edits into one transaction (one update, one `changed` event).
   *
   * @param fn The edits.
   */
  transact(fn: () => void): void {
    this.#internals.transact(fn);
  }

  /**
   * Checks the whole document against the schema.
   *
   * @param options What to check.
   * @throws {MeshSchemaValidationError} Naming the element and attribute at fault.
   */
  validate(options: DocumentValidationOptions = {}): void {
    validateTree(this.schema, this.#yroot, options);
  }

  /**
   * Checks what the document would look like after an update, without changing it: the update
   * is applied to a scratch copy, which is then validated against the schema.
   *
   * @param update The Yjs v1 update.
   * @param options What to check.
   * @returns `{ok: true}`, or `{ok: false, error}` with an error that says what is wrong.
   */
  checkUpdate(update: Uint8Array, options: DocumentValidationOptions = {}): UpdateCheckResult {
    try {
      assertDecodable(update);
    } catch (e) {
      return { ok: false, error: e as MeshDocumentError };
    }
    if (update.length === 0) return { ok: true };
    const scratch = new Y.Doc();
    try {
      Y.applyUpdate(scratch, Y.encodeStateAsUpdate(this.#ydoc));
      const pendingBefore = hasPending(scratch);
      Y.applyUpdate(scratch, update);
      if (!pendingBefore && hasPending(scratch)) {
        return {
          ok: false,
          error: new MeshDocumentError(
            "the update depends on changes this document does not have; send the missing updates first",
            ErrorCode.INVALID_STATE,
          ),
        };
      }
      validateTree(this.schema, scratch.get(ROOT_NAME, Y.XmlElement) as Y.XmlElement, options);
      return { ok: true };
    } catch (e) {
      if (e instanceof MeshSchemaValidationError) return { ok: false, error: e };
      return {
        ok: false,
        error: new MeshDocumentError(`the update could not be applied: ${(e as Error).message}`),
      };
    } finally {
      scratch.destroy();
    }
  }

  /**
   * Applies a Yjs v1 update (from another replica or from storage). Empty bytes are a no-op.
   * Malformed bytes are refused before anything changes.
   *
   * @param update The update.
   * @param options `validate: true` refuses an update that breaks the schema.
   * @returns True when the update changed the document.
   * @throws {MeshDocumentError} When the bytes are not a Yjs update.
   * @throws {MeshSchemaValidationError} With `validate: true`, when the update breaks the schema.
   */
  applyUpdate(update: Uint8Array, options: ApplyUpdateOptions = {}): boolean {
    assertDecodable(update);
    if (update.length === 0) return false;
    if (options.validate) {
      const result = this.checkUpdate(update, options);
      if (!result.ok) throw result.error;
    }
    let changed = false;
    const onUpdate = () => changed = true;
    this.#ydoc.on("update", onUpdate);
    try {
      Y.applyUpdate(this.#ydoc, update, REMOTE_ORIGIN);
    } catch (e) {
      throw new MeshDocumentError(`the update could not be applied: ${(e as Error).message}`);
    } finally {
      this.#ydoc.off("update", onUpdate);
    }
    return changed;
  }

  /**
   * Encodes the whole document as one Yjs v1 update (same as `encodeStateAsUpdate()`).
   *
   * @returns The update.
   */
  encodeUpdate(): Uint8Array {
    return Y.encodeStateAsUpdate(this.#ydoc);
  }

  /**
   * Encodes the document state as a Yjs v1 update: everything, or only what a replica with the
   * given state vector lacks.
   *
   * @param stateVector The other replica's state vector.
   * @returns The update.
   * @throws {MeshDocumentError} When the state vector is malformed.
   */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    if (stateVector === undefined) return Y.encodeStateAsUpdate(this.#ydoc);
    try {
      Y.decodeStateVector(stateVector);
      return Y.encodeStateAsUpdate(this.#ydoc, stateVector);
    } catch (e) {
      throw new MeshDocumentError(`not a Yjs state vector: ${(e as Error).message}`);
    }
  }

  /**
   * Encodes this replica's Yjs state vector.
   *
   * @returns The state vector.
   */
  encodeStateVector(): Uint8Array {
    return Y.encodeStateVector(this.#ydoc);
  }

  /**
   * Calls `listener` with every update produced by a local edit (not by `applyUpdate`), to
   * stream local edits out.
   *
   * @param listener Receives each Yjs v1 update.
   * @returns A function that removes the listener.
   */
  onLocalUpdate(listener: (update: Uint8Array) => void): () => void {
    return this.#events.on("update", (e) => {
      if (e.local) listener(e.update);
    });
  }

  /**
   * Adds an event listener.
   *
   * @param name The event name.
   * @param listener The listener.
   * @returns A function that removes the listener.
   */
  on<K extends keyof MeshDocumentEvents>(
    name: K,
    listener: Listener<MeshDocumentEvents[K]>,
  ): () => void {
    return this.#events.on(name, listener);
  }

  /**
   * Removes an event listener.
   *
   * @param name The event name.
   * @param listener The listener.
   */
  off<K extends keyof MeshDocumentEvents>(
    name: K,
    listener: Listener<MeshDocumentEvents[K]>,
  ): void {
    this.#events.off(name, listener);
  }

  /** Releases the Yjs document and every listener. */
  dispose(): void {
    this.#events.removeAll();
    this.#ydoc.destroy();
  }

  #importRoot(json: unknown): void {
    const content = unwrapRootJson(this.schema, json);
    const rootType = this.schema.root;
    const attrs: [string, unknown][] = [];
    const nodes = fillContent(
      this.schema,
      rootType,
      this.schema.rootTagName,
      content,
      (k, v) => attrs.push([k, v]),
    );
    if (content[ELEMENT_ID_ATTRIBUTE] !== undefined) {
      throw new MeshSchemaValidationError('the root element has no "$id"', {
        element: this.schema.rootTagName,
        attribute: ELEMENT_ID_ATTRIBUTE,
      });
    }
    this.#internals.transact(() => {
      for (const [k, v] of attrs) ySetAttr(this.#yroot, k, v);
      if (nodes.length) this.#yroot.insert(this.#yroot.length, nodes);
    });
  }

  #onDeepEvents(events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction): void {
    const local = tr.local;
    const ev = this.#events;
    if (
      !ev.hasListeners("elementAdded") && !ev.hasListeners("elementRemoved") &&
      !ev.hasListeners("attributeChanged") && !ev.hasListeners("textChanged")
    ) {
      // Yjs computes event.changes lazily and slowly (~0.15 ms per added child): skip it when
      // only "changed" is listened to (a 1 MB load: 390 ms → 0).
      ev.emit("changed", { local });
      return;
    }
    const wrap = this.#internals.wrap;
    for (const event of events) {
      const target = event.target;
      if (target instanceof Y.XmlElement) {
        const element = wrap(target);
        const { added, deleted, keys } = event.changes;
        for (const item of deleted) {
          const type = (item.content as { type?: unknown }).type;
          if (type instanceof Y.XmlElement) {
            this.#events.emit("elementRemoved", {
              id: readIdEvenIfDeleted(type),
              tagName: type.nodeName,
              parent: element,
              local,
            });
          }
        }
        for (const item of added) {
          const type = (item.content as { type?: unknown }).type;
          if (type instanceof Y.XmlElement && !item.deleted) {
            this.#events.emit("elementAdded", { element: wrap(type), parent: element, local });
          }
        }
        keys.forEach((change, name) => {
          if (name === ELEMENT_ID_ATTRIBUTE) return;
          this.#events.emit("attributeChanged", {
            element,
            name,
            oldValue: change.oldValue as AttributeValue | undefined,
            value: yAttr(target, name) as AttributeValue | undefined,
            local,
          });
        });
      } else if (target instanceof Y.XmlText && target.parent instanceof Y.XmlElement) {
        this.#events.emit("textChanged", { element: wrap(target.parent), local });
      }
    }
    this.#events.emit("changed", { local });
  }
}

function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

function assertDecodable(update: Uint8Array): void {
  if (!(update instanceof Uint8Array)) {
    throw new MeshDocumentError(`an update must be a Uint8Array, got ${describeValue(update)}`);
  }
  if (update.length === 0) return;
  try {
    Y.decodeUpdate(update);
  } catch (e) {
    throw new MeshDocumentError(
      `not a Yjs v1 update (${update.length} bytes): ${(e as Error).message}; ` +
        "sync payloads are base64 text, decode them with fromWireUpdate()",
    );
  }
}
