// The commander wiring of `meshagent process …` and `meshagent chat`. Private: the exported
// functions in process_command.ts, chat_command.ts and process_threads_command.ts are the public
// API. Their modules load on use, so `meshagent server` never loads the LLM SDKs.
import { type Command, CommanderError, Option } from "commander";
import { jsonOption, nonNegativeNumber, roomOptions, serviceOptions } from "./_room_options.ts";
import type { Output } from "./output.ts";
import { interruptSignal } from "./_interrupt_signal.ts";

const collect = (value: string, previous: string[] = []) => [...previous, value];

function agentOptions(command: Command): Command {
  return roomOptions(command, "agent")
    .requiredOption("--agent-name <name>", "the agent's participant name")
    .option(
      "--model <model>",
      "provider/model or a model name (repeatable; first is default)",
      collect,
    )
    .option(
      "--channel <channel>",
      "chat | queue:NAME | toolkit:NAME | mail:ADDRESS (repeatable; default chat)",
      collect,
    )
    .option(
      "--require-toolkit <name>",
      "a room toolkit every turn may use (repeatable)",
      collect,
    )
    .option("--storage", "let the agent read and write the room's files")
    .option("--read-only-storage", "let the agent read the room's files")
    .option("-r, --rule <text>", "a rule (system instruction; repeatable)", collect)
    .option("--rules-file <file>", "a local file holding a rule (repeatable)", collect)
    .option("--room-rules <path>", "a room file holding rules, read at every turn", collect)
    .addOption(
      new Option("--threading-mode <mode>", "a new thread per conversation, or one thread")
        .choices(["default-new", "none"]),
    )
    .option("--thread-dir <dir>", "folder of the thread documents (default .threads/<agent>)")
    .addOption(
      new Option(
        "--thread-storage <where>",
        "keep threads as room documents (default), in room dataset tables, or in memory",
      ).choices(["room", "dataset", "none"]),
    )
    .option("--verbose-dataset", "with --thread-storage dataset, store every delta")
    .addOption(
      new Option("--thread-isolation <mode>", "everyone shares threads, or each person has theirs")
        .choices(["global", "participant"]),
    )
    .option(
      "--mcp <url>",
      "an MCP server (streamable HTTP) for every turn: URL or LABEL=URL (repeatable)",
      collect,
    )
    .option(
      "--mcp-stdio <command>",
      "an MCP server run as a command: LABEL=command args (repeatable)",
      collect,
    )
    .option("--empty-state-title <text>", "what chat UIs show before the first message")
    .option("--computer-use", "give the agent a headless browser it drives by OpenAI computer use")
    .option("--starting-url <url>", "with --computer-use, the page the browser opens first")
    .option("--allow-goto-url", "with --computer-use, let the agent open any URL directly (goto)");
}

/**
 * Adds `process join|run|use|threads|messages` and `chat`.
 *
 * @param program The root command.
 * @param output Where commands write.
 * @param signal Stops long-running commands.
 */
export function addProcessCommands(program: Command, output: Output, signal?: AbortSignal): void {
  const process = program.command("process").description("run and talk to LLM agents in rooms");
  jsonOption(agentOptions(process.command("join")), '{"event":"joined",…} once in the room')
    .description("join a room as an LLM agent and serve its channels until stopped")
    .action(async (opts) => {
      const { runProcessJoin } = await import("./process_command.ts");
      await runProcessJoin(opts, output, signal ?? interruptSignal());
    });
  serviceOptions(agentOptions(process.command("service")))
    .description("serve the agent behind a ServiceHost: the room server calls it into rooms")
    .action(async (opts) => {
      const { runProcessService } = await import("./process_service_command.ts");
      await runProcessService(opts, output, signal ?? interruptSignal());
    });
  agentOptions(process.command("run"))
    .description("join a room as an LLM agent and chat with it in this terminal")
    .option("--user <name>", "your participant name", "me")
    .option("--message <text>", "send this and exit (repeatable)", collect)
    .option("--json", "print every agent message as a JSON line")
    .action(async (opts) => {
      const { startProcessAgent } = await import("./process_command.ts");
      const { runChat } = await import("./chat_command.ts");
      const agent = await startProcessAgent(opts);
      if (!opts.json) output.err(agent.summary);
      let code: number;
      try {
        code = await runChat(
          { ...opts, identity: opts.user, role: "user", agent: opts.agentName },
          output,
        );
      } finally {
        await agent.stop();
      }
      if (code !== 0) throw new CommanderError(code, "meshagent.process.run", "");
    });
  chatOptions(process.command("use"))
    .description("talk to a running agent in a room (as `meshagent chat`)")
    .requiredOption("--agent-name <name>", "the agent's participant name")
    .action(async (opts) => {
      await chat({ ...opts, agent: opts.agentName }, output);
    });
  roomOptions(process.command("threads"))
    .description("list an agent's stored threads (newest first)")
    .requiredOption("--agent-name <name>", "the agent's participant name")
    .option("--thread-dir <dir>", "folder of the thread documents (default .threads/<agent>)")
    .option("--json", "JSON lines instead of a table")
    .addOption(
      new Option("--limit <n>", "most threads to list").argParser(nonNegativeNumber("--limit")),
    )
    .action(async (opts) => {
      const { processThreadsCommand } = await import("./process_threads_command.ts");
      await processThreadsCommand(opts, output);
    });
  roomOptions(process.command("messages"))
    .description("print a stored thread")
    .requiredOption("--agent-name <name>", "the agent's participant name")
    .requiredOption("--thread-id <id>", "the thread (see `process threads`)")
    .option("--thread-dir <dir>", "folder of the thread documents (default .threads/<agent>)")
    .option("--json", "every stored agent message as a JSON line")
    .action(async (opts) => {
      const { processMessagesCommand } = await import("./process_threads_command.ts");
      await processMessagesCommand(opts, output);
    });

  chatOptions(program.command("chat"))
    .description("chat with an agent in a room from this terminal")
    .requiredOption("--agent <name>", "the agent's participant name")
    .action(async (opts) => {
      await chat(opts, output);
    });
}

function chatOptions(command: Command): Command {
  return roomOptions(command)
    .option("--thread-id <id>", "continue this thread (default: a new one)")
    .option("--message <text>", "send this and exit (repeatable)", collect)
    .option("--model <model>", "a model other than the agent's default")
    .option("--json", "print every agent message as a JSON line")
    .addOption(
      new Option("--wait <seconds>", "how long to wait for the agent (default 30)")
        .argParser(nonNegativeNumber("--wait")),
    );
}

async function chat(opts: Record<string, unknown>, output: Output): Promise<void> {
  const { runChat } = await import("./chat_command.ts");
  const code = await runChat(opts as never, output);
  // [impl] runCli turns a CommanderError into its exit code without printing anything more.
  if (code !== 0) throw new CommanderError(code, "meshagent.chat.exit", "");
}
