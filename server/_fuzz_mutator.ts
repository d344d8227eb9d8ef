// Private: the mutation engine of the fuzz targets (server/_fuzz_targets.ts). Inputs are trees of
// JSON values with byte strings as leaves ({@linkcode FuzzValue}); a mutation changes one node of
// the tree (a byte string at the byte level, a string, number or container at the JSON level) or
// splices in a node of another corpus entry. Everything is driven by a seeded PRNG, so a seed and
// an input index reproduce an input exactly.
import { packMessage, unpackMessage } from "@meshagent/api";

/** A fuzz input: JSON values whose leaves may also be byte strings. */
export type FuzzValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | FuzzValue[]
  | { [key: string]: FuzzValue };

/** A JSON object node of a {@linkcode FuzzValue}. */
export type FuzzObject = { [key: string]: FuzzValue };

/** sfc32: a small, fast PRNG with a 128-bit state; good enough to drive mutations. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = ((c << 21) | (c >>> 11)) + t | 0;
    return t >>> 0;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** True with probability `1 / n`. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }

  /** A random element. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** An integer in [0, max] that favours small values (sizes, counts, offsets). */
  small(max: number): number {
    const bits = this.below(Math.ceil(Math.log2(max + 1)) + 1);
    return Math.min(max, this.below(2 ** bits));
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Inputs never grow past this many serialised bytes (bounds memory and time per input). */
export const MAX_INPUT_BYTES = 256 * 1024;

const U32_VALUES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x400, 0x401, 0xffff, 0x10000];
const U32_EDGES = [0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff];
/** 64-bit values as [high, low] words: 2^31, 2^32, 2^53 - 1, 2^53, 2^53 + 1, 2^63, 2^64 - 1. */
const U64_EDGES: readonly [number, number][] = [
  [0, 0x8000_0000],
  [1, 0],
  [0x1f_ffff, 0xffff_ffff],
  [0x20_0000, 0],
  [0x20_0000, 1],
  [0x8000_0000, 0],
  [0xffff_ffff, 0xffff_ffff],
];
/** Byte sequences that are invalid or tricky UTF-8: overlong, surrogate, past U+10FFFF, BOM. */
const NASTY_BYTES: readonly number[][] = [
  [0x80],
  [0xc0, 0x80],
  [0xc3],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xff, 0xfe],
  [0xef, 0xbb, 0xbf],
  [0xef, 0xbf, 0xbd],
  [0x00],
  [0x7b, 0x7d],
  [0x5b],
  [0x22],
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  2,
  0.5,
  -0.5,
  255,
  256,
  1023,
  1024,
  1025,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  2 ** 63,
  2 ** 64,
  1e21,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_VALUE,
];
const STRINGS = [
  "",
  " ",
  ".",
  "..",
  "../",
  "../../etc/passwd",
  "/",
  "//",
  "a/../../b",
  "./a",
  "a\\b",
  "\u0000",
  "a\u0000b",
  "\n",
  "\r\n",
  "\t",
  "\u202e",
  "\u200b",
  "\ud800",
  "\udc00x",
  "\ufeff",
  "\uffff",
  "😀",
  "é",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "null",
  "true",
  "0",
  "-1",
  "1e400",
  "NaN",
  "{}",
  "[]",
  '{"a":1}',
  '{"__proto__":{"x":1}}',
  "%s%n",
  "${x}",
  "'",
  '"',
  "`",
  "' OR 1=1 --",
  "; DROP TABLE t; --",
  "SELECT 1",
  "select * from t",
  "ATTACH DATABASE 'x' AS y",
  "PRAGMA journal_mode=DELETE",
  "BEGIN",
  "COMMIT",
  "VACUUM INTO '/tmp/x'",
  "main",
  "temp",
  "sqlite_master",
  ".meshagent~upload-1",
  ".schemas/x.json",
  "x.document",
  "AAAA",
  "AA==",
  "A",
  "====",
  "not base64!",
];

/** Keys the targets understand: adding one of them reaches code a random key does not. */
const KEYS = [
  "type",
  "json",
  "text",
  "name",
  "mime_type",
  "headers",
  "kind",
  "url",
  "code",
  "method",
  "status_code",
  "message",
  "toolkit",
  "tool",
  "arguments",
  "tool_call_id",
  "participant_id",
  "on_behalf_of_id",
  "chunk",
  "path",
  "overwrite",
  "size",
  "chunk_size",
  "recursive",
  "source_path",
  "destination_path",
  "download",
  "to_participant_id",
  "message_json",
  "attachment_base64",
  "create",
  "wait",
  "data",
  "extra",
  "vector",
  "schema",
  "schema_path",
  "initial_json",
  "database",
  "namespace",
  "mode",
  "table",
  "new_name",
  "ignore_missing",
  "where",
  "params",
  "values",
  "column",
  "value_json",
  "value",
  "expression",
  "limit",
  "offset",
  "select",
  "order_by",
  "descending",
  "columns",
  "query",
  "query_id",
  "__meshagent__",
  "__proto__",
  "tools",
  "description",
  "input_schema",
  "public",
];

/**
 * Encodes a value for a corpus file: byte strings become `{"$bytes": "<base64>"}`, and strings
 * with lone surrogates (which JSON files cannot hold as UTF-8) `{"$utf16": [code units]}`.
 */
export function encodeFuzzValue(value: FuzzValue): unknown {
  if (value instanceof Uint8Array) return { $bytes: value.toBase64() };
  if (typeof value === "string" && !value.isWellFormed()) {
    return { $utf16: Array.from({ length: value.length }, (_, i) => value.charCodeAt(i)) };
  }
  if (Array.isArray(value)) return value.map(encodeFuzzValue);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, encodeFuzzValue(v));
    return out;
  }
  return value;
}

/** Decodes a value of a corpus file (the inverse of {@linkcode encodeFuzzValue}). */
export function decodeFuzzValue(json: unknown): FuzzValue {
  if (Array.isArray(json)) return json.map(decodeFuzzValue);
  if (json !== null && typeof json === "object") {
    const obj = json as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === "$bytes" && typeof obj.$bytes === "string") {
      return Uint8Array.fromBase64(obj.$bytes);
    }
    if (keys.length === 1 && keys[0] === "$utf16" && Array.isArray(obj.$utf16)) {
      return String.fromCharCode(...(obj.$utf16 as number[]));
    }
    const out: FuzzObject = {};
    for (const k of keys) setKey(out, k, decodeFuzzValue(obj[k]));
    return out;
  }
  return json as FuzzValue;
}

/** The size of a value as a corpus file would hold it (about). */
export function fuzzValueSize(value: FuzzValue): number {
  if (value instanceof Uint8Array) return value.length;
  if (typeof value === "string") return value.length + 2;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + fuzzValueSize(v) + 1, 2);
  if (value !== null && typeof value === "object") {
    let n = 2;
    for (const [k, v] of Object.entries(value)) n += k.length + 4 + fuzzValueSize(v);
    return n;
  }
  return 8;
}

/** A deep copy (byte strings included). */
export function cloneFuzzValue(value: FuzzValue): FuzzValue {
  if (value instanceof Uint8Array) return value.slice();
  if (Array.isArray(value)) return value.map(cloneFuzzValue);
  if (value !== null && typeof value === "object") {
    const out: FuzzObject = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, cloneFuzzValue(v));
    return out;
  }
  return value;
}

function isObject(value: FuzzValue): value is FuzzObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/** Every node of a value with its parent and key, in depth-first order. */
interface Slot {
  parent: FuzzValue[] | FuzzObject | null;
  key: string | number;
  value: FuzzValue;
}

function slots(
  root: FuzzValue,
  out: Slot[] = [],
  parent: Slot["parent"] = null,
  key: Slot["key"] = 0,
) {
  out.push({ parent, key, value: root });
  if (Array.isArray(root)) root.forEach((v, i) => slots(v, out, root, i));
  else if (isObject(root)) { for (const [k, v] of Object.entries(root)) slots(v, out, root, k); }
  return out;
}

/**
 * Makes mutated copies of corpus entries. The corpus also serves as the dictionary: strings,
 * values by key, and byte strings seen in any entry are spliced into others.
 */
export class Mutator {
  readonly rng: Rng;
  readonly #corpus: FuzzValue[];
  readonly #byKey = new Map<string, FuzzValue[]>();
  readonly #strings: string[] = [...STRINGS];
  readonly #bytes: Uint8Array[] = [];
  readonly #nodes: FuzzValue[] = [];

  /**
   * @param rng The random source.
   * @param corpus The seed entries (not modified).
   */
  constructor(rng: Rng, corpus: readonly FuzzValue[]) {
    this.rng = rng;
    this.#corpus = [...corpus];
    for (const entry of corpus) this.#learn(entry);
  }

  #learn(entry: FuzzValue): void {
    for (const slot of slots(entry)) {
      const v = slot.value;
      if (typeof slot.key === "string") {
        const list = this.#byKey.get(slot.key) ?? [];
        if (list.length < 64) list.push(v);
        this.#byKey.set(slot.key, list);
      }
      if (typeof v === "string" && v.length <= 256 && this.#strings.length < 2048) {
        this.#strings.push(v);
      }
      if (v instanceof Uint8Array && this.#bytes.length < 512) this.#bytes.push(v);
      if (this.#nodes.length < 4096 && fuzzValueSize(v) < 4096) this.#nodes.push(v);
    }
  }

  /** Adds an entry (for example an input that found something) to the splice sources. */
  add(entry: FuzzValue): void {
    this.#corpus.push(entry);
    this.#learn(entry);
  }

  /** A mutated copy of a random corpus entry: one to four stacked mutations. */
  next(): FuzzValue {
    const rng = this.rng;
    let value = cloneFuzzValue(rng.pick(this.#corpus));
    const rounds = 1 + rng.small(7) % 4;
    for (let i = 0; i < rounds; i++) {
      // On a copy: a mutation that makes the input too big is dropped.
      const mutated = this.mutate(cloneFuzzValue(value));
      if (fuzzValueSize(mutated) <= MAX_INPUT_BYTES) value = mutated;
    }
    return value;
  }

  /**
   * Mutates one node of `value` (which may be changed in place) and returns the result.
   *
   * @param value The input.
   * @returns The mutated input.
   */
  mutate(value: FuzzValue): FuzzValue {
    const all = slots(value);
    const slot = this.rng.pick(all);
    const replaced = this.#mutateNode(slot.value);
    if (slot.parent === null) return replaced ?? null;
    if (replaced === undefined) {
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
    } else if (Array.isArray(slot.parent)) {
      slot.parent[slot.key as number] = replaced;
    } else {
      setKey(slot.parent, slot.key as string, replaced);
    }
    return value;
  }

  /** A replacement for a node; `undefined` removes it from its parent. */
  #mutateNode(node: FuzzValue): FuzzValue | undefined {
    const rng = this.rng;
    switch (rng.below(10)) {
      case 0:
        return this.randomValue();
      case 1:
        return rng.oneIn(3) ? undefined : cloneFuzzValue(rng.pick(this.#nodes));
      default:
        break;
    }
    if (node instanceof Uint8Array) return this.mutateBytes(node);
    if (typeof node === "string") return this.#mutateString(node);
    if (typeof node === "number") return this.#mutateNumber(node);
    if (typeof node === "boolean") return !node;
    if (node === null) return this.randomValue();
    if (Array.isArray(node)) return this.#mutateArray(node);
    return this.#mutateObject(node);
  }

  /** A random value: an interesting scalar, a dictionary value, a container or a deep nest. */
  randomValue(): FuzzValue {
    const rng = this.rng;
    switch (rng.below(12)) {
      case 0:
        return null;
      case 1:
        return rng.oneIn(2);
      case 2:
      case 3:
        return rng.pick(NUMBERS);
      case 4:
      case 5:
        return rng.pick(this.#strings);
      case 6:
        return "x".repeat(rng.pick([255, 256, 1023, 1024, 1025, 4096, 65536]));
      case 7:
        return [];
      case 8:
        return {};
      case 9: {
        // Deep nesting: recursive walkers over client JSON must not overflow the stack.
        // As a tree (kept shallow enough for the harness's own recursion) or as JSON text.
        if (rng.oneIn(2)) {
          const d = rng.pick([10_000, 100_000]);
          return rng.oneIn(2)
            ? "[".repeat(d) + "]".repeat(d)
            : '{"a":'.repeat(d) + "1" + "}".repeat(d);
        }
        const depth = rng.pick([64, 1000]);
        let v: FuzzValue = rng.oneIn(2) ? 1 : "x";
        for (let i = 0; i < depth; i++) v = rng.oneIn(2) ? [v] : { a: v };
        return v;
      }
      case 10:
        return this.#bytes.length > 0 && rng.oneIn(2)
          ? rng.pick(this.#bytes).slice()
          : this.#randomBytes(rng.small(64));
      default:
        return cloneFuzzValue(rng.pick(this.#nodes));
    }
  }

  #randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.u32() & 0xff;
    return out;
  }

  #mutateString(s: string): FuzzValue {
    const rng = this.rng;
    // JSON text inside a string (message_json, value_json): mutate it as JSON.
    if (rng.oneIn(3) && s.length < 8192 && (s.startsWith("{") || s.startsWith("["))) {
      try {
        const parsed = JSON.parse(s) as FuzzValue;
        return JSON.stringify(this.mutate(parsed));
      } catch { /* not JSON after all */ }
    }
    // Base64 inside a string (Yjs vectors, attachments): mutate the bytes it holds.
    if (rng.oneIn(3) && s.length >= 4 && BASE64.test(s)) {
      try {
        return this.mutateBytes(Uint8Array.fromBase64(s)).toBase64();
      } catch { /* not base64 after all */ }
    }
    const at = rng.below(s.length + 1);
    switch (rng.below(9)) {
      case 0:
        return rng.pick(this.#strings);
      case 1:
        return s.slice(0, at) + rng.pick(this.#strings) + s.slice(at);
      case 2: {
        const end = at + 1 + rng.small(16);
        return s.slice(0, at) + s.slice(end);
      }
      case 3:
        return s.slice(0, at);
      case 4:
        return s + s.slice(0, rng.small(s.length));
      case 5:
        return s.repeat(1 + rng.small(64));
      case 6:
        return s.slice(0, at) + String.fromCharCode(rng.u32() & 0xffff) + s.slice(at + 1);
      case 7:
        return s.slice(0, at) + rng.pick(["/", ".", "..", "\\", "\u0000", "%", "'", '"']) +
          s.slice(at);
      default:
        return s.toUpperCase();
    }
  }

  #mutateNumber(n: number): FuzzValue {
    const rng = this.rng;
    switch (rng.below(6)) {
      case 0:
        return n + 1;
      case 1:
        return n - 1;
      case 2:
        return -n;
      case 3:
        return n * (2 ** rng.small(40));
      case 4:
        return String(n);
      default:
        return rng.pick(NUMBERS);
    }
  }

  #mutateArray(items: FuzzValue[]): FuzzValue {
    const rng = this.rng;
    const at = rng.below(items.length + 1);
    switch (rng.below(6)) {
      case 0:
        if (items.length > 0) items.splice(rng.below(items.length), 1);
        return items;
      case 1:
        if (items.length > 0) items.splice(at, 0, cloneFuzzValue(rng.pick(items)));
        return items;
      case 2:
        items.splice(at, 0, this.randomValue());
        return items;
      case 3: {
        if (items.length > 1) {
          const i = rng.below(items.length), j = rng.below(items.length);
          [items[i], items[j]] = [items[j], items[i]];
        }
        return items;
      }
      case 4: {
        // Many copies of one element (large batches, many chunks).
        if (items.length === 0) return items;
        const copy = rng.pick(items);
        const n = 1 + rng.small(32);
        for (let i = 0; i < n; i++) items.splice(at, 0, cloneFuzzValue(copy));
        return items;
      }
      default: {
        // Splice with another entry that is also a list.
        const other = rng.pick(this.#corpus);
        if (!Array.isArray(other) || other.length === 0) return items;
        const from = rng.below(other.length);
        const taken = other.slice(from, from + 1 + rng.small(other.length - from)).map(
          cloneFuzzValue,
        );
        items.splice(at, rng.small(items.length - at), ...taken);
        return items;
      }
    }
  }

  #mutateObject(obj: FuzzObject): FuzzValue {
    const rng = this.rng;
    const keys = Object.keys(obj);
    switch (rng.below(5)) {
      case 0:
        if (keys.length > 0) delete obj[rng.pick(keys)];
        return obj;
      case 1: {
        const key = rng.oneIn(4) ? rng.pick(this.#strings) : rng.pick(KEYS);
        setKey(obj, key, this.#valueFor(key));
        return obj;
      }
      case 2: {
        if (keys.length === 0) return obj;
        const from = rng.pick(keys);
        const to = rng.pick(KEYS);
        setKey(obj, to, obj[from]);
        delete obj[from];
        return obj;
      }
      default: {
        // A value seen under the same key in some entry (crossover by key).
        if (keys.length === 0) return obj;
        const key = rng.pick(keys);
        setKey(obj, key, this.#valueFor(key));
        return obj;
      }
    }
  }

  #valueFor(key: string): FuzzValue {
    const seen = this.#byKey.get(key);
    if (seen && !this.rng.oneIn(4)) return cloneFuzzValue(this.rng.pick(seen));
    return this.randomValue();
  }

  /**
   * Mutates a byte string: bit flips, interesting bytes and integers (32- and 64-bit, big
   * endian, as in packet and packed-message headers), inserted or deleted runs, invalid UTF-8,
   * a splice with another byte string, or (when the bytes are a packed message) a mutation of
   * its JSON header.
   *
   * @param bytes The bytes (not modified).
   * @returns New bytes.
   */
  mutateBytes(bytes: Uint8Array): Uint8Array {
    const rng = this.rng;
    const b = bytes.slice();
    const n = b.length;
    const at = rng.below(n + 1);
    switch (rng.below(14)) {
      case 0:
        if (n > 0) b[rng.below(n)] ^= 1 << rng.below(8);
        return b;
      case 1:
        if (n > 0) b[rng.below(n)] = rng.pick([0, 1, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x5c]);
        return b;
      case 2:
      case 3: {
        // A 32-bit field; packet headers have them at 0, 4, 8 and 12.
        if (n < 4) return b;
        const offset = rng.oneIn(2)
          ? rng.pick([0, 4, 8, 12].filter((o) => o + 4 <= n))
          : rng.below(n - 3);
        const value = rng.oneIn(2)
          ? rng.pick(U32_VALUES)
          : rng.oneIn(2)
          ? rng.pick(U32_EDGES)
          : rng.pick([n, n - 1, n + 1, n - 8, n - 12, n - 16, n - 20].map((v) => v >>> 0));
        new DataView(b.buffer).setUint32(offset, value);
        return b;
      }
      case 4: {
        // A 64-bit length (packed messages) or id (packets) at offset 0.
        if (n < 8) return b;
        const view = new DataView(b.buffer);
        const [high, low] = rng.oneIn(2)
          ? rng.pick(U64_EDGES)
          : [0, (n - 8 + rng.below(3) - 1) >>> 0];
        view.setUint32(0, high);
        view.setUint32(4, low);
        return b;
      }
      case 5: {
        const insert = rng.oneIn(2)
          ? this.#randomBytes(1 + rng.small(16))
          : new Uint8Array(rng.pick(NASTY_BYTES));
        return concat(b.subarray(0, at), insert, b.subarray(at));
      }
      case 6: {
        const end = Math.min(n, at + 1 + rng.small(64));
        return concat(b.subarray(0, at), b.subarray(end));
      }
      case 7:
        return b.slice(0, at);
      case 8: {
        const end = Math.min(n, at + 1 + rng.small(256));
        const copies = 1 + rng.small(16);
        const parts = [b.subarray(0, end)];
        for (let i = 0; i < copies; i++) parts.push(b.subarray(at, end));
        parts.push(b.subarray(end));
        return concat(...parts);
      }
      case 9: {
        if (this.#bytes.length === 0) return b;
        const other = rng.pick(this.#bytes);
        const cut = rng.below(other.length + 1);
        return concat(b.subarray(0, at), other.subarray(cut));
      }
      case 10:
      case 11:
      case 12: {
        const packed = this.#mutatePacked(b);
        if (packed) return packed;
        // Base64 text (sync updates travel so): mutate the bytes it holds.
        const text = n >= 4 && n <= 65536 ? new TextDecoder().decode(b) : "";
        if (BASE64.test(text)) {
          try {
            return new TextEncoder().encode(
              this.mutateBytes(Uint8Array.fromBase64(text)).toBase64(),
            );
          } catch { /* not base64 after all */ }
        }
        if (n > 0) b[rng.below(n)] = rng.u32() & 0xff;
        return b;
      }
      default:
        return concat(b, this.#randomBytes(rng.small(32)));
    }
  }

  /** When `b` is a packed message, or a data packet holding one, mutates its JSON header. */
  #mutatePacked(b: Uint8Array): Uint8Array | null {
    for (const skip of [0, 12]) {
      if (b.length < skip + 8) continue;
      try {
        const { header, payload } = unpackMessage(b.subarray(skip));
        const mutated = this.mutate(header as FuzzValue);
        if (!isObject(mutated)) continue;
        return concat(b.subarray(0, skip), packMessage(mutated, payload));
      } catch {
        continue;
      }
    }
    return null;
  }
}

/**
 * Sets an own property, also for keys like `__proto__` (a plain assignment would set the
 * prototype instead): inputs carry such keys as JSON.parse makes them.
 */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Joins byte strings. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
