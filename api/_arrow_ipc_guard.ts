// Private: a bounded walk over the messages of an Arrow IPC stream, before apache-arrow reads
// them. Messages are FlatBuffers, graphs of offsets: a few hundred crafted bytes can give a vector
// a length of hundreds of millions, or point a field's child list at a shared list (a DAG that
// apache-arrow expands into a tree), and apache-arrow then allocates until the process runs out
// of memory (both found by the fuzzer: bench/fuzz.ts, target sqlite). This walk checks every
// offset and vector against the bytes, counts every schema field it reaches (shared ones each
// time) against a budget, and bounds the rows a record batch may claim by its bytes, so a hostile
// stream costs time and memory in proportion to its size.
import { ErrorCode, RoomError } from "./errors.ts";

/** The most fields (nested ones included, counted each time they are reached) a schema may have. */
export const MAX_SCHEMA_FIELDS = 4096;
/** The deepest nesting of fields a schema may have. */
export const MAX_SCHEMA_DEPTH = 64;
/**
 * [impl] The rows a record batch may claim beyond 8 per byte of its body (one bit per row is the
 * densest column there is, a non-null bool; only Null-typed columns take no bytes at all).
 */
export const ROWS_WITHOUT_BYTES = 4096;

const CONTINUATION = 0xffff_ffff;
const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;

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

  /** An unsigned 64-bit integer as a number (large ones lose precision, which is fine here). */
  u64(position: number): number {
    this.#check(position, 8);
    return this.#view.getUint32(position + 4, true) * 0x1_0000_0000 +
      this.#view.getUint32(position, true);
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

  /** The length of the vector of `size`-byte elements the field at `position` points to. */
  vector(position: number, size: number): { start: number; length: number } {
    const vector = this.target(position);
    const length = this.u32(vector);
    this.#check(vector + 4, length * size);
    return { start: vector + 4, length };
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
 * Checks every message of an IPC stream before apache-arrow reads it: offsets and vectors inside
 * their message, message bodies inside the bytes, a schema within {@linkcode MAX_SCHEMA_FIELDS}
 * and {@linkcode MAX_SCHEMA_DEPTH}, and record batches claiming no more rows than 8 per body byte
 * plus {@linkcode ROWS_WITHOUT_BYTES}.
 *
 * @param bytes The IPC stream bytes.
 * @throws {RoomError} 1002 when a message is malformed or too large.
 */
export function checkArrowIpc(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  while (position + 4 <= bytes.byteLength) {
    // The current format starts a message with 0xFFFFFFFF and its length; the legacy one without.
    let length = view.getUint32(position, true);
    position += 4;
    if (length === CONTINUATION) {
      if (position + 4 > bytes.byteLength) return; // apache-arrow reports a cut-off stream itself
      length = view.getUint32(position, true);
      position += 4;
    }
    if (length === 0) return; // end of stream
    if (position + length > bytes.byteLength) throw invalid("a message is cut off");
    const fb = new FlatBuffer(bytes.subarray(position, position + length));
    position += length;
    const body = checkMessage(fb);
    if (body > bytes.byteLength - position) throw invalid("a message body is cut off");
    position += body;
  }
}

/** Checks one message; returns its body length. */
function checkMessage(fb: FlatBuffer): number {
  const message = fb.root();
  const bodyField = fb.field(message, 3);
  const body = bodyField < 0 ? 0 : fb.u64(bodyField);
  const metadata = fb.field(message, 4);
  if (metadata >= 0) fb.tables(metadata);
  const headerType = fb.field(message, 1);
  const header = fb.field(message, 2);
  if (headerType < 0 || header < 0) return body;
  const type = fb.u8(headerType);
  if (type === HEADER_SCHEMA) checkSchema(fb, fb.target(header));
  else if (type === HEADER_RECORD_BATCH) checkRecordBatch(fb, fb.target(header), body);
  else if (type === HEADER_DICTIONARY_BATCH) {
    const data = fb.field(fb.target(header), 1);
    if (data >= 0) checkRecordBatch(fb, fb.target(data), body);
  }
  return body;
}

function checkSchema(fb: FlatBuffer, schema: number): void {
  const metadata = fb.field(schema, 2);
  if (metadata >= 0) fb.tables(metadata);
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
      const fieldMetadata = fb.field(field, 6);
      if (fieldMetadata >= 0) fb.tables(fieldMetadata);
      const children = fb.field(field, 5);
      if (children >= 0) stack.push({ tables: fb.tables(children), depth: depth + 1 });
    }
  }
}

function checkRecordBatch(fb: FlatBuffer, batch: number, body: number): void {
  const maxRows = 8 * body + ROWS_WITHOUT_BYTES;
  const lengthField = fb.field(batch, 0);
  if (lengthField >= 0 && fb.u64(lengthField) > maxRows) {
    throw invalid(`a record batch claims more rows than its ${body} bytes can hold`);
  }
  // FieldNode {length, null_count} and Buffer {offset, length}: 16-byte structs.
  const nodes = fb.field(batch, 1);
  if (nodes >= 0) {
    const { start, length } = fb.vector(nodes, 16);
    for (let i = 0; i < length; i++) {
      if (fb.u64(start + 16 * i) > maxRows) {
        throw invalid(`a record batch column claims more rows than its ${body} bytes can hold`);
      }
    }
  }
  const buffers = fb.field(batch, 2);
  if (buffers >= 0) fb.vector(buffers, 16);
  const variadic = fb.field(batch, 4);
  if (variadic >= 0) fb.vector(variadic, 8);
}
