// The commander wiring of the `meshagent` command tree. Private: commander's types stay out of
// the package's public signatures; the exported command functions are the public API.
import { Command, InvalidArgumentError, Option } from "commander";
import {
  jsonOption,
  nonNegativeNumber,
  roleOption,
  roomOptions,
  serverUrl,
} from "./_room_options.ts";
import { mintToken, type TokenCommandOptions } from "./token_command.ts";
import { parsePort, runServerCommand } from "./server_command.ts";
import {
  listenCommand,
  messagingListCommand,
  sendMessageCommand,
} from "./room_messaging_command.ts";
import {
  queueListCommand,
  queueReceiveCommand,
  queueSendCommand,
  queueSizeCommand,
} from "./room_queue_command.ts";
import { developerLogsCommand } from "./room_developer_command.ts";
import { roomsListCommand } from "./rooms_command.ts";
import type { RoomConnectionOptions } from "./room_connection.ts";
import type { Output } from "./output.ts";
import { addAgentsCommands, addConnectCommand } from "./_agents_commands.ts";
import { addStorageCommands } from "./_storage_commands.ts";
import { addDbCommands } from "./_db_commands.ts";
import { addDatasetCommands } from "./_dataset_commands.ts";
import { addSyncCommands } from "./_sync_commands.ts";
import { addMcpCommands } from "./_mcp_commands.ts";
import { addProcessCommands } from "./_process_commands.ts";
import { addVoicebotCommands } from "./_voicebot_commands.ts";
import { addPlatformCommands } from "./_admin_commands.ts";

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
    .showHelpAfterError("(add --help to see the command's options)")
    .configureOutput({
      writeOut: (s) => output.out(s.replace(/\n$/, "")),
      writeErr: (s) => output.err(s.replace(/\n$/, "")),
    });

  program.command("server")
    .description("run the room server (data and generated credentials in --data-dir)")
    .addOption(
      new Option("--port <port>", "port to listen on (default: MESHAGENT_PORT or 8078)")
        .argParser((v) => {
          try {
            return parsePort(v, "--port");
          } catch (e) {
            throw new InvalidArgumentError((e as Error).message);
          }
        }),
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
      new Option("--front <front>", "HTTP + WebSocket front: node:http + ws, or Deno.serve")
        .choices(["node", "deno"]).default("node"),
    )
    .option(
      "--webhook-secret <secret>",
      "signs room.call deliveries and --webhook events (default: MESHAGENT_WEBHOOK_SECRET)",
    )
    .option(
      "--webhook <url>",
      "POST every room's events here, signed (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
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
    .option("--json", "print one JSON object (URL, data folder, environment) instead of the banner")
    .action(async (opts) => {
      await runServerCommand(
        {
          json: opts.json,
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
          front: opts.front,
          webhookSecret: opts.webhookSecret,
          webhook: opts.webhook,
        },
        output,
        signal,
      );
    });

  program.command("token")
    .description("mint a participant token signed with an API key")
    .requiredOption("--room <room>", "the room the token may join")
    .requiredOption("--name <name>", "the participant name")
    .addOption(roleOption("role grant", "user"))
    .addOption(
      new Option("--api <preset>", "API scope preset").choices(["agent", "user", "full", "none"])
        .default("agent"),
    )
    .addOption(
      new Option("--expires <seconds>", "lifetime in seconds (default: no expiry)")
        .argParser((v) => String(nonNegativeNumber("--expires")(v))),
    )
    .option("--key <ma-key>", "API key to sign with (default: MESHAGENT_API_KEY)")
    .option("--data-dir <dir>", "data folder of a local server", ".meshagent")
    .option("--json", "print the token and its grants as one JSON object")
    .addHelpText(
      "after",
      "\nExample:\n  meshagent token --room demo --name bob --expires 3600\n" +
        "  (then: MESHAGENT_TOKEN=<token> meshagent room storage ls --room demo)",
    )
    .action(async (opts: TokenCommandOptions) => {
      await mintToken(opts, output);
    });

  const room = program.command("room").description("work with a room");

  const messaging = room.command("messaging").description("send and receive room messages");
  jsonOption(roomOptions(messaging.command("list")))
    .description("list the other participants with messaging enabled")
    .action(async (opts) => {
      await messagingListCommand(opts, output);
    });
  jsonOption(roomOptions(messaging.command("send")))
    .description("send a message to one participant")
    .requiredOption("--to <participant>", "recipient participant id or name")
    .requiredOption("--type <type>", "message type")
    .option("--data <json>", "message JSON object", "{}")
    .option("--attachment <file>", "file to attach")
    .action(async (opts) => {
      await sendMessageCommand(opts, output);
    });
  jsonOption(roomOptions(messaging.command("broadcast")))
    .description("send a message to every participant with messaging enabled")
    .requiredOption("--type <type>", "message type")
    .option("--data <json>", "message JSON object", "{}")
    .option("--attachment <file>", "file to attach")
    .action(async (opts) => {
      await sendMessageCommand({ ...opts, to: undefined }, output);
    });
  jsonOption(roomOptions(messaging.command("listen")))
    .description("print messages and presence changes as they happen")
    .addOption(
      new Option("--count <n>", "stop after n messages").argParser(nonNegativeNumber("--count")),
    )
    .action(async (opts) => {
      await listenCommand(opts, output, signal ?? interruptSignal());
    });

  const queue = room.command("queue").description("use room queues");
  jsonOption(roomOptions(queue.command("list")))
    .description("list the room's queues and their sizes")
    .action(async (opts) => {
      await queueListCommand(opts, output);
    });
  jsonOption(roomOptions(queue.command("size")), '{"queue", "size"}')
    .description("print how many messages wait in a queue")
    .requiredOption("--queue <name>", "queue name")
    .action(async (opts) => {
      await queueSizeCommand(opts, output);
    });
  roomOptions(queue.command("send"))
    .description("append a JSON message to a queue (created on first use)")
    .requiredOption("--queue <name>", "queue name")
    .option("--json <json>", "the message: a JSON object (the official CLI's flag name)")
    .option("--file <file>", "file holding the message JSON")
    .action(async (opts) => {
      await queueSendCommand(opts, output);
    });
  jsonOption(roomOptions(queue.command("receive")), "the message on one line")
    .description("take the oldest message of a queue (waits for one by default)")
    .requiredOption("--queue <name>", "queue name")
    .option("--no-wait", "return at once when the queue is empty")
    .addOption(
      new Option("--timeout <seconds>", "give up waiting after this long")
        .argParser(nonNegativeNumber("--timeout")),
    )
    .action(
      async (
        opts: RoomConnectionOptions & {
          queue: string;
          wait: boolean;
          timeout?: number;
          json?: boolean;
        },
      ) => {
        await queueReceiveCommand({ ...opts, noWait: !opts.wait }, output);
      },
    );

  jsonOption(roomOptions(room.command("developer")))
    .description("follow the room's developer logs (what participants log with room.developer)")
    .addOption(
      new Option("--count <n>", "stop after n events").argParser(nonNegativeNumber("--count")),
    )
    .action(async (opts) => {
      await developerLogsCommand(opts, output, signal ?? interruptSignal());
    });

  addAgentsCommands(room, output);
  addStorageCommands(room, output);
  addDbCommands(room, output);
  addDatasetCommands(room, output);
  addSyncCommands(room, output);
  addConnectCommand(room, output);
  const rooms = program.command("rooms").description("the rooms of a server");
  jsonOption(rooms.command("list"))
    .description("list the server's rooms (those that keep data, and those in use now)")
    .addOption(
      new Option(
        "--api-url <url>",
        "room server URL (default: MESHAGENT_API_URL or http://127.0.0.1:8078)",
      ).argParser(serverUrl("--api-url")),
    )
    .option("--key <ma-key>", "the project's API key (default: MESHAGENT_API_KEY)")
    .option(
      "--data-dir <dir>",
      "data folder of a local server, whose key may be used",
      ".meshagent",
    )
    .action(async (opts) => {
      await roomsListCommand(opts, output);
    });

  addPlatformCommands(program, output, signal);
  addMcpCommands(program, output, signal);
  addProcessCommands(program, output, signal);
  addVoicebotCommands(program, output, signal);

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
