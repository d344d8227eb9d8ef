import type { RoomClient } from "@meshagent/api";
import type { Toolkit, ToolParticipant } from "@meshagent/tools";
import type { AgentSessionContext } from "./agent_session_context.ts";
import { EnergyVad, type EnergyVadOptions } from "./energy_vad.ts";
import type { LLMAdapter } from "./llm_adapter.ts";
import type { PcmAudio } from "./pcm_audio.ts";
import type { SpeechToText } from "./speech_to_text.ts";
import type { TextToSpeech } from "./text_to_speech.ts";
import type { Transcriber, TranscriptSegment } from "./transcriber.ts";
import type { VoiceConnection, VoiceSpeaker } from "./voice_transport.ts";

/** Options of a {@linkcode VoiceSession}. */
export interface VoiceSessionOptions {
  /** The room whose tools the model uses. */
  room: RoomClient;
  /** The joined call. */
  connection: VoiceConnection;
  /** The model. */
  llmAdapter: LLMAdapter;
  /** Speech to text. */
  stt: SpeechToText;
  /** Text to speech. */
  tts: TextToSpeech;
  /** The tools the model may call. */
  toolkits?: readonly Toolkit[];
  /** The model's rules (system instructions). */
  rules?: readonly string[];
  /** The model name (default: the adapter's). */
  model?: string;
  /** The TTS voice (default `echo`). */
  voice?: string;
  /** The agent (the participant whose tools run; its name goes into the transcript). */
  agent: ToolParticipant;
  /** The person who placed the call (the model acts on their behalf). */
  caller?: ToolParticipant | null;
  /** Where what is said is written, if anywhere. */
  transcriber?: Transcriber | null;
  /** Said as the call starts. */
  autoGreetMessage?: string;
  /** Asked of the model as the call starts; its answer is said (after any greet message). */
  autoGreetPrompt?: string;
  /** Endpointing settings. */
  vad?: EnergyVadOptions;
  /** Where problems are reported (default `console.warn`). */
  log?: (message: string) => void;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * One voice call: audio frames in → endpointing ({@linkcode EnergyVad}, one per speaker) →
 * speech to text → a model turn through the {@linkcode LLMAdapter} with the tools → text to
 * speech → audio out, with who said what written by the {@linkcode Transcriber}. Utterances are
 * answered one at a time, in order. [impl] No barge-in: speech heard while the agent answers is
 * queued, not an interrupt.
 *
 * A failed transcription skips that utterance; a failed model turn or speech synthesis is
 * reported and the call goes on — nothing ends the call but hang-up or
 * {@linkcode VoiceSession.stop}.
 *
 * @example A session needs a room and a call (see VoiceBot)
 * ```ts
 * import assert from "node:assert/strict";
 * import { VoiceSession } from "@meshagent/agents";
 * assert.equal(typeof VoiceSession.prototype.run, "function");
 * ```
 */
export class VoiceSession {
  /** The conversation so far (rules, what was said, tool calls). */
  readonly context: AgentSessionContext;
  readonly #o: VoiceSessionOptions;
  readonly #stop = new AbortController();
  readonly #log: (message: string) => void;
  #queue: Promise<void> = Promise.resolve();
  #turns = 0;
  #running: Promise<void> | null = null;

  /**
   * Prepares the session (nothing happens before {@linkcode VoiceSession.run}).
   *
   * @param options The call, the providers, the model and its tools.
   */
  constructor(options: VoiceSessionOptions) {
    this.#o = options;
    this.#log = options.log ?? ((m) => console.warn(m));
    this.context = options.llmAdapter.createSession(options.rules ?? []);
  }

  /** How many utterances were answered. */
  get turns(): number {
    return this.#turns;
  }

  /**
   * Runs the call until the other side hangs up or {@linkcode VoiceSession.stop}; the answers
   * under way finish first (unless stopped).
   *
   * @returns Once the call is over.
   */
  run(): Promise<void> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Ends the call: aborts what is under way and leaves. */
  async stop(): Promise<void> {
    this.#stop.abort(new Error("the voice session stopped"));
    await this.#o.connection.close().catch(() => {});
    await this.#running?.catch(() => {});
  }

  async #run(): Promise<void> {
    const o = this.#o;
    try {
      if (o.autoGreetMessage) this.#enqueue(() => this.#say(o.autoGreetMessage!));
      if (o.autoGreetPrompt) this.#enqueue(() => this.#answer(o.autoGreetPrompt!, null));
      const vads = new Map<string, { vad: EnergyVad; speaker: VoiceSpeaker }>();
      for await (const frame of o.connection.frames()) {
        if (this.#stop.signal.aborted) break;
        let entry = vads.get(frame.speaker.id);
        if (!entry) {
          entry = { vad: new EnergyVad(o.vad), speaker: frame.speaker };
          vads.set(frame.speaker.id, entry);
        }
        for (const utterance of entry.vad.push(frame)) this.#heard(utterance, entry.speaker);
      }
      for (const { vad, speaker } of vads.values()) {
        const last = vad.flush();
        if (last) this.#heard(last, speaker);
      }
      await this.#queue;
    } finally {
      await o.connection.close().catch(() => {});
    }
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#stop.signal.aborted) return;
      await step();
    }).catch((e) => this.#log(`voice: a turn failed: ${message(e)}`));
  }

  #heard(audio: PcmAudio, speaker: VoiceSpeaker): void {
    this.#enqueue(async () => {
      let text: string;
      try {
        text = (await this.#o.stt.transcribe(audio, { signal: this.#stop.signal })).trim();
      } catch (e) {
        if (!this.#stop.signal.aborted) {
          this.#log(`voice: speech to text failed, the utterance was skipped: ${message(e)}`);
        }
        return;
      }
      if (text === "") return;
      const name = speaker.name ?? this.#nameOf(speaker.id);
      await this.#transcribe({
        participantId: speaker.id,
        participantName: name,
        role: "user",
        text,
      });
      await this.#answer(text, name);
      this.#turns++;
    });
  }

  #nameOf(id: string): string {
    const known = this.#o.room.messaging.getParticipant(id)?.getAttribute("name");
    return typeof known === "string" ? known : id;
  }

  async #answer(text: string, senderName: string | null): Promise<void> {
    const o = this.#o;
    this.context.appendUserMessage(text, senderName ? { senderName } : {});
    let answer: string;
    try {
      const response = await o.llmAdapter.createResponse({
        context: this.context,
        caller: o.agent,
        onBehalfOf: o.caller ?? null,
        toolkits: o.toolkits ?? [],
        model: o.model,
        room: o.room,
        signal: this.#stop.signal,
      });
      answer = response.text.trim();
    } catch (e) {
      if (!this.#stop.signal.aborted) {
        this.#log(`voice: the model could not answer "${text}": ${message(e)}`);
      }
      return;
    }
    if (answer !== "") await this.#say(answer);
  }

  async #say(text: string): Promise<void> {
    const o = this.#o;
    await this.#transcribe({
      participantId: o.agent.id,
      participantName: o.agent.name ?? o.agent.id,
      role: "agent",
      text,
    });
    try {
      const audio = await o.tts.synthesize(text, {
        voice: o.voice ?? "echo",
        signal: this.#stop.signal,
      });
      await o.connection.play(audio, this.#stop.signal);
    } catch (e) {
      if (!this.#stop.signal.aborted) {
        this.#log(`voice: could not say "${text}" (it is in the transcript only): ${message(e)}`);
      }
    }
  }

  async #transcribe(segment: TranscriptSegment): Promise<void> {
    try {
      await this.#o.transcriber?.add(segment);
    } catch (e) {
      this.#log(`voice: the transcript ${this.#o.transcriber?.path} missed a line: ${message(e)}`);
    }
  }
}
