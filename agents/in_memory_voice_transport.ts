import { type PcmAudio, pcmFrames, VOICE_SAMPLE_RATE } from "./pcm_audio.ts";
import type {
  VoiceConnection,
  VoiceFrame,
  VoiceJoinRequest,
  VoiceSpeaker,
  VoiceTransport,
} from "./voice_transport.ts";

function wait(ms: number, what: string, check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started >= ms) return reject(new Error(`timed out after ${ms} ms: ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

/**
 * One call joined through an {@linkcode InMemoryVoiceTransport}: the other side of the
 * connection, where a test (or a local program) speaks and hears.
 */
export class InMemoryVoiceCall implements VoiceConnection {
  /** How the agent joined (URL, token, breakout room). */
  readonly request: VoiceJoinRequest;
  /** Everything the agent said, in order. */
  readonly played: PcmAudio[] = [];
  readonly #queue: VoiceFrame[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #closed = false;

  /**
   * Makes the call (done by {@linkcode InMemoryVoiceTransport.join}).
   *
   * @param request The join request.
   */
  constructor(request: VoiceJoinRequest) {
    this.request = request;
  }

  /** Whether the agent left. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The sample rate of the call. */
  get sampleRate(): number {
    return this.request.sampleRate ?? VOICE_SAMPLE_RATE;
  }

  /**
   * Sends speech to the agent, in 20 ms frames.
   *
   * @param audio The speech (at the call's sample rate).
   * @param speaker Who says it.
   */
  speak(audio: PcmAudio, speaker: VoiceSpeaker): void {
    if (audio.sampleRate !== this.sampleRate) {
      throw new Error(`the call runs at ${this.sampleRate} Hz, not ${audio.sampleRate} Hz`);
    }
    for (const frame of pcmFrames(audio)) this.#queue.push({ ...frame, speaker });
    this.#notify();
  }

  /**
   * Sends silence (what a microphone sends between sentences).
   *
   * @param ms How long.
   * @param speaker Whose microphone.
   */
  silence(ms: number, speaker: VoiceSpeaker): void {
    this.speak({
      samples: new Int16Array(Math.round(this.sampleRate * ms / 1000)),
      sampleRate: this.sampleRate,
    }, speaker);
  }

  /** Ends the call from this side: the agent's frames end. */
  hangUp(): void {
    this.#ended = true;
    this.#notify();
  }

  /**
   * Waits until the agent said `count` pieces of audio.
   *
   * @param count How many.
   * @param timeoutMs At most this long (default 10 000).
   * @returns Everything said so far.
   */
  async waitForPlayed(count: number, timeoutMs = 10_000): Promise<PcmAudio[]> {
    await wait(
      timeoutMs,
      `${count} audio replies (got ${this.played.length})`,
      () => this.played.length >= count,
    );
    return this.played;
  }

  /**
   * The frames the person sends (the agent's side).
   *
   * @returns The frames, until hang-up or close.
   */
  async *frames(): AsyncIterable<VoiceFrame> {
    while (true) {
      const frame = this.#queue.shift();
      if (frame) {
        yield frame;
        continue;
      }
      if (this.#ended || this.#closed) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /**
   * Keeps what the agent says in {@linkcode InMemoryVoiceCall.played}.
   *
   * @param audio The audio.
   * @returns Once kept.
   */
  play(audio: PcmAudio): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the call is closed"));
    this.played.push(audio);
    return Promise.resolve();
  }

  /** Leaves the call (the agent's side). */
  close(): Promise<void> {
    this.#closed = true;
    this.#notify();
    return Promise.resolve();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/**
 * A voice transport inside one process: every join makes an {@linkcode InMemoryVoiceCall} whose
 * other side the caller drives — for tests of voice agents and for local programs without a
 * media server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InMemoryVoiceTransport } from "@meshagent/agents";
 * const transport = new InMemoryVoiceTransport();
 * const agentSide = await transport.join({ url: "mem://", token: "t", breakoutRoom: "call-1" });
 * const call = await transport.waitForCall();
 * call.speak({ samples: new Int16Array(480), sampleRate: 24000 }, { id: "ada" });
 * call.hangUp();
 * let frames = 0;
 * for await (const _ of agentSide.frames()) frames++;
 * assert.equal(frames, 1);
 * ```
 */
export class InMemoryVoiceTransport implements VoiceTransport {
  /** Every call joined, in order. */
  readonly calls: InMemoryVoiceCall[] = [];
  /** When set, joining fails with this error (to test a media server that is down). */
  failJoin: Error | null = null;

  /**
   * Joins a call.
   *
   * @param request The media room and its token.
   * @returns The agent's side of the call.
   */
  join(request: VoiceJoinRequest): Promise<VoiceConnection> {
    if (this.failJoin) return Promise.reject(this.failJoin);
    const call = new InMemoryVoiceCall(request);
    this.calls.push(call);
    return Promise.resolve(call);
  }

  /**
   * Waits for the `index`-th call (0 first).
   *
   * @param index Which call (default the first).
   * @param timeoutMs At most this long (default 10 000).
   * @returns The call.
   */
  async waitForCall(index = 0, timeoutMs = 10_000): Promise<InMemoryVoiceCall> {
    await wait(timeoutMs, `voice call ${index + 1}`, () => this.calls.length > index);
    return this.calls[index];
  }
}
