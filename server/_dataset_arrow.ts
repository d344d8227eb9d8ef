// Arrow IPC plumbing of the dataset store: the wire speaks IPC *streams*, LanceDB's native calls
// take and give IPC *files*. Rows are never turned into JavaScript values here except for the one
// conversion the wire needs (dictionary-encoded strings become plain strings, §3.3.1).
import * as arrow from "apache-arrow";
import { checkArrowPayload, ErrorCode, RoomError } from "@meshagent/api";

const FILE_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

/**
 * Reads one incoming IPC stream (a create/insert/merge `data` chunk, or a schema) after the
 * payload guard, with dictionary-encoded columns turned into their value type.
 */
export function readIpcStream(bytes: Uint8Array, what: string): arrow.Table {
  checkArrowPayload(bytes);
  let table: arrow.Table;
  try {
    table = arrow.tableFromIPC(bytes);
  } catch (error) {
    throw invalid(
      `${what} is not an Arrow IPC stream (${
        error instanceof Error ? error.message : String(error)
      }); send application/vnd.apache.arrow.stream bytes`,
    );
  }
  table.schema.fields.forEach((field, index) => {
    if (typeof field.name !== "string" || field.name === "") {
      throw invalid(`${what}: Arrow field ${index} has no name; every column needs one`);
    }
  });
  return undictionary(table);
}

/** A table whose dictionary columns are plain columns of the dictionary's value type. */
function undictionary(table: arrow.Table): arrow.Table {
  if (!table.schema.fields.some((field) => arrow.DataType.isDictionary(field.type))) return table;
  const fields = table.schema.fields.map((field) =>
    arrow.DataType.isDictionary(field.type)
      ? new arrow.Field(field.name, field.type.dictionary, field.nullable, field.metadata)
      : field
  );
  const schema = new arrow.Schema(fields, table.schema.metadata);
  const batches = table.batches.map((batch) => {
    const children = table.schema.fields.map((field, index) => {
      const column = batch.getChildAt(index)!;
      if (!arrow.DataType.isDictionary(field.type)) return column.data[0];
      const values: unknown[] = new Array(column.length);
      for (let row = 0; row < column.length; row++) values[row] = column.get(row);
      return arrow.vectorFromArray(values, field.type.dictionary).data[0];
    });
    const data = arrow.makeData({
      type: new arrow.Struct(fields),
      length: batch.numRows,
      nullCount: 0,
      children,
    });
    return new arrow.RecordBatch(schema, data);
  });
  return new arrow.Table(schema, batches);
}

/** An IPC file of `schema` and `batches` (what LanceDB's native calls read). */
export function ipcFile(schema: arrow.Schema, batches: readonly arrow.RecordBatch[]): Uint8Array {
  const writer = new arrow.RecordBatchFileWriter();
  writer.reset(undefined, schema);
  for (const batch of batches) writer.write(batch);
  writer.finish();
  return writer.toUint8Array(true);
}

/**
 * The IPC stream inside an IPC file, without decoding it: a file is the magic, the stream's
 * messages, an optional end-of-stream marker, the footer, its length and the magic again.
 */
export function fileToStream(file: Uint8Array): Uint8Array {
  const n = file.length;
  const isFile = n >= 18 && FILE_MAGIC.every((b, i) => file[i] === b && file[n - 6 + i] === b);
  if (!isFile) return file; // a stream already
  const footerLength = new DataView(file.buffer, file.byteOffset + n - 10, 4).getInt32(0, true);
  const end = n - 10 - footerLength;
  // Writers may pad after the magic (arrow-rs aligns the first message to 64 bytes): a stream
  // reader would take those zeros for an end-of-stream marker.
  let begin = 8;
  while (
    begin + 4 <= end && file[begin] === 0 && file[begin + 1] === 0 &&
    file[begin + 2] === 0 && file[begin + 3] === 0
  ) begin += 4;
  const body = file.subarray(begin, end);
  const hasEos = body.length >= 8 &&
    END_OF_STREAM.every((b, i) => body[body.length - 8 + i] === b);
  if (hasEos) return body.slice();
  const out = new Uint8Array(body.length + 8);
  out.set(body);
  out.set(END_OF_STREAM, body.length);
  return out;
}

/** The number of rows of an IPC file or stream (decodes metadata only). */
export function ipcRows(bytes: Uint8Array): number {
  return arrow.tableFromIPC(bytes).numRows;
}

/** An IPC stream holding only the schema of an IPC file or stream. */
export function schemaStream(bytes: Uint8Array): Uint8Array {
  const schema = arrow.tableFromIPC(bytes).schema;
  return arrow.tableToIPC(new arrow.Table(schema), "stream");
}

/** The schema of an IPC file or stream. */
export function schemaOf(bytes: Uint8Array): arrow.Schema {
  return arrow.tableFromIPC(bytes).schema;
}

/** An IPC file holding only a schema. */
export function schemaFile(schema: arrow.Schema): Uint8Array {
  return ipcFile(schema, []);
}

/** The byte size of a batch's buffers (for the writer's memory bound). */
export function batchBytes(batch: arrow.RecordBatch): number {
  let total = 0;
  const visit = (data: arrow.Data): void => {
    for (const buffer of [data.values, data.valueOffsets, data.nullBitmap, data.typeIds]) {
      if (buffer) total += (buffer as ArrayBufferView).byteLength;
    }
    for (const child of data.children) visit(child);
    if (data.dictionary) { for (const d of data.dictionary.data) visit(d); }
  };
  visit(batch.data);
  return total;
}
