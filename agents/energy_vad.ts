import { concatPcm, type PcmAudio } from "./pcm_audio.ts";

/** Options of an {@linkcode EnergyVad}. */
export interface EnergyVadOptions {
  /** A frame whose RMS (0…32767) reaches this is speech (default 500, about −36 dBFS). */
  threshold?: number;
  /** Speech must last this long (ms) to start an utterance (default 60). */
  minSpeechMs?: number;
  /** This much silence (ms) ends an utterance (default 500). */
  silenceMs?: number;
  /** Audio kept from before the speech started (ms; default 200), so first sounds are not cut. */
  prerollMs?: number;
  /** An utterance is cut here (ms; default 30 000). */
  maxUtteranceMs?: number;
}

/**
 * Voice activity detection and endpointing by energy: frames in, whole utterances out. [impl] The
 * official VoiceBot uses Silero VAD (a neural model, not available here); this one calls a frame
 * speech when its RMS reaches a threshold, starts an utterance after `minSpeechMs` of speech
 * (with `prerollMs` of the audio before it) and ends it after `silenceMs` of silence. Good for
 * clean input (close microphones, synthesized speech); noisy rooms need a higher threshold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EnergyVad } from "@meshagent/agents";
 * const vad = new EnergyVad();
 * const rate = 24000;
 * const tone = new Int16Array(rate / 2).map((_, i) => Math.round(8000 * Math.sin(i / 5)));
 * const silence = new Int16Array(rate);
 * const utterances = [
 *   ...vad.push({ samples: tone, sampleRate: rate }),
 *   ...vad.push({ samples: silence, sampleRate: rate }),
 * ];
 * assert.equal(utterances.length, 1);
 * assert(utterances[0].samples.length >= tone.length);
 * ```
 */
export class EnergyVad {
  readonly #threshold: number;
  readonly #minSpeechMs: number;
  readonly #silenceMs: number;
  readonly #prerollMs: number;
  readonly #maxMs: number;
  #preroll: PcmAudio[] = [];
  #prerollLength = 0;
  #speech: PcmAudio[] = [];
  #speechMs = 0;
  #silentMs = 0;
  #active = false;

  /**
   * Creates a detector.
   *
   * @param options The threshold and timings.
   */
  constructor(options: EnergyVadOptions = {}) {
    this.#threshold = options.threshold ?? 500;
    this.#minSpeechMs = options.minSpeechMs ?? 60;
    this.#silenceMs = options.silenceMs ?? 500;
    this.#prerollMs = options.prerollMs ?? 200;
    this.#maxMs = options.maxUtteranceMs ?? 30_000;
  }

  /** Whether an utterance is under way. */
  get speaking(): boolean {
    return this.#active;
  }

  /**
   * Takes audio (any length; it is judged in 20 ms steps).
   *
   * @param audio The next audio of the stream.
   * @returns The utterances it ended (usually none).
   */
  push(audio: PcmAudio): PcmAudio[] {
    const out: PcmAudio[] = [];
    const step = Math.max(1, Math.round(audio.sampleRate / 50));
    for (let at = 0; at < audio.samples.length; at += step) {
      const frame = {
        samples: audio.samples.subarray(at, at + step),
        sampleRate: audio.sampleRate,
      };
      const ended = this.#frame(frame);
      if (ended) out.push(ended);
    }
    return out;
  }

  /**
   * Ends the stream: an utterance under way is returned.
   *
   * @returns The last utterance, or null.
   */
  flush(): PcmAudio | null {
    const ended = this.#active ? concatPcm(this.#speech) : null;
    this.#reset();
    return ended;
  }

  #frame(frame: PcmAudio): PcmAudio | null {
    const ms = frame.samples.length * 1000 / frame.sampleRate;
    let sum = 0;
    for (const s of frame.samples) sum += s * s;
    const loud = Math.sqrt(sum / Math.max(1, frame.samples.length)) >= this.#threshold;
    if (!this.#active) {
      if (loud) {
        this.#speech.push(frame);
        this.#speechMs += ms;
        if (this.#speechMs >= this.#minSpeechMs) {
          this.#active = true;
          this.#speech = [...this.#preroll, ...this.#speech];
          this.#preroll = [];
          this.#prerollLength = 0;
        }
      } else {
        // A blip too short to be speech goes back into the pre-roll.
        for (const f of [...this.#speech, frame]) this.#keep(f, ms);
        this.#speech = [];
        this.#speechMs = 0;
      }
      return null;
    }
    this.#speech.push(frame);
    this.#speechMs += ms;
    this.#silentMs = loud ? 0 : this.#silentMs + ms;
    if (this.#silentMs >= this.#silenceMs || this.#speechMs >= this.#maxMs) {
      const ended = concatPcm(this.#speech);
      this.#reset();
      return ended;
    }
    return null;
  }

  #keep(frame: PcmAudio, ms: number): void {
    this.#preroll.push(frame);
    this.#prerollLength += ms;
    while (this.#preroll.length > 1 && this.#prerollLength > this.#prerollMs) {
      const first = this.#preroll.shift()!;
      this.#prerollLength -= first.samples.length * 1000 / first.sampleRate;
    }
  }

  #reset(): void {
    this.#preroll = [];
    this.#prerollLength = 0;
    this.#speech = [];
    this.#speechMs = 0;
    this.#silentMs = 0;
    this.#active = false;
  }
}
