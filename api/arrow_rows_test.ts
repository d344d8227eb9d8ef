// The Arrow row codec on streams that are well formed but not usable as rows.
import assert from "node:assert/strict";
import { decodeArrowSchema, decodeArrowStream, encodeArrowStream } from "./arrow_rows.ts";
import { RoomError } from "./errors.ts";

/** Leaves out the name of the first field of the schema (the first message) of a stream. */
function withoutFirstFieldName(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const start = 8; // after the continuation marker and the metadata length
  const table = (at: number) => at + view.getUint32(at, true);
  const slot = (t: number, i: number) => {
    const vtable = t - view.getInt32(t, true);
    return vtable + 4 + 2 * i;
  };
  const field = (t: number, i: number) => t + view.getUint16(slot(t, i), true);
  const message = table(start);
  const schema = table(field(message, 2));
  const fields = table(field(schema, 1));
  const first = table(fields + 4);
  view.setUint16(slot(first, 0), 0, true); // the name: absent
  return out;
}

Deno.test("arrow rows: a field without a name is refused with 1002", () => {
  const bytes = encodeArrowStream([{ name: "id", type: "int64" }], [[1n]]);
  assert.equal(decodeArrowStream(bytes).columns[0].name, "id");
  const nameless = withoutFirstFieldName(bytes);
  for (const decode of [decodeArrowStream, decodeArrowSchema]) {
    assert.throws(() => decode(nameless), (e: unknown) => {
      assert(e instanceof RoomError && e.code === 1002, String(e));
      assert.match(e.message, /Arrow field 0 has no name/);
      return true;
    });
  }
});
