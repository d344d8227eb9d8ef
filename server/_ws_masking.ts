// Deno- and Node-only: word-at-a-time WebSocket masking for npm `ws`.
//
// [impl] Without its optional native `bufferutil` (which Deno does not load), `ws` unmasks every
// incoming frame one byte at a time in JavaScript: 75 MB of dataset rows cost the server ~115 ms
// of its event loop in that loop alone (bench/README.md, datasets). `ws` first looks for
// `websocketMask`/`websocketUnmask` on the `http` module (the hook Bun fills with its native
// ones) when it loads; this module, imported before `ws`, puts word-at-a-time versions there.
import http from "node:http";

const HOOKS = http as unknown as {
  websocketMask?: (
    source: Uint8Array,
    mask: Uint8Array,
    output: Uint8Array,
    offset: number,
    length: number,
  ) => void;
  websocketUnmask?: (buffer: Uint8Array, mask: Uint8Array) => void;
};

const word = new Uint8Array(4);
const wordView = new Uint32Array(word.buffer);

/** The 4 mask bytes as they line up from byte `k` of the payload, read as one 32-bit word. */
function maskWord(mask: Uint8Array, k: number): number {
  word[0] = mask[k & 3];
  word[1] = mask[(k + 1) & 3];
  word[2] = mask[(k + 2) & 3];
  word[3] = mask[(k + 3) & 3];
  return wordView[0];
}

/**
 * XORs `buffer` with the repeating 4-byte `mask` in place (RFC 6455 §5.3), a 32-bit word at a
 * time where the buffer's memory is aligned.
 *
 * @param buffer The payload.
 * @param mask The masking key.
 */
export function unmaskInPlace(buffer: Uint8Array, mask: Uint8Array): void {
  const n = buffer.length;
  let i = 0;
  const head = Math.min(n, (4 - (buffer.byteOffset & 3)) & 3);
  for (; i < head; i++) buffer[i] ^= mask[i & 3];
  const count = (n - i) >>> 2;
  if (count > 0) {
    const words = new Uint32Array(buffer.buffer, buffer.byteOffset + i, count);
    const m = maskWord(mask, i);
    for (let w = 0; w < count; w++) words[w] ^= m;
    i += count << 2;
  }
  for (; i < n; i++) buffer[i] ^= mask[i & 3];
}

/**
 * Writes `source[0, length)` XOR `mask` to `output` from `offset` (what `ws` sends as a client).
 *
 * @param source The payload.
 * @param mask The masking key.
 * @param output Where the masked bytes go.
 * @param offset Where in `output` they start.
 * @param length How many bytes.
 */
export function maskInto(
  source: Uint8Array,
  mask: Uint8Array,
  output: Uint8Array,
  offset: number,
  length: number,
): void {
  output.set(source.subarray(0, length), offset);
  unmaskInPlace(output.subarray(offset, offset + length), mask);
}

if (!HOOKS.websocketMask && !HOOKS.websocketUnmask) {
  try {
    HOOKS.websocketMask = maskInto;
    HOOKS.websocketUnmask = unmaskInPlace;
  } catch {
    // A frozen module object: ws keeps its own byte loop.
  }
}
