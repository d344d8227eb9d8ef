// UTF-8 for the codec's hot path. Short ASCII strings (every header of a typical message) are
// converted in JavaScript: Deno's TextEncoder/TextDecoder cross into native code on every call,
// which costs more than the conversion itself for a few hundred bytes. Anything longer, or not
// ASCII, goes through the standard (fatal) TextEncoder/TextDecoder.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Strings up to this many characters take the JavaScript path when they are ASCII. */
const FAST_LIMIT = 2048;

/**
 * Encodes a string as UTF-8.
 *
 * @param text The string.
 * @returns Its UTF-8 bytes.
 */
export function encodeUtf8(text: string): Uint8Array {
  const n = text.length;
  if (n <= FAST_LIMIT) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return encoder.encode(text);
      out[i] = c;
    }
    return out;
  }
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 bytes, throwing a `TypeError` on invalid input.
 *
 * @param bytes The bytes.
 * @returns The string.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= FAST_LIMIT) {
    for (let i = 0; i < n; i++) {
      if (bytes[i] > 0x7f) return decoder.decode(bytes);
    }
    // All ASCII: every byte is one UTF-16 code unit. Chunked to stay far below argument limits.
    let out = "";
    for (let i = 0; i < n; i += 512) {
      out += String.fromCharCode.apply(
        null,
        bytes.subarray(i, Math.min(i + 512, n)) as unknown as number[],
      );
    }
    return out;
  }
  return decoder.decode(bytes);
}
