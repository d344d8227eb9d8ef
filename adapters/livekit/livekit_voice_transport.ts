// Node-API code: @livekit/rtc-node is a native addon (loaded on first join); Deno and Node only.
import {
  type PcmAudio,
  pcmFrames,
  VOICE_SAMPLE_RATE,
  type VoiceConnection,
  type VoiceFrame,
  type VoiceJoinRequest,
  type VoiceTransport,
} from "@meshagent/agents";
import type * as Rtc from "@livekit/rtc-node";

/** Options of a {@linkcode LivekitVoiceTransport}. */
export interface LivekitVoiceTransportOptions {
  /** How long (ms) connecting may take (default 15 000). */
  connectTimeout?: number;
  /** The published track's name (default `agent-voice`). */
  trackName?: string;
}

/** Joining a LiveKit room failed: the media server, the URL or the token (the message says). */
export class LivekitJoinError extends Error {
  /** `connect_failed`, `timeout` or `publish_failed`. */
  readonly code: string;

  /**
   * Makes the error.
   *
   * @param message What failed and what to check.
   * @param code The failure.
   */
  constructor(message: string, code: string) {
    super(message);
    this.name = "LivekitJoinError";
    this.code = code;
  }
}

let loaded: Promise<typeof Rtc> | null = null;
function rtc(): Promise<typeof Rtc> {
  loaded ??= import("@livekit/rtc-node");
  return loaded;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The LiveKit media layer of a voice agent, on npm `@livekit/rtc-node`: `Room.connect` with the
 * URL and token of `room.livekit.getConnectionInfo`, an `AudioSource` published as a microphone
 * track for what the agent says, and an `AudioStream` (resampled to the call's rate, mono) on
 * each remote audio track for what it hears, each frame tagged with the speaker's identity
 * (the room participant id, as the room's `livekit` toolkit mints it) and name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LivekitVoiceTransport } from "@meshagent/adapters/livekit";
 * const transport = new LivekitVoiceTransport({ connectTimeout: 5000 });
 * assert.equal(typeof transport.join, "function");
 * // const bot = new VoiceBot({ transport, llmAdapter, stt, tts });
 * ```
 */
export class LivekitVoiceTransport implements VoiceTransport {
  readonly #options: LivekitVoiceTransportOptions;

  /**
   * Creates the transport (the native addon loads on the first join).
   *
   * @param options The connect timeout and track name.
   */
  constructor(options: LivekitVoiceTransportOptions = {}) {
    this.#options = options;
  }

  /**
   * Connects to the LiveKit room and publishes the agent's audio track.
   *
   * @param request The URL, token and breakout room.
   * @returns The connection.
   * @throws {LivekitJoinError} When LiveKit cannot be reached, refuses the token, or the track
   *   cannot be published.
   */
  async join(request: VoiceJoinRequest): Promise<VoiceConnection> {
    const lk = await rtc();
    const sampleRate = request.sampleRate ?? VOICE_SAMPLE_RATE;
    const room = new lk.Room();
    const connection = new LivekitConnection(lk, room, sampleRate);
    const timeout = this.#options.connectTimeout ?? 15_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        room.connect(request.url, request.token, { autoSubscribe: true, dynacast: false }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new LivekitJoinError(
                  `LiveKit did not answer at ${request.url} within ${timeout} ms`,
                  "timeout",
                ),
              ),
            timeout,
          );
        }),
      ]);
    } catch (e) {
      await connection.close();
      if (e instanceof LivekitJoinError) throw e;
      throw new LivekitJoinError(
        `could not join the LiveKit room of ${request.breakoutRoom} at ${request.url}: ` +
          `${message(e)} (is the LiveKit server running, and LIVEKIT_URL right?)`,
        "connect_failed",
      );
    } finally {
      clearTimeout(timer);
    }
    try {
      await connection.publish(this.#options.trackName ?? "agent-voice");
    } catch (e) {
      await connection.close();
      throw new LivekitJoinError(
        `could not publish the agent's audio: ${message(e)}`,
        "publish_failed",
      );
    }
    return connection;
  }
}

class LivekitConnection implements VoiceConnection {
  readonly #lk: typeof Rtc;
  readonly #room: Rtc.Room;
  readonly #rate: number;
  readonly #queue: VoiceFrame[] = [];
  readonly #readers = new Set<ReadableStreamDefaultReader<Rtc.AudioFrame>>();
  #source: Rtc.AudioSource | null = null;
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(lk: typeof Rtc, room: Rtc.Room, sampleRate: number) {
    this.#lk = lk;
    this.#room = room;
    this.#rate = sampleRate;
    room.on(lk.RoomEvent.TrackSubscribed, (track, _publication, participant) => {
      if (track.kind !== lk.TrackKind.KIND_AUDIO) return;
      this.#listen(track, { id: participant.identity, name: participant.name || undefined });
    });
    room.on(lk.RoomEvent.Disconnected, () => {
      this.#closed = true;
      this.#notify();
    });
  }

  async publish(trackName: string): Promise<void> {
    const lk = this.#lk;
    this.#source = new lk.AudioSource(this.#rate, 1);
    const track = lk.LocalAudioTrack.createAudioTrack(trackName, this.#source);
    const options = new lk.TrackPublishOptions();
    options.source = lk.TrackSource.SOURCE_MICROPHONE;
    await this.#room.localParticipant!.publishTrack(track, options);
  }

  #listen(track: Rtc.RemoteTrack, speaker: VoiceFrame["speaker"]): void {
    const stream = new this.#lk.AudioStream(track, { sampleRate: this.#rate, numChannels: 1 });
    const reader = stream.getReader();
    this.#readers.add(reader);
    (async () => {
      while (!this.#closed) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#queue.push({ samples: value.data, sampleRate: value.sampleRate, speaker });
        this.#notify();
      }
    })().catch(() => {}).finally(() => this.#readers.delete(reader));
  }

  async *frames(): AsyncIterable<VoiceFrame> {
    while (true) {
      const frame = this.#queue.shift();
      if (frame) {
        yield frame;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  async play(audio: PcmAudio, signal?: AbortSignal): Promise<void> {
    const source = this.#source;
    if (!source || this.#closed) throw new Error("the LiveKit call is closed");
    for (const frame of pcmFrames(audio)) {
      if (signal?.aborted || this.#closed) {
        source.clearQueue();
        return;
      }
      await source.captureFrame(
        new this.#lk.AudioFrame(frame.samples, frame.sampleRate, 1, frame.samples.length),
      );
    }
  }

  async close(): Promise<void> {
    const wasClosed = this.#closed;
    this.#closed = true;
    this.#notify();
    for (const reader of this.#readers) await reader.cancel().catch(() => {});
    await this.#source?.close().catch(() => {});
    this.#source = null;
    if (!wasClosed || this.#room.isConnected) await this.#room.disconnect().catch(() => {});
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
