import type { JsonObject, RoomMessage } from "@meshagent/api";
import type { Toolkit, ToolParticipant } from "@meshagent/tools";
import type { EnergyVadOptions } from "./energy_vad.ts";
import type { LLMAdapter } from "./llm_adapter.ts";
import {
  SingleRoomAgent,
  type SingleRoomAgentOptions,
  type SingleRoomAgentStartOptions,
} from "./single_room_agent.ts";
import type { SpeechToText } from "./speech_to_text.ts";
import type { TextToSpeech } from "./text_to_speech.ts";
import { Transcriber } from "./transcriber.ts";
import { VoiceSession } from "./voice_session.ts";
import type { VoiceTransport } from "./voice_transport.ts";

/** The room message that asks a voice agent into a call. */
export const VOICE_CALL_MESSAGE = "voice_call";
/** [impl] The room message a voice agent answers a `voice_call` it cannot take with. */
export const VOICE_CALL_FAILED_MESSAGE = "voice_call_failed";

/** Options of a {@linkcode VoiceBot}. */
export interface VoiceBotOptions extends Omit<SingleRoomAgentOptions, "toolkits"> {
  /** The model. */
  llmAdapter: LLMAdapter;
  /** Speech to text (e.g. `OpenAISpeechToText`). */
  stt: SpeechToText;
  /** Text to speech (e.g. `OpenAITextToSpeech`). */
  tts: TextToSpeech;
  /** The media layer (e.g. `LivekitVoiceTransport`). */
  transport: VoiceTransport;
  /** Toolkits the model may use (the required toolkits are added). */
  toolkits?: readonly Toolkit[];
  /** The model's rules. */
  rules?: readonly string[];
  /** The model name (default: the adapter's). */
  model?: string;
  /** The TTS voice (default `echo`). */
  voice?: string;
  /** Said as a call starts. */
  autoGreetMessage?: string;
  /** Asked of the model as a call starts; its answer is said. */
  autoGreetPrompt?: string;
  /** Endpointing settings. */
  vad?: EnergyVadOptions;
  /** How many calls at once (default 8); more are refused with `voice_call_failed`. */
  maxCalls?: number;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface Call {
  session: VoiceSession | null;
  done: Promise<void>;
}

/**
 * The voice agent (agents.md §1.9, official `VoiceBot`): it sets the attribute
 * `supports_voice=true` and answers room messages `voice_call {breakout_room, transcript_path?}`
 * by joining that call — connection info from `room.livekit`, media through its
 * {@linkcode VoiceTransport} — and running a {@linkcode VoiceSession} (STT → the model with its
 * tools → TTS) until the call ends, with a `transcript` document at `transcript_path` when one
 * is given ([impl] none otherwise).
 *
 * A `voice_call` it cannot take (no breakout room, no LiveKit settings, the media server down, a
 * transcript path that is another kind of document, too many calls) is answered with
 * `voice_call_failed {breakout_room, error}` to the sender [impl]; the agent keeps running.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InMemoryVoiceTransport, ScriptedLLMAdapter, VoiceBot } from "@meshagent/agents";
 * const bot = new VoiceBot({
 *   name: "voice",
 *   llmAdapter: new ScriptedLLMAdapter(() => ({ text: "hello!" })),
 *   stt: { transcribe: () => Promise.resolve("hi") },
 *   tts: { synthesize: () => Promise.resolve({ samples: new Int16Array(0), sampleRate: 24000 }) },
 *   transport: new InMemoryVoiceTransport(),
 * });
 * assert.equal(bot.getParticipantAttributes().supports_voice, true);
 * // In a program run by `meshagent room connect`: await bot.run();
 * ```
 */
export class VoiceBot extends SingleRoomAgent {
  readonly #o: VoiceBotOptions;
  readonly #calls = new Map<string, Call>();
  #off: (() => void) | null = null;
  #stopping = false;

  /**
   * Creates the bot (nothing connects before {@linkcode SingleRoomAgent.start}).
   *
   * @param options The model, the speech providers, the media transport, voice and rules.
   */
  constructor(options: VoiceBotOptions) {
    const {
      llmAdapter: _a,
      stt: _s,
      tts: _t,
      transport: _tr,
      toolkits: _tk,
      rules: _r,
      model: _m,
      voice: _v,
      autoGreetMessage: _g,
      autoGreetPrompt: _gp,
      vad: _vad,
      maxCalls: _mc,
      ...rest
    } = options;
    super(rest);
    this.#o = options;
  }

  /** The breakout rooms of the calls under way. */
  get activeCalls(): readonly string[] {
    return [...this.#calls.keys()];
  }

  /**
   * The attributes of {@linkcode SingleRoomAgent.getParticipantAttributes} and
   * `supports_voice: true`.
   *
   * @returns The attributes.
   */
  override getParticipantAttributes(): JsonObject {
    return { ...super.getParticipantAttributes(), supports_voice: true };
  }

  /**
   * Connects (or takes a started room client) and starts answering `voice_call`s.
   *
   * @param options The room or the environment to connect from; a cancel signal.
   */
  override async start(options: SingleRoomAgentStartOptions = {}): Promise<void> {
    await super.start(options);
    const room = this.room;
    this.#off = room.on("message", (m) => this.#onMessage(m));
    try {
      if (!room.messaging.isEnabled) await room.messaging.enable();
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Leaves every call (transcripts are kept), then the room. */
  override async stop(): Promise<void> {
    this.#stopping = true;
    this.#off?.();
    this.#off = null;
    const calls = [...this.#calls.values()];
    await Promise.all(calls.map(async (call) => {
      await call.session?.stop();
      await call.done.catch(() => {});
    }));
    await super.stop();
  }

  #log(text: string): void {
    (this.#o.log ?? ((m: string) => console.warn(m)))(text);
  }

  #onMessage(m: RoomMessage): void {
    if (m.type !== VOICE_CALL_MESSAGE) return;
    const body = m.message ?? {};
    const raw = body.breakout_room ?? body.breakout_room_id;
    const breakoutRoom = typeof raw === "string" ? raw.trim() : "";
    const fail = (error: string) => {
      this.#log(`voice_call from ${m.fromParticipantId}: ${error}`);
      this.room.messaging.sendMessage({
        to: m.fromParticipantId,
        type: VOICE_CALL_FAILED_MESSAGE,
        message: { breakout_room: breakoutRoom, error },
      }).catch(() => {});
    };
    if (breakoutRoom === "") {
      return fail("a voice_call needs a breakout_room: the id of the call's LiveKit breakout room");
    }
    if (this.#calls.has(breakoutRoom)) {
      this.#log(`voice_call: already in the call ${breakoutRoom}`);
      return;
    }
    if (this.#calls.size >= (this.#o.maxCalls ?? 8)) {
      return fail(`this agent is in ${this.#calls.size} calls already, its limit (maxCalls)`);
    }
    const path = typeof body.transcript_path === "string" && body.transcript_path.trim() !== ""
      ? body.transcript_path.trim()
      : null;
    const call: Call = { session: null, done: Promise.resolve() };
    this.#calls.set(breakoutRoom, call);
    call.done = this.#runCall(m.fromParticipantId, breakoutRoom, path, call)
      .catch((e) => fail(`could not join the call ${breakoutRoom}: ${message(e)}`))
      .finally(() => this.#calls.delete(breakoutRoom));
  }

  async #runCall(
    callerId: string,
    breakoutRoom: string,
    transcriptPath: string | null,
    call: Call,
  ): Promise<void> {
    const o = this.#o;
    const room = this.room;
    const info = await room.livekit.getConnectionInfo({ breakoutRoom });
    const transcriber = transcriptPath
      ? await Transcriber.open({ room, path: transcriptPath, breakoutRoom })
      : null;
    try {
      const connection = await o.transport.join({ url: info.url, token: info.token, breakoutRoom });
      if (this.#stopping) return await connection.close();
      const local = room.localParticipant;
      const agent: ToolParticipant = {
        id: local?.id ?? "",
        name: this.name ?? "voicebot",
        attributes: local?.attributes ?? {},
      };
      const known = room.messaging.getParticipant(callerId);
      const callerName = known?.getAttribute("name");
      const caller: ToolParticipant = {
        id: callerId,
        name: typeof callerName === "string" ? callerName : undefined,
        attributes: (known?.attributes ?? {}) as JsonObject,
      };
      const session = new VoiceSession({
        room,
        connection,
        llmAdapter: o.llmAdapter,
        stt: o.stt,
        tts: o.tts,
        toolkits: [...(o.toolkits ?? []), ...this.requiredToolkits],
        rules: o.rules,
        model: o.model,
        voice: o.voice,
        agent,
        caller,
        transcriber,
        autoGreetMessage: o.autoGreetMessage,
        autoGreetPrompt: o.autoGreetPrompt,
        vad: o.vad,
        log: (text) => this.#log(`voice call ${breakoutRoom}: ${text.replace(/^voice: /, "")}`),
      });
      call.session = session;
      await session.run();
    } finally {
      await transcriber?.close().catch((e) =>
        this.#log(`voice call ${breakoutRoom}: the transcript was not closed: ${message(e)}`)
      );
    }
  }
}
