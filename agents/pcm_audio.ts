/**
 * Raw audio as the voice agents pass it around: 16-bit signed PCM, mono, at a stated sample rate.
 *
 * @module
 */

/** Mono PCM16 audio. */
export interface PcmAudio {
  /** The samples, −32768…32767. */
  samples: Int16Array;
  /** Samples per second. */
  sampleRate: number;
}

/** The sample rate the voice agents work at (OpenAI speech's PCM rate): 24 kHz. */
export const VOICE_SAMPLE_RATE = 24000;

/**
 * Reads little-endian PCM16 bytes (what `sox -t raw` and OpenAI's `pcm` speech format give).
 *
 * @param bytes The bytes (an odd last byte is dropped).
 * @param sampleRate Their sample rate (default 24 000).
 * @returns The audio.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pcmFromBytes } from "@meshagent/agents";
 * const audio = pcmFromBytes(new Uint8Array([1, 0, 0xff, 0xff]));
 * assert.deepEqual([...audio.samples], [1, -1]);
 * ```
 */
export function pcmFromBytes(bytes: Uint8Array, sampleRate: number = VOICE_SAMPLE_RATE): PcmAudio {
  const count = bytes.length >> 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(i * 2, true);
  return { samples, sampleRate };
}

/**
 * Writes audio as little-endian PCM16 bytes.
 *
 * @param audio The audio.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pcmToBytes } from "@meshagent/agents";
 * const bytes = pcmToBytes({ samples: new Int16Array([1, -1]), sampleRate: 24000 });
 * assert.deepEqual([...bytes], [1, 0, 0xff, 0xff]);
 * ```
 */
export function pcmToBytes(audio: PcmAudio): Uint8Array {
  const bytes = new Uint8Array(audio.samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < audio.samples.length; i++) view.setInt16(i * 2, audio.samples[i], true);
  return bytes;
}

/**
 * Wraps audio in a WAV file (RIFF, PCM format 1, mono, 16 bits), as speech-to-text uploads need.
 *
 * @param audio The audio.
 * @returns The file's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pcmToWav } from "@meshagent/agents";
 * const wav = pcmToWav({ samples: new Int16Array(10), sampleRate: 16000 });
 * assert.equal(new TextDecoder().decode(wav.subarray(0, 4)), "RIFF");
 * assert.equal(wav.length, 44 + 20);
 * ```
 */
export function pcmToWav(audio: PcmAudio): Uint8Array {
  const data = pcmToBytes(audio);
  const out = new Uint8Array(44 + data.length);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + data.length, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, data.length, true);
  out.set(data, 44);
  return out;
}

/**
 * Cuts audio into frames of `ms` milliseconds (the last one may be shorter), as media
 * transports send it.
 *
 * @param audio The audio.
 * @param ms The frame length (default 20 ms).
 * @returns The frames, sharing the audio's buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pcmFrames } from "@meshagent/agents";
 * const frames = pcmFrames({ samples: new Int16Array(1000), sampleRate: 24000 });
 * assert.deepEqual(frames.map((f) => f.samples.length), [480, 480, 40]);
 * ```
 */
export function pcmFrames(audio: PcmAudio, ms = 20): PcmAudio[] {
  const size = Math.max(1, Math.round(audio.sampleRate * ms / 1000));
  const frames: PcmAudio[] = [];
  for (let at = 0; at < audio.samples.length; at += size) {
    frames.push({ samples: audio.samples.subarray(at, at + size), sampleRate: audio.sampleRate });
  }
  return frames;
}

/**
 * Joins audio parts of one sample rate.
 *
 * @param parts The parts (at least one).
 * @returns The joined audio.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatPcm } from "@meshagent/agents";
 * const a = { samples: new Int16Array([1]), sampleRate: 8000 };
 * assert.deepEqual([...concatPcm([a, a]).samples], [1, 1]);
 * ```
 */
export function concatPcm(parts: readonly PcmAudio[]): PcmAudio {
  const sampleRate = parts[0]?.sampleRate ?? VOICE_SAMPLE_RATE;
  const samples = new Int16Array(parts.reduce((n, p) => n + p.samples.length, 0));
  let at = 0;
  for (const part of parts) {
    if (part.sampleRate !== sampleRate) {
      throw new Error(`cannot join ${part.sampleRate} Hz audio to ${sampleRate} Hz audio`);
    }
    samples.set(part.samples, at);
    at += part.samples.length;
  }
  return { samples, sampleRate };
}
