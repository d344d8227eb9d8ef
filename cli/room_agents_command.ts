import {
  BinaryContent,
  type Content,
  EmptyContent,
  FileContent,
  JsonContent,
  LinkContent,
  TextContent,
  type ToolkitDescription,
} from "@meshagent/api";
import {
  connectRoom,
  DEFAULT_API_URL,
  type Env,
  resolveRoomConnection,
  type RoomConnectionOptions,
} from "./room_connection.ts";
import { parseJsonObject } from "./room_messaging_command.ts";
import type { Output } from "./output.ts";
import { printList } from "./_format.ts";

/** Flags of `meshagent room agents list-toolkits`. */
export interface ListToolkitsCommandOptions extends RoomConnectionOptions {
  /** Only the toolkits of this participant (private ones included). */
  participantId?: string;
  /** Only the toolkits of the participant with this name. */
  participantName?: string;
  /** Seconds the room may wait for that participant's toolkits to appear. */
  timeout?: number;
  /** One JSON object per toolkit (with its tools and their schemas) instead of a table. */
  json?: boolean;
}

/** The JSON printed for one toolkit by `list-toolkits`. */
export interface ListedToolkitJson {
  /** The toolkit name. */
  name: string;
  /** The title. */
  title: string;
  /** The description. */
  description: string;
  /** The hosting participant, when the room said. */
  participant_id?: string;
  /** The tools. */
  tools: {
    name: string;
    title: string;
    description: string;
    input_spec?: unknown;
    output_spec?: unknown;
  }[];
}

function toJson(kit: ToolkitDescription): ListedToolkitJson {
  const out: ListedToolkitJson = {
    name: kit.name,
    title: kit.title,
    description: kit.description,
    tools: kit.tools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      ...(t.inputSpec ? { input_spec: t.inputSpec } : {}),
      ...(t.outputSpec ? { output_spec: t.outputSpec } : {}),
    })),
  };
  if (kit.participantId !== undefined) out.participant_id = kit.participantId;
  return out;
}

/**
 * `meshagent room agents list-toolkits`: prints the toolkits this participant can see (every
 * public one and its own; with `--participant-id`, that participant's, private ones included) as
 * a table (toolkit, its tools, who hosts it), a sentence when there are none, or — with
 * `--json` — one object per toolkit with its tools and their input schemas.
 *
 * @param options The command's flags.
 * @param output Where the JSON goes.
 * @param env Reads environment variables.
 * @returns The toolkits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listToolkitsCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const lines: string[] = [];
 * const kits = await listToolkitsCommand(
 *   { room: "demo", apiUrl: server.url, key: formatApiKey(key) },
 *   { out: (l) => lines.push(l), err: () => {} },
 * );
 * assert(kits.length === 0 && lines[0].startsWith("no toolkits in room demo yet"));
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function listToolkitsCommand(
  options: ListToolkitsCommandOptions,
  output: Output,
  env?: Env,
): Promise<ListedToolkitJson[]> {
  const room = await connectRoom(options, env);
  try {
    const kits = await room.agents.listToolkits({
      participantId: options.participantId,
      participantName: options.participantName,
      timeout: options.timeout,
    });
    const json = kits.map(toJson);
    const whose = options.participantId ?? options.participantName;
    printList(output, json, {
      json: options.json,
      columns: [
        { header: "toolkit", value: (k) => k.name },
        { header: "tools", value: (k) => k.tools.map((t) => t.name).join(", ") },
        { header: "hosted by", value: (k) => k.participant_id },
      ],
      empty: whose
        ? `${whose} hosts no toolkits you can see in room ${room.roomName}`
        : `no toolkits in room ${room.roomName} yet (host one with meshagent room connect -- ` +
          "<your toolkit program>, or meshagent mcp stdio)",
    });
    return json;
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room agents invoke-tool`. */
export interface InvokeToolCommandOptions extends RoomConnectionOptions {
  /** The toolkit name. */
  toolkit: string;
  /** The tool name. */
  tool: string;
  /** The arguments as a JSON object (default `{}`). */
  arguments?: string;
  /** Call the toolkit hosted by this participant. */
  participantId?: string;
  /** The participant the call acts for. */
  onBehalfOfId?: string;
  /** Give up after this many seconds. */
  timeout?: number;
  /** Where to save a file result (default: print a summary only). */
  output?: string;
  /** The tool streams its output: print each item as it arrives. */
  stream?: boolean;
  /** Print each result as one JSON object (its content envelope) instead of readable text. */
  json?: boolean;
}

async function printContent(
  content: Content,
  output: Output,
  saveTo?: string,
  json?: boolean,
): Promise<void> {
  if (json) {
    const envelope: Record<string, unknown> = content.toJson();
    if (content instanceof FileContent || content instanceof BinaryContent) {
      envelope.size = content.data.byteLength;
      if (saveTo !== undefined) {
        await Deno.writeFile(saveTo, content.data);
        envelope.saved_to = saveTo;
      }
    }
    output.out(JSON.stringify(envelope));
    return;
  }
  if (content instanceof JsonContent) {
    output.out(JSON.stringify(content.json, null, 2));
  } else if (content instanceof TextContent) {
    output.out(content.text);
  } else if (content instanceof FileContent) {
    const summary = {
      type: "file",
      name: content.name,
      mime_type: content.mimeType,
      size: content.data.byteLength,
    };
    if (saveTo !== undefined) {
      await Deno.writeFile(saveTo, content.data);
      output.out(JSON.stringify({ ...summary, saved_to: saveTo }));
    } else {
      output.out(JSON.stringify(summary));
      output.err(`the result is a file; pass --output PATH to save its ${summary.size} bytes`);
    }
  } else if (content instanceof LinkContent) {
    output.out(content.url);
  } else if (content instanceof BinaryContent) {
    output.out(
      JSON.stringify({ type: "binary", headers: content.headers, size: content.data.byteLength }),
    );
  } else if (content instanceof EmptyContent) {
    output.err("done (empty result)");
  } else {
    output.out(JSON.stringify(content.toJson()));
  }
}

/**
 * `meshagent room agents invoke-tool`: calls a tool with JSON arguments and prints the result
 * (JSON pretty-printed, text as is, a link's URL; a file is summarised, or saved with
 * `--output`). With `--stream`, each output item is printed as it arrives.
 *
 * @param options The command's flags.
 * @param output Where the result goes.
 * @param env Reads environment variables.
 * @returns The result content (the last item for `--stream`).
 * @throws {Error} When the arguments are not a JSON object; a RoomError when the call fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { invokeToolCommand } from "@meshagent/cli";
 * import { RoomServer } from "@meshagent/server";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [key] });
 * const lines: string[] = [];
 * // The built-in queues toolkit answers like any tool.
 * await invokeToolCommand(
 *   { room: "demo", apiUrl: server.url, key: formatApiKey(key), toolkit: "queues", tool: "list" },
 *   { out: (l) => lines.push(l), err: () => {} },
 * );
 * assert(JSON.parse(lines.join("\n")).queues !== undefined);
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function invokeToolCommand(
  options: InvokeToolCommandOptions,
  output: Output,
  env?: Env,
): Promise<Content | undefined> {
  const args = parseJsonObject(options.arguments ?? "{}", "--arguments");
  const room = await connectRoom(options, env);
  try {
    const request = {
      toolkit: options.toolkit,
      tool: options.tool,
      input: args,
      participantId: options.participantId,
      onBehalfOfId: options.onBehalfOfId,
      timeout: options.timeout !== undefined ? options.timeout * 1000 : undefined,
    };
    if (!options.stream) {
      const result = await room.invoke(request);
      await printContent(result, output, options.output, options.json);
      return result;
    }
    let last: Content | undefined;
    for await (const item of await room.invokeStream(request)) {
      last = item;
      await printContent(item, output, options.output, options.json);
    }
    return last;
  } finally {
    await room.dispose();
  }
}

/** Flags of `meshagent room connect`. */
export interface RoomConnectCommandOptions extends RoomConnectionOptions {
  /** Extra `NAME=VALUE` environment variables for the program. */
  env?: string[];
}

const FORWARDED_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * `meshagent room connect -- <command> [args…]`: mints (or takes) a participant token for the room
 * and runs the program with `MESHAGENT_ROOM`, `MESHAGENT_TOKEN` and `MESHAGENT_API_URL` set on top
 * of this process's environment (plus `MESHAGENT_PROJECT_ID` when known), as the official CLI
 * does. The program's stdio is inherited; SIGINT, SIGTERM and SIGHUP are passed on to it.
 *
 * @param options The room flags (`--identity`/`--role` name the minted token).
 * @param command The program and its arguments.
 * @param output Where diagnostics go.
 * @param env Reads environment variables.
 * @returns The program's exit code (128 + signal number when a signal ended it).
 * @throws {Error} When no command is given or it cannot be started.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roomConnectCommand } from "@meshagent/cli";
 * import { formatApiKey, generateApiKey } from "@meshagent/api";
 * const key = formatApiKey(generateApiKey());
 * const code = await roomConnectCommand(
 *   { room: "demo", identity: "me", key, apiUrl: "http://127.0.0.1:9" },
 *   [Deno.execPath(), "eval", "Deno.exit(Deno.env.get('MESHAGENT_ROOM') === 'demo' ? 3 : 1)"],
 *   { out: () => {}, err: () => {} },
 * );
 * assert(code === 3);
 * ```
 */
export async function roomConnectCommand(
  options: RoomConnectCommandOptions,
  command: readonly string[],
  output: Output,
  env: Env = (name) => Deno.env.get(name),
): Promise<number> {
  if (command.length === 0) {
    throw new Error(
      "what to run? put the command after --, e.g. meshagent room connect -- deno run main.ts",
    );
  }
  const connection = await resolveRoomConnection(options, env);
  const apiUrl = options.apiUrl ?? env("MESHAGENT_API_URL") ?? DEFAULT_API_URL;
  const extra: Record<string, string> = {
    MESHAGENT_ROOM: connection.room,
    MESHAGENT_TOKEN: connection.token,
    MESHAGENT_API_URL: apiUrl,
  };
  const project = env("MESHAGENT_PROJECT_ID");
  if (project) extra.MESHAGENT_PROJECT_ID = project;
  for (const pair of options.env ?? []) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new Error(`--env takes NAME=VALUE, got ${JSON.stringify(pair)}`);
    extra[pair.slice(0, i)] = pair.slice(i + 1);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command[0], {
      args: command.slice(1),
      env: extra, // added to the inherited environment
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    throw new Error(`cannot run ${command[0]}: ${e instanceof Error ? e.message : e}`);
  }
  output.err(`running ${command[0]} in room ${connection.room}`);
  const forwarders: [Deno.Signal, () => void][] = [];
  for (const signal of FORWARDED_SIGNALS) {
    const forward = () => {
      try {
        child.kill(signal);
      } catch { /* exited already */ }
    };
    try {
      Deno.addSignalListener(signal, forward);
      forwarders.push([signal, forward]);
    } catch { /* not supported on this platform */ }
  }
  try {
    const status = await child.status;
    if (status.signal !== null) return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
    return status.code;
  } finally {
    for (const [signal, forward] of forwarders) Deno.removeSignalListener(signal, forward);
  }
}
