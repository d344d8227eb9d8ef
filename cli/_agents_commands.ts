// The commander wiring of `meshagent room agents …` and `meshagent room connect`. Private: the
// exported functions in room_agents_command.ts are the public API.
import { type Command, CommanderError, Option } from "commander";
import { jsonOption, nonNegativeNumber, roomOptions } from "./_room_options.ts";
import {
  invokeToolCommand,
  listToolkitsCommand,
  roomConnectCommand,
} from "./room_agents_command.ts";
import type { Output } from "./output.ts";

/**
 * Adds `agents list-toolkits` and `agents invoke-tool` under `room`.
 *
 * @param room The `room` command.
 * @param output Where commands write.
 */
export function addAgentsCommands(room: Command, output: Output): void {
  const agents = room.command("agents").description("list and call toolkits hosted in a room");
  jsonOption(
    roomOptions(agents.command("list-toolkits")),
    "one toolkit per line, with its tools' schemas",
  )
    .description("list the toolkits you can see (public ones and your own) and their tools")
    .option("--participant-id <id>", "only this participant's toolkits (private ones included)")
    .option("--participant-name <name>", "only the toolkits of the participant with this name")
    .addOption(
      new Option("--timeout <seconds>", "wait this long for that participant's toolkits")
        .argParser(nonNegativeNumber("--timeout")),
    )
    .action(async (opts) => {
      await listToolkitsCommand(opts, output);
    });
  jsonOption(roomOptions(agents.command("invoke-tool")), "each result as one JSON object")
    .description("call a tool and print its result")
    .requiredOption("--toolkit <name>", "toolkit name")
    .requiredOption("--tool <name>", "tool name")
    .option("--arguments <json>", "arguments as a JSON object", "{}")
    .option("--participant-id <id>", "call the toolkit hosted by this participant")
    .option("--on-behalf-of-id <id>", "the participant the call acts for")
    .addOption(
      new Option("--timeout <seconds>", "give up after this long").argParser(
        nonNegativeNumber("--timeout"),
      ),
    )
    .option("--output <path>", "save a file result here")
    .option("--stream", "the tool streams its output: print each item as it arrives")
    .addHelpText(
      "after",
      "\nExample (the room's built-in queues toolkit):\n" +
        "  meshagent room agents invoke-tool --room demo --toolkit queues --tool list\n" +
        "See the toolkits and tools there are: meshagent room agents list-toolkits --room demo",
    )
    .action(async (opts) => {
      await invokeToolCommand(opts, output);
    });
}

/**
 * Adds `connect` under `room`: `meshagent room connect --room R -- <command> [args…]`.
 *
 * @param room The `room` command.
 * @param output Where diagnostics go.
 */
export function addConnectCommand(room: Command, output: Output): void {
  roomOptions(room.command("connect"))
    .description(
      "run a program with MESHAGENT_ROOM, MESHAGENT_TOKEN and MESHAGENT_API_URL set for the room",
    )
    .option("--env <NAME=VALUE...>", "extra environment variables for the program")
    .argument("<command...>", "the program and its arguments (after --)")
    .action(async (command: string[], opts) => {
      const code = await roomConnectCommand(opts, command, output);
      // [impl] runCli turns a CommanderError into its exit code without printing anything more.
      if (code !== 0) throw new CommanderError(code, "meshagent.connect.exit", "");
    });
}
