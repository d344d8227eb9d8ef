// The commander wiring of `meshagent voicebot join|service`. Private: voicebot_command.ts is the
// public API; it loads on use, so other commands never load LiveKit's native addon.
import type { Command } from "commander";
import { jsonOption, roomOptions, serviceOptions } from "./_room_options.ts";
import type { Output } from "./output.ts";
import { interruptSignal } from "./_interrupt_signal.ts";

const collect = (value: string, previous: string[] = []) => [...previous, value];

function voicebotOptions(command: Command): Command {
  return roomOptions(command, "agent")
    .option("--agent-name <name>", "the bot's participant name", "voicebot")
    .option("--model <model>", "provider/model or a model name (as meshagent process)", collect)
    .option("-r, --rule <text>", "a rule (system instruction; repeatable)", collect)
    .option("--voice <voice>", "the text-to-speech voice", "echo")
    .option("--auto-greet-message <text>", "said as a call starts")
    .option("--auto-greet-prompt <text>", "asked of the model as a call starts; its answer is said")
    .option("--stt-model <model>", "the speech-to-text model (default gpt-4o-mini-transcribe)")
    .option("--tts-model <model>", "the text-to-speech model (default gpt-4o-mini-tts)")
    .option("--require-toolkit <name>", "a room toolkit the model may use (repeatable)", collect)
    .option("--storage", "let the model read and write the room's files");
}

/**
 * Adds `voicebot join|service`.
 *
 * @param program The root command.
 * @param output Where commands write.
 * @param signal Stops the bot.
 */
export function addVoicebotCommands(program: Command, output: Output, signal?: AbortSignal): void {
  const voicebot = program.command("voicebot").description(
    "voice agents: answer voice_call messages by joining the call's LiveKit room",
  );
  jsonOption(voicebotOptions(voicebot.command("join")), '{"event":"joined",…} once in the room')
    .description("join a room as a voice bot and answer calls until stopped")
    .action(async (opts) => {
      const { runVoicebotJoin } = await import("./voicebot_command.ts");
      await runVoicebotJoin(opts, output, signal ?? interruptSignal());
    });
  serviceOptions(voicebotOptions(voicebot.command("service")))
    .description("serve the voice bot behind a ServiceHost: the room server calls it into rooms")
    .action(async (opts) => {
      const { runVoicebotService } = await import("./voicebot_command.ts");
      await runVoicebotService(opts, output, signal ?? interruptSignal());
    });
}
