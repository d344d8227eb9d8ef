import type { PcmAudio } from "./pcm_audio.ts";

/** Who is speaking in a call. */
export interface VoiceSpeaker {
  /** Their id in the media room (LiveKit: the participant identity, the room participant id). */
  id: string;
  /** Their display name, when known. */
  name?: string;
}

/** Audio heard in a call: one frame from one speaker. */
export interface VoiceFrame extends PcmAudio {
  /** Who spoke it. */
  speaker: VoiceSpeaker;
}

/** What {@linkcode VoiceTransport.join} needs: the media room and how to enter it. */
export interface VoiceJoinRequest {
  /** The media server URL (`room.livekit.getConnectionInfo`). */
  url: string;
  /** The media access token. */
  token: string;
  /** The breakout room of the call. */
  breakoutRoom: string;
  /** The sample rate frames in and out use (default 24 000). */
  sampleRate?: number;
  /** Cancels joining. */
  signal?: AbortSignal;
}

/**
 * A joined call: frames in, audio out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InMemoryVoiceTransport } from "@meshagent/agents";
 * const transport = new InMemoryVoiceTransport();
 * const connection = await transport.join({ url: "mem://", token: "t", breakoutRoom: "call-1" });
 * await connection.close();
 * assert.equal(transport.calls[0].closed, true);
 * ```
 */
export interface VoiceConnection {
  /**
   * The audio the others say, as it arrives; ends when the call ends or the connection closes.
   *
   * @returns The frames.
   */
  frames(): AsyncIterable<VoiceFrame>;
  /**
   * Says audio into the call.
   *
   * @param audio The audio (at the connection's sample rate).
   * @param signal Stops playing early.
   * @returns Once the audio was handed to the media layer.
   */
  play(audio: PcmAudio, signal?: AbortSignal): Promise<void>;
  /** Leaves the call and releases its media resources. */
  close(): Promise<void>;
}

/**
 * The media layer of a voice agent: joins a call's media room. `LivekitVoiceTransport` in
 * `@meshagent/adapters/livekit` joins LiveKit rooms; {@linkcode InMemoryVoiceTransport} is the
 * in-process one tests use.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InMemoryVoiceTransport, type VoiceTransport } from "@meshagent/agents";
 * const transport: VoiceTransport = new InMemoryVoiceTransport();
 * const connection = await transport.join({ url: "mem://", token: "t", breakoutRoom: "b" });
 * await connection.close();
 * assert.ok(connection);
 * ```
 */
export interface VoiceTransport {
  /**
   * Joins a call.
   *
   * @param request The media room and its token.
   * @returns The connection.
   */
  join(request: VoiceJoinRequest): Promise<VoiceConnection>;
}
