// Private: a bounded walk over the schema message of an Arrow IPC stream, before apache-arrow
// reads it. The schema is a FlatBuffer whose fields may have child fields; a FlatBuffer is a
// graph of offsets, so a few hundred crafted bytes can point one child list back at itself or at
// a shared list, and apache-arrow, which expands that graph into a tree, then allocates until
// the process runs out of memory (found by the fuzzer: bench/fuzz.ts, target sqlite). This walk
// counts every field it reaches (shared ones each time) and stops at a budget, and checks every
// offset against the bytes, so a hostile stream costs at most the budget.
import { ErrorCode, RoomError } from "./errors.ts";

/** The most fields (nested ones included, counted each time they are reached) a schema may have. */
export const MAX_SCHEMA_FIELDS = 4096;
/** The deepest nesting of fields a schema may have. */
export const MAX_SCHEMA_DEPTH = 64;

const CONTINUATION = 0xffff_ffff;
const HEADER_SCHEMA = 1;

function invalid(what: string): RoomError {
  return new RoomError(
    `the payload is not an Arrow IPC stream (${what}); send application/vnd.apache.arrow.stream ` +
      `bytes`,
    ErrorCode.INVALID_REQUEST,
  );
}

/** Reads FlatBuffer tables and vectors of one message, every offset checked against its bytes. */
class FlatBuffer {
  readonly #view: DataView;
  readonly #size: number;

  constructor(bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#size = bytes.byteLength;
  }

  #check(position: number, size: number): void {
    if (!(position >= 0 && position + size <= this.#size)) {
      throw invalid("an offset is out of range");
    }
  }

  u32(position: number): number {
    this.#check(position, 4);
    return this.#view.getUint32(position, true);
  }

  u8(position: number): number {
    this.#check(position, 1);
    return this.#view.getUint8(position);
  }

  /** The table the root offset points to. */
  root(): number {
    return this.u32(0);
  }

  /** The position of field `index` of the table at `table`, or -1 when it is absent. */
  field(table: number, index: number): number {
    this.#check(table, 4);
    const vtable = table - this.#view.getInt32(table, true);
    this.#check(vtable, 4);
    const vtableSize = this.#view.getUint16(vtable, true);
    const slot = 4 + 2 * index;
    if (slot + 2 > vtableSize) return -1;
    this.#check(vtable + slot, 2);
    const offset = this.#view.getUint16(vtable + slot, true);
    return offset === 0 ? -1 : table + offset;
  }

  /** Follows the offset stored at `position` (to a table, vector or string). */
  target(position: number): number {
    return position + this.u32(position);
  }

  /** The tables of the vector of tables that the field at `position` points to. */
  tables(position: number): number[] {
    const vector = this.target(position);
    const length = this.u32(vector);
    // Each element is a 4-byte offset: a longer vector cannot fit in the bytes.
    this.#check(vector + 4, length * 4);
    const out: number[] = [];
    for (let i = 0; i < length; i++) out.push(this.target(vector + 4 + 4 * i));
    return out;
  }
}

/**
 * Checks the first message of an IPC stream: when it is a schema, its fields (with their
 * children, counted each time they are reached) must stay within {@linkcode MAX_SCHEMA_FIELDS}
 * and {@linkcode MAX_SCHEMA_DEPTH}, and every offset must lie inside the message.
 *
 * @param bytes The IPC stream bytes.
 * @throws {RoomError} 1002 when the schema message is malformed or too large.
 */
export function checkArrowSchemaMessage(bytes: Uint8Array): void {
  if (bytes.byteLength < 8) return; // too short for a message: apache-arrow says so itself
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The current format starts a message with 0xFFFFFFFF and its length; the legacy one without.
  let start = 4;
  let length = view.getUint32(0, true);
  if (length === CONTINUATION) {
    length = view.getUint32(4, true);
    start = 8;
  }
  if (length === 0) return; // end of stream: no schema
  if (start + length > bytes.byteLength) throw invalid("the schema message is cut off");
  const fb = new FlatBuffer(bytes.subarray(start, start + length));
  const message = fb.root();
  const headerType = fb.field(message, 1);
  const header = fb.field(message, 2);
  if (headerType < 0 || header < 0 || fb.u8(headerType) !== HEADER_SCHEMA) return;
  const schema = fb.target(header);
  const fields = fb.field(schema, 1);
  if (fields < 0) return;
  let budget = MAX_SCHEMA_FIELDS;
  // Depth first with an explicit stack: the nesting is bounded, but the walk needs no recursion.
  const stack: { tables: number[]; depth: number }[] = [{ tables: fb.tables(fields), depth: 1 }];
  while (stack.length > 0) {
    const { tables, depth } = stack.pop()!;
    if (depth > MAX_SCHEMA_DEPTH) {
      throw invalid(`the schema nests fields deeper than ${MAX_SCHEMA_DEPTH} levels`);
    }
    budget -= tables.length;
    if (budget < 0) {
      throw invalid(`the schema has more than ${MAX_SCHEMA_FIELDS} fields, nested ones included`);
    }
    for (const field of tables) {
      const children = fb.field(field, 5);
      if (children >= 0) stack.push({ tables: fb.tables(children), depth: depth + 1 });
    }
  }
}
