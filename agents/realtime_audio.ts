import type { AgentSessionContext } from "./agent_session_context.ts";
import type { LLMAdapter } from "./llm_adapter.ts";

/** An audio format (`AgentAudioFormat`): PCM16 mono at 24 kHz unless said otherwise. */
export interface AgentAudioFormat {
  /** The MIME type (`audio/pcm`, `audio/wav`). */
  type: string;
  /** Samples per second (default 24000). */
  sample_rate?: number;
  /** Bits per second, for compressed formats. */
  bitrate?: number;
}

/** The default realtime audio format: 16-bit little-endian PCM, mono, 24 kHz. */
export const DEFAULT_AUDIO_FORMAT: AgentAudioFormat = { type: "audio/pcm", sample_rate: 24000 };

/**
 * An adapter that takes spoken input (`meshagent.agent.realtime_audio.chunk` / `.commit`, agents.md
 * §1.9): chunks are buffered in the thread's realtime session; a commit makes the buffered audio
 * the input of the next {@linkcode LLMAdapter.createResponse}, which then streams the user's
 * transcript (`audio_transcription.*`), the answer's transcript (`text_content.*`) and its audio
 * (`audio_generation.*`, the bytes in the event's `data`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptedLLMAdapter, supportsRealtimeAudio } from "@meshagent/agents";
 * assert.equal(supportsRealtimeAudio(new ScriptedLLMAdapter(() => ({ text: "hi" }))), false);
 * ```
 */
export interface RealtimeAudioAdapter {
  /**
   * Buffers input audio for the thread's next response (connecting its realtime session first
   * when needed).
   *
   * @param context The thread's context.
   * @param audio The bytes.
   * @param options Their format, and the model to connect with.
   */
  appendRealtimeAudio(
    context: AgentSessionContext,
    audio: Uint8Array,
    options: { format?: AgentAudioFormat; model?: string },
  ): Promise<void>;
  /**
   * Ends the spoken input: the next `createResponse` on this context answers it.
   *
   * @param context The thread's context.
   */
  commitRealtimeAudio(context: AgentSessionContext): Promise<void>;
  /**
   * Closes the thread's realtime session, if it has one.
   *
   * @param context The thread's context.
   */
  closeRealtimeSession(context: AgentSessionContext): Promise<void>;
}

/**
 * Whether an adapter takes realtime audio.
 *
 * @param adapter Any adapter.
 * @returns True when it is a {@linkcode RealtimeAudioAdapter}.
 */
export function supportsRealtimeAudio(
  adapter: LLMAdapter,
): adapter is LLMAdapter & RealtimeAudioAdapter {
  const candidate = adapter as Partial<RealtimeAudioAdapter>;
  return typeof candidate.appendRealtimeAudio === "function" &&
    typeof candidate.commitRealtimeAudio === "function";
}
