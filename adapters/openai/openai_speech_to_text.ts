import {
  LLMError,
  type PcmAudio,
  pcmToWav,
  type SpeechToText,
  type TranscribeOptions,
} from "@meshagent/agents";
import { toFile } from "openai";
import { createOpenAIClient } from "./_client.ts";
import { classifyOpenAIError } from "./_errors.ts";
import { type OpenAIClientOptions, resolveOpenAIClientConfig } from "./openai_client_options.ts";

/** Options of an {@linkcode OpenAISpeechToText}. */
export interface OpenAISpeechToTextOptions extends OpenAIClientOptions {
  /** The transcription model (default `gpt-4o-mini-transcribe`). */
  model?: string;
  /** The language spoken (ISO-639-1), when always the same. */
  language?: string;
}

/**
 * Speech to text through OpenAI's transcription endpoint (`audio.transcriptions.create` of the
 * `openai` client): each utterance is uploaded as a WAV file. The base URL and key resolve as
 * for the other OpenAI adapters (`OPENAI_BASE_URL`/`OPENAI_API_KEY`, else the MeshAgent proxy).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OpenAISpeechToText } from "@meshagent/adapters/openai";
 * import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
 * await using server = await FakeOpenAIServer.start({ audio: { transcribe: () => "hello" } });
 * const stt = new OpenAISpeechToText({ baseURL: server.baseURL, apiKey: "test" });
 * const text = await stt.transcribe({ samples: new Int16Array(2400), sampleRate: 24000 });
 * assert.equal(text, "hello");
 * ```
 */
export class OpenAISpeechToText implements SpeechToText {
  /** The model. */
  readonly model: string;
  readonly #options: OpenAISpeechToTextOptions;

  /**
   * Creates the provider (nothing connects before the first transcription).
   *
   * @param options The model, the language and the client settings.
   */
  constructor(options: OpenAISpeechToTextOptions = {}) {
    this.model = options.model ?? "gpt-4o-mini-transcribe";
    this.#options = options;
  }

  /**
   * Transcribes an utterance.
   *
   * @param audio The utterance.
   * @param options Language and cancel signal.
   * @returns The text.
   * @throws {LLMError} When OpenAI refuses or cannot be reached (the message says which).
   */
  async transcribe(audio: PcmAudio, options: TranscribeOptions = {}): Promise<string> {
    const client = createOpenAIClient(resolveOpenAIClientConfig(this.#options));
    const language = options.language ?? this.#options.language;
    try {
      const file = await toFile(pcmToWav(audio), "speech.wav", { type: "audio/wav" });
      const result = await client.audio.transcriptions.create({
        file,
        model: this.model,
        response_format: "json",
        ...(language ? { language } : {}),
      }, options.signal ? { signal: options.signal } : {});
      return result.text;
    } catch (e) {
      const failure = classifyOpenAIError(e, "OpenAI speech to text");
      throw new LLMError(failure.message, failure.code, failure.status);
    }
  }
}
