// The IPC guard of the Arrow codec: crafted messages that apache-arrow would expand without bound
// are refused with 1002 before it reads them; real streams pass.
import assert from "node:assert/strict";
import {
  checkArrowIpc,
  MAX_SCHEMA_DEPTH,
  MAX_SCHEMA_FIELDS,
  ROWS_WITHOUT_BYTES,
} from "./_arrow_ipc_guard.ts";
import {
  decodeArrowSchema,
  decodeArrowStream,
  encodeArrowSchema,
  encodeArrowStream,
} from "./arrow_rows.ts";
import { RoomError } from "./errors.ts";

/**
 * An IPC stream whose schema has one field with a chain of `levels` child lists, each holding
 * `width` offsets to the next level's one field (a DAG: `width ** levels` fields as a tree).
 * With `loop`, the first field's children point back at itself.
 */
function craftedSchema(levels: number, width: number, loop = false): Uint8Array {
  const fb: number[] = [];
  const u32 = (at: number, v: number) => {
    while (fb.length < at + 4) fb.push(0);
    for (let i = 0; i < 4; i++) fb[at + i] = (v >>> (8 * i)) & 0xff;
  };
  const u16s = (at: number, values: number[]) => {
    values.forEach((v, i) => {
      while (fb.length < at + 2 * i + 2) fb.push(0);
      fb[at + 2 * i] = v & 0xff;
      fb[at + 2 * i + 1] = v >>> 8;
    });
  };
  // Message {header_type: Schema, header} at 16, its vtable at 4.
  u32(0, 16);
  u16s(4, [10, 12, 0, 4, 8]);
  u32(16, 16 - 4);
  fb[20] = 1;
  u32(24, 36 - 24);
  // Schema {fields} at 36, vtable at 28; fields = [field 0] at 44.
  u16s(28, [8, 8, 0, 4]);
  u32(36, 36 - 28);
  u32(40, 44 - 40);
  u32(44, 1);
  const base = 68;
  const node = (k: number) => base + (12 + 4 * width) * k;
  u32(48, node(0) - 48);
  // Field {children} vtable at 52 (children is field 5).
  u16s(52, [16, 8, 0, 0, 0, 0, 0, 4]);
  for (let k = 0; k <= levels; k++) {
    const at = node(k);
    u32(at, at - 52);
    u32(at + 4, 4); // children vector right after
    const last = k === levels;
    u32(at + 8, last && !loop ? 0 : width);
    if (last && !loop) continue;
    for (let i = 0; i < width; i++) {
      const p = at + 12 + 4 * i;
      u32(p, (loop ? node(0) : node(k + 1)) - p);
    }
    if (loop) break;
  }
  while (fb.length % 8 !== 0) fb.push(0);
  const out = new Uint8Array(8 + fb.length + 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xffff_ffff, true);
  view.setUint32(4, fb.length, true);
  out.set(fb, 8);
  view.setUint32(8 + fb.length, 0xffff_ffff, true);
  return out;
}

function refused(bytes: Uint8Array, text: RegExp): void {
  for (const decode of [decodeArrowSchema, decodeArrowStream]) {
    assert.throws(() => decode(bytes), (e: unknown) => {
      assert(e instanceof RoomError, String(e));
      assert.equal(e.code, 1002);
      assert.match(e.message, text);
      return true;
    });
  }
}

Deno.test("arrow IPC guard: a shared child list that expands to 2^20 fields is refused", () => {
  refused(craftedSchema(20, 2), new RegExp(`more than ${MAX_SCHEMA_FIELDS} fields`));
});

Deno.test("arrow IPC guard: fields nested 100 deep are refused", () => {
  refused(craftedSchema(100, 1), new RegExp(`deeper than ${MAX_SCHEMA_DEPTH} levels`));
});

Deno.test("arrow IPC guard: a field that is its own child (a backward offset) is refused", () => {
  // FlatBuffer offsets point forward; apache-arrow reads them signed and would follow the loop.
  refused(craftedSchema(0, 1, true), /offset is out of range/);
});

Deno.test("arrow IPC guard: the schema the fuzzer found is refused", () => {
  // A mutated add_columns payload (server/testdata/fuzz/found.json, target sqlite): one field
  // table duplicated, so offsets point past the message; apache-arrow took 4 GB in a minute.
  const payload = Uint8Array.fromHex(
    "ffffffff800000001000000000000a0010000e00070008000a00000000000001100000000000040008000800" +
      "00000400080000000400000001000000140000001000180004000b001300140000000c001000000014000000" +
      "00000001140000000000000318000000010000006e000000000000140000001000180004000b001300140000" +
      "000c00100000001400000000000001140000000000000318000000010000006e000000000000140000001000" +
      "180004000b001300140000000c00100000001400000000000001140000000000000318000000010000006e00" +
      "0000000000140000001000180004000b001300140000000c0010000000140000000000000114000000000000" +
      "0318000000010000006e000000000000140000001000180004000b001300140000000c001000000014000000" +
      "00000001140000000000000318000000010000006e0000000000000000000600080006000600000000000200" +
      "00000000ffffffff00000000",
  );
  refused(payload, /offset is out of range/);
});

Deno.test("arrow IPC guard: the record batch the fuzzer found is refused", () => {
  // A mutated insert data chunk (three bytes inserted into the record batch message): apache-arrow
  // ran out of memory reading it.
  const stream = Uint8Array.fromHex(
    "ffffffffb80000001000000000000a0010000e00070008000a00000000000001100000000000040008000800" +
      "000004000800000004000000020000004800000004000000d0ffffff14000000000000011800000000000005" +
      "18000000050000007469746c650000000000000004000400040000001000180004000b001300140000000c00" +
      "10000000140000000000000114000000000000021800000002000000696400000000000008000c0008000700" +
      "08000000000000014000000000000000ffffffffc800000014000000000000000c00160014000f0010000400" +
      "0c0000001800000000000000000000031000000004000a0018000c00080004000a0000001400000068000000" +
      "0100000000000000000000000500000000000000000000000000000000000000000000000000000008000000" +
      "00000000080000000000000000000000000000000800000000000000e0808008000000000000001000000000" +
      "0000000800000000000000000000000200000001000000000000000000000000000000010000000000000000" +
      "00000000000000010000000000000000000000010000006100000000000000ffffffff00000000",
  );
  assert.throws(() => decodeArrowStream(stream), (e: unknown) => {
    assert(e instanceof RoomError && e.code === 1002, String(e));
    return true;
  });
});

/** The position of the `length` (rows) of the first record batch of a stream of our encoder. */
function batchLengthAt(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const schemaLength = view.getUint32(4, true);
  const start = 8 + schemaLength + 8; // the schema message has no body
  const table = start + view.getUint32(start, true);
  const field = (t: number, i: number) => {
    const vtable = t - view.getInt32(t, true);
    return t + view.getUint16(vtable + 4 + 2 * i, true);
  };
  const header = field(table, 2);
  const batch = header + view.getUint32(header, true);
  return field(batch, 0);
}

Deno.test("arrow IPC guard: a record batch that claims more rows than its bytes hold is refused", () => {
  const bytes = encodeArrowStream([{ name: "ok", type: "bool" }], [[true], [false]]);
  const at = batchLengthAt(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(view.getUint32(at, true), 2);
  assert.equal(decodeArrowStream(bytes).rows.length, 2);
  // 2^26 rows in a few bytes: without the bound, apache-arrow pads the column and the decoder
  // makes 67 million rows of it (gigabytes).
  view.setUint32(at, 1 << 26, true);
  assert.throws(() => decodeArrowStream(bytes), /claims more rows than its \d+ bytes can hold/);
  view.setUint32(at, ROWS_WITHOUT_BYTES, true);
  assert.doesNotThrow(() => checkArrowIpc(bytes));
});

Deno.test("arrow IPC guard: real schemas, nested ones included, pass", () => {
  const bytes = encodeArrowSchema([
    { name: "id", type: "int64" },
    { name: "t", type: "utf8" },
    { name: "at", type: "timestamp" },
  ]);
  checkArrowIpc(bytes);
  const rows = Array.from({ length: 5000 }, (_, i) => [BigInt(i), `row ${i}`, null]);
  const stream = encodeArrowStream(
    [{ name: "id", type: "int64" }, { name: "t", type: "utf8" }, { name: "at", type: "timestamp" }],
    rows,
  );
  checkArrowIpc(stream);
  assert.equal(decodeArrowStream(stream).rows.length, 5000);
  assert.equal(decodeArrowSchema(bytes).length, 3);
  // A small crafted schema within both limits reaches apache-arrow (which refuses its empty
  // types in its own words).
  checkArrowIpc(craftedSchema(3, 2));
});
