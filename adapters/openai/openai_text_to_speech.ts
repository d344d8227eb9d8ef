import {
  LLMError,
  type PcmAudio,
  pcmFromBytes,
  type SynthesizeOptions,
  type TextToSpeech,
} from "@meshagent/agents";
import { createOpenAIClient } from "./_client.ts";
import { classifyOpenAIError } from "./_errors.ts";
import { type OpenAIClientOptions, resolveOpenAIClientConfig } from "./openai_client_options.ts";

/** Options of an {@linkcode OpenAITextToSpeech}. */
export interface OpenAITextToSpeechOptions extends OpenAIClientOptions {
  /** The speech model (default `gpt-4o-mini-tts`). */
  model?: string;
  /** The voice when a call names none (default `echo`). */
  voice?: string;
}

/** OpenAI's PCM speech: 16-bit little-endian, mono, 24 kHz. */
const OPENAI_PCM_RATE = 24000;

/**
 * Text to speech through OpenAI's speech endpoint (`audio.speech.create` of the `openai`
 * client, `response_format: "pcm"`: PCM16 mono at 24 kHz).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenAITextToSpeech } from "@meshagent/adapters/openai";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 * await using server = await FakeOpenAIServer.start();
 * const tts = new OpenAITextToSpeech({ baseURL: server.baseURL, apiKey: "test" });
 * const audio = await tts.synthesize("hi");
 * assert.equal(audio.sampleRate, 24000);
 * assert(audio.samples.length > 0);
 * ```
 */
export class OpenAITextToSpeech implements TextToSpeech {
  /** The model. */
  readonly model: string;
  readonly #options: OpenAITextToSpeechOptions;

  /**
   * Creates the provider (nothing connects before the first request).
   *
   * @param options The model, the default voice and the client settings.
   */
  constructor(options: OpenAITextToSpeechOptions = {}) {
    this.model = options.model ?? "gpt-4o-mini-tts";
    this.#options = options;
  }

  /**
   * Speaks a text.
   *
   * @param text What to say.
   * @param options The voice, instructions and a cancel signal.
   * @returns PCM16 mono at 24 kHz.
   * @throws {LLMError} When OpenAI refuses or cannot be reached (the message says which).
   */
  async synthesize(text: string, options: SynthesizeOptions = {}): Promise<PcmAudio> {
    const client = createOpenAIClient(resolveOpenAIClientConfig(this.#options));
    try {
      const response = await client.audio.speech.create({
        model: this.model,
        input: text,
        voice: options.voice ?? this.#options.voice ?? "echo",
        response_format: "pcm",
        ...(options.instructions ? { instructions: options.instructions } : {}),
      }, options.signal ? { signal: options.signal } : {});
      return pcmFromBytes(new Uint8Array(await response.arrayBuffer()), OPENAI_PCM_RATE);
    } catch (e) {
      const failure = classifyOpenAIError(e, "OpenAI text to speech");
      throw new LLMError(failure.message, failure.code, failure.status);
    }
  }
}
