import type { PcmAudio } from "./pcm_audio.ts";

/** Options of {@linkcode TextToSpeech.synthesize}. */
export interface SynthesizeOptions {
  /** The provider's voice name (VoiceBot default `echo`). */
  voice?: string;
  /** How to speak (tone, pace), for providers that take instructions. */
  instructions?: string;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * A text-to-speech provider: text in, mono PCM16 out. `OpenAITextToSpeech` in
 * `@meshagent/adapters/openai` is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TextToSpeech } from "@meshagent/agents";
 * const tts: TextToSpeech = {
 *   synthesize: (text) =>
 *     Promise.resolve({ samples: new Int16Array(text.length), sampleRate: 24000 }),
 * };
 * assert.equal((await tts.synthesize("hi")).samples.length, 2);
 * ```
 */
export interface TextToSpeech {
  /**
   * Speaks a text.
   *
   * @param text What to say.
   * @param options The voice and a cancel signal.
   * @returns The speech.
   */
  synthesize(text: string, options?: SynthesizeOptions): Promise<PcmAudio>;
}
