import { ErrorCode, RoomError } from "./errors.ts";

/**
 * A schema that is not valid, or a document (or edit) that the schema does not allow.
 *
 * `element` names the element at fault (its tag, or `tag#id` when the element has an id) and
 * `attribute` the attribute or child property at fault, when there is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshSchema, MeshSchemaValidationError } from "@meshagent/api";
 * try {
 *   MeshSchema.fromJson({ $root_tag_ref: "#/$defs/missing", $defs: {} });
 * } catch (e) {
 *   assert(e instanceof MeshSchemaValidationError && e.code === 1002);
 * }
 * ```
 */
export class MeshSchemaValidationError extends RoomError {
  /** The element at fault (`tag` or `tag#id`), when the error is about one. */
  readonly element?: string;
  /** The attribute or child property at fault, when the error is about one. */
  readonly attribute?: string;

  /**
   * Creates the value.
   *
   * @param message What is wrong and how to fix it.
   * @param where The element and attribute at fault.
   */
  constructor(message: string, where: { element?: string; attribute?: string } = {}) {
    super(message, ErrorCode.INVALID_REQUEST);
    this.name = "MeshSchemaValidationError";
    if (where.element !== undefined) this.element = where.element;
    if (where.attribute !== undefined) this.attribute = where.attribute;
  }
}
