// The commander wiring of the `meshagent` command tree. Private: commander's types stay out of
// the package's public signatures; the exported command functions are the public API.
import { Command, Option } from "commander";
import { nonNegativeNumber, roomOptions } from "./_room_options.ts";
import { mintToken, type TokenCommandOptions } from "./token_command.ts";
import { parsePort, runServerCommand } from "./server_command.ts";
import { listenCommand, sendMessageCommand } from "./room_messaging_command.ts";
import { queueReceiveCommand, queueSendCommand } from "./room_queue_command.ts";
import type { RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { addAgentsCommands, addConnectCommand } from "./_agents_commands.ts";
import { addStorageCommands } from "./_storage_commands.ts";
import { addDbCommands } from "./_db_commands.ts";
import { addDatasetCommands } from "./_dataset_commands.ts";
import { addSyncCommands } from "./_sync_commands.ts";
import { addMcpCommands } from "./_mcp_commands.ts";
import { addProcessCommands } from "./_process_commands.ts";

const VERSION = "0.1.0";

/**
 * Builds the command tree.
 *
 * @param output Where commands write.
 * @param signal Stops long-running commands (server, listen).
 * @returns The root command.
 */
export function buildProgram(output: Output, signal?: AbortSignal): Command {
  const program = new Command("meshagent")
    .description("MeshAgent for Deno: run a room server and work with rooms")
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, "")),
      writeErr: (s) => output.err(s.replace(/\n$/, "")),
    });

  program.command("server")
    .description("run the room server (data and generated credentials in --data-dir)")
    .addOption(
      new Option("--port <port>", "port to listen on (default: MESHAGENT_PORT or 8078)")
        .argParser((v) => parsePort(v, "--port")),
    )
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--data-dir <dir>", "data folder", ".meshagent")
    .addOption(
      new Option("--max-message-size <bytes>", "largest message a participant may send")
        .argParser(nonNegativeNumber("--max-message-size")),
    )
    .addOption(
      new Option("--sql-timeout <seconds>", "longest one SQL request may run (default 5)")
        .argParser(nonNegativeNumber("--sql-timeout")),
    )
    .addOption(
      new Option("--sql-isolation <where>", "where room SQL runs: its own process, or inline")
        .choices(["process", "inline"]),
    )
    .addOption(
      new Option(
        "--max-incomplete-bytes <bytes>",
        "bytes all connections together may hold in incomplete messages (default 256 MiB)",
      ).argParser(nonNegativeNumber("--max-incomplete-bytes")),
    )
    .addOption(
      new Option(
        "--max-connection-incomplete-bytes <bytes>",
        "bytes one connection may hold in incomplete messages (default: max message size + 1 MiB)",
      ).argParser(nonNegativeNumber("--max-connection-incomplete-bytes")),
    )
    .addOption(
      new Option(
        "--message-timeout <seconds>",
        "seconds a message may take from its first packet to its last (default 120)",
      ).argParser(nonNegativeNumber("--message-timeout")),
    )
    .addOption(
      new Option(
        "--max-connections-per-token <count>",
        "connections open at once with the same token (default 64; 0: no limit)",
      ).argParser(nonNegativeNumber("--max-connections-per-token")),
    )
    .action(async (opts) => {
      await runServerCommand(
        {
          port: opts.port,
          host: opts.host,
          dataDir: opts.dataDir,
          maxMessageSize: opts.maxMessageSize,
          sqlTimeout: opts.sqlTimeout,
          sqlIsolation: opts.sqlIsolation,
          inbound: {
            maxServerBytes: opts.maxIncompleteBytes,
            maxConnectionBytes: opts.maxConnectionIncompleteBytes,
            messageTimeout: opts.messageTimeout,
            maxConnectionsPerToken: opts.maxConnectionsPerToken,
          },
        },
        output,
        signal,
      );
    });

  program.command("token")
    .description("mint a participant token signed with an API key")
    .requiredOption("--room <room>", "the room the token may join")
    .requiredOption("--name <name>", "the participant name")
    .option("--role <role>", "role grant: user, agent or tool", "user")
    .option("--api <preset>", "API scope preset: agent, user, full or none", "agent")
    .option("--expires <seconds>", "lifetime in seconds (default: no expiry)")
    .option("--key <ma-key>", "API key to sign with (default: MESHAGENT_API_KEY)")
    .option("--data-dir <dir>", "data folder of a local server", ".meshagent")
    .action(async (opts: TokenCommandOptions) => {
      await mintToken(opts, output);
    });

  const room = program.command("room").description("work with a room");

  const messaging = room.command("messaging").description("send and receive room messages");
  roomOptions(messaging.command("send"))
    .description("send a message to one participant")
    .requiredOption("--to <participant>", "recipient participant id or name")
    .requiredOption("--type <type>", "message type")
    .option("--data <json>", "message JSON object", "{}")
    .option("--attachment <file>", "file to attach")
    .action(async (opts) => {
      await sendMessageCommand(opts, output);
    });
  roomOptions(messaging.command("broadcast"))
    .description("send a message to every participant with messaging enabled")
    .requiredOption("--type <type>", "message type")
    .option("--data <json>", "message JSON object", "{}")
    .option("--attachment <file>", "file to attach")
    .action(async (opts) => {
      await sendMessageCommand({ ...opts, to: undefined }, output);
    });
  roomOptions(messaging.command("listen"))
    .description("print messages and presence changes as JSON lines")
    .addOption(
      new Option("--count <n>", "stop after n messages").argParser(nonNegativeNumber("--count")),
    )
    .action(async (opts) => {
      await listenCommand(opts, output, signal ?? interruptSignal());
    });

  const queue = room.command("queue").description("use room queues");
  roomOptions(queue.command("send"))
    .description("append a JSON message to a queue")
    .requiredOption("--queue <name>", "queue name")
    .option("--json <json>", "message JSON object")
    .option("--file <file>", "file holding the message JSON")
    .action(async (opts) => {
      await queueSendCommand(opts, output);
    });
  roomOptions(queue.command("receive"))
    .description("take the oldest message of a queue (waits for one by default)")
    .requiredOption("--queue <name>", "queue name")
    .option("--no-wait", "return at once when the queue is empty")
    .addOption(
      new Option("--timeout <seconds>", "give up waiting after this long")
        .argParser(nonNegativeNumber("--timeout")),
    )
    .action(
      async (opts: RoomConnectionOptions & { queue: string; wait: boolean; timeout?: number }) => {
        await queueReceiveCommand({ ...opts, noWait: !opts.wait }, output);
      },
    );

  addAgentsCommands(room, output);
  addStorageCommands(room, output);
  addDbCommands(room, output);
  addDatasetCommands(room, output);
  addSyncCommands(room, output);
  addConnectCommand(room, output);
  addMcpCommands(program, output, signal);
  addProcessCommands(program, output, signal);

  return program;
}

function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    Deno.removeSignalListener("SIGINT", stop);
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  controller.signal.addEventListener("abort", () => {
    try {
      Deno.removeSignalListener("SIGINT", stop);
    } catch { /* removed already */ }
  });
  return controller.signal;
}
