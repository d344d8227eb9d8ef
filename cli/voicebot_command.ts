/**
 * `meshagent voicebot join|service`: a {@linkcode VoiceBot} in a room, hearing and speaking
 * through LiveKit (`@meshagent/adapters/livekit`), with OpenAI speech to text and text to speech
 * and the model of `--model` (as `meshagent process`).
 *
 * @module
 */
import type { RoomClient } from "@meshagent/api";
import { type LLMAdapter, RequiredToolkit, VoiceBot } from "@meshagent/agents";
import { OpenAISpeechToText, OpenAITextToSpeech } from "@meshagent/adapters/openai";
import { LivekitVoiceTransport } from "@meshagent/adapters/livekit";
import { StorageToolkit, type Toolkit } from "@meshagent/tools";
import { buildAdapters } from "./_llm_providers.ts";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { type AgentServiceFlags, agentServiceHost, serveAgentService } from "./_agent_service.ts";

/** Options of `meshagent voicebot join`. */
export interface VoicebotJoinOptions extends RoomConnectionOptions {
  /** The agent's participant name (default `voicebot`). */
  agentName?: string;
  /** `provider/model` or a model name (the first is used). */
  model?: string[];
  /** Rules. */
  rule?: string[];
  /** The TTS voice (default `echo`). */
  voice?: string;
  /** Said as a call starts. */
  autoGreetMessage?: string;
  /** Asked of the model as a call starts. */
  autoGreetPrompt?: string;
  /** The transcription model. */
  sttModel?: string;
  /** The speech model. */
  ttsModel?: string;
  /** Room toolkits the model may use. */
  requireToolkit?: string[];
  /** Let the model read and write room files. */
  storage?: boolean;
  /** Print `{"event":"joined",…}`. */
  json?: boolean;
}

/** A started voice bot. */
export interface StartedVoicebot {
  /** The bot. */
  bot: VoiceBot;
  /** Its room. */
  room: RoomClient;
  /** A line for the terminal. */
  summary: string;
  /** Stops the bot and leaves (an own connection is closed). */
  stop(): Promise<void>;
}

/**
 * Starts a voice bot in a room (connecting as `meshagent process join` does).
 *
 * @param options The room, the model, voice and rules.
 * @param env Where to read the environment.
 * @param joined A room client to use instead of connecting.
 * @returns The started bot.
 *
 * @example Needs a room
 * ```ts
 * import assert from "node:assert/strict";
 * import { startVoicebot } from "./voicebot_command.ts";
 * assert.equal(typeof startVoicebot, "function");
 * ```
 */
export async function startVoicebot(
  options: VoicebotJoinOptions,
  env: Env = (name) => Deno.env.get(name),
  joined?: RoomClient,
): Promise<StartedVoicebot> {
  const name = options.agentName ?? "voicebot";
  const [llmAdapter] = await buildAdapters(options.model ?? [], env) as LLMAdapter[];
  const room = joined ?? await connectRoom({ ...options, identity: name, role: "agent" }, env);
  const toolkits: Toolkit[] = options.storage ? [new StorageToolkit({ room })] : [];
  const bot = new VoiceBot({
    name,
    llmAdapter,
    stt: new OpenAISpeechToText({ env, ...(options.sttModel ? { model: options.sttModel } : {}) }),
    tts: new OpenAITextToSpeech({ env, ...(options.ttsModel ? { model: options.ttsModel } : {}) }),
    transport: new LivekitVoiceTransport(),
    toolkits,
    requires: (options.requireToolkit ?? []).map((toolkit) =>
      new RequiredToolkit({ name: toolkit })
    ),
    rules: options.rule,
    voice: options.voice,
    autoGreetMessage: options.autoGreetMessage,
    autoGreetPrompt: options.autoGreetPrompt,
    log: (line) => console.error(`voicebot ${name}: ${line}`),
  });
  try {
    await bot.start({ room });
  } catch (e) {
    if (!joined) await room.dispose();
    throw e;
  }
  return {
    bot,
    room,
    summary: `voicebot ${name} joined ${room.roomName ?? "the room"}: it answers voice_call ` +
      `messages (voice ${options.voice ?? "echo"}, model ${llmAdapter.defaultModel()})`,
    async stop() {
      await bot.stop();
      if (!joined) await room.dispose();
    },
  };
}

function untilStopped(signal: AbortSignal, room?: RoomClient): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
    room?.on("closed", () => resolve());
  });
}

/**
 * `meshagent voicebot join`: joins and answers calls until stopped or the room closes.
 *
 * @param options The room, the model, voice and rules.
 * @param output Where to write.
 * @param signal Stops the bot.
 *
 * @example Needs a room
 * ```ts
 * import assert from "node:assert/strict";
 * import { runVoicebotJoin } from "./voicebot_command.ts";
 * assert.equal(typeof runVoicebotJoin, "function");
 * ```
 */
export async function runVoicebotJoin(
  options: VoicebotJoinOptions,
  output: Output,
  signal: AbortSignal,
): Promise<void> {
  const started = await startVoicebot(options);
  if (options.json) {
    output.out(JSON.stringify({
      event: "joined",
      agent: started.bot.name,
      participant_id: started.room.localParticipant?.id ?? null,
    }));
  } else output.err(started.summary);
  output.err("Press Ctrl-C to stop.");
  await untilStopped(signal, started.room);
  await started.stop();
}

/** Options of `meshagent voicebot service`: the bot's, and where to serve it. */
export interface VoicebotServiceOptions extends VoicebotJoinOptions, AgentServiceFlags {}

/**
 * `meshagent voicebot service`: the bot behind a `ServiceHost`; the room server calls
 * it into rooms (as `meshagent process service`).
 *
 * @param options The service address and the bot's options.
 * @param output Where to write.
 * @param signal Stops the service.
 * @param env Where to read the environment.
 *
 * @example Serves until stopped
 * ```ts
 * import assert from "node:assert/strict";
 * import { runVoicebotService } from "./voicebot_command.ts";
 * assert.equal(typeof runVoicebotService, "function");
 * ```
 */
export async function runVoicebotService(
  options: VoicebotServiceOptions,
  output: Output,
  signal: AbortSignal,
  env: Env = (name) => Deno.env.get(name),
): Promise<void> {
  const name = options.agentName ?? "voicebot";
  const host = agentServiceHost(name, options, env, (room) => startVoicebot(options, env, room));
  await serveAgentService(host, `voicebot ${name}`, name, options, output, signal, env);
}
