// UTF-8 for the codec's hot path. Both directions avoid the slow spots of the standard API in
// Deno: `TextEncoder.encode` allocates a fresh array for every call (typed-array allocation costs
// more than encoding a few hundred bytes), and a fatal `TextDecoder` is several times slower than
// a non-fatal one. So strings are encoded with `encodeInto` (into a buffer the caller owns or one
// allocated at the exact size), and bytes are decoded with the non-fatal decoder; only when the
// result holds U+FFFD (a replaced invalid sequence, or a real U+FFFD in the input) the fatal
// decoder decides.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");
const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a string as UTF-8.
 *
 * @param text The string.
 * @returns Its UTF-8 bytes.
 */
export function encodeUtf8(text: string): Uint8Array {
  const n = text.length;
  // Assume ASCII (one byte per UTF-16 unit); anything else reads fewer units than there are.
  const out = new Uint8Array(n);
  if (encoder.encodeInto(text, out).read === n) return out;
  return encoder.encode(text);
}

/**
 * Encodes a string as UTF-8 into `dest` (`3 * text.length` bytes are always enough).
 *
 * @param text The string.
 * @param dest Where to write.
 * @returns The number of bytes written, or -1 when `dest` is too small.
 */
export function encodeUtf8Into(text: string, dest: Uint8Array): number {
  const r = encoder.encodeInto(text, dest);
  return r.read === text.length ? r.written : -1;
}

/**
 * Decodes UTF-8 bytes, throwing a `TypeError` on invalid input.
 *
 * @param bytes The bytes.
 * @returns The string.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const text = decoder.decode(bytes);
  // A replacement character means invalid input, or a U+FFFD that was really there.
  return text.indexOf("\uFFFD") === -1 ? text : fatalDecoder.decode(bytes);
}
