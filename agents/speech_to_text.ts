import type { PcmAudio } from "./pcm_audio.ts";

/** Options of {@linkcode SpeechToText.transcribe}. */
export interface TranscribeOptions {
  /** The language spoken (ISO-639-1), when known. */
  language?: string;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * A speech-to-text provider: one utterance in, its text out. `OpenAISpeechToText` in
 * `@meshagent/adapters/openai` is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SpeechToText } from "@meshagent/agents";
 * const stt: SpeechToText = { transcribe: () => Promise.resolve("hello") };
 * assert.equal(await stt.transcribe({ samples: new Int16Array(1), sampleRate: 24000 }), "hello");
 * ```
 */
export interface SpeechToText {
  /**
   * Transcribes an utterance.
   *
   * @param audio The utterance.
   * @param options Language and cancel signal.
   * @returns What was said (empty when nothing was understood).
   */
  transcribe(audio: PcmAudio, options?: TranscribeOptions): Promise<string>;
}
