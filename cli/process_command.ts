import type { RoomClient } from "@meshagent/api";
import {
  AgentSupervisor,
  type Channel,
  type ChannelParticipant,
  DatasetThreadStorageRepository,
  DocumentThreadStorageRepository,
  MailChannel,
  MemoryThreadStorageRepository,
  MessagingChatChannel,
  QueueChannel,
  type ThreadStorageRepository,
  ToolkitChannel,
} from "@meshagent/agents";
import { RemoteToolkit, StorageToolkit, type Toolkit } from "@meshagent/tools";
import { buildAdapters } from "./_llm_providers.ts";
import { McpToolkits, parseMcpStdio, parseMcpUrl, turnMcpServers } from "./_mcp_turn_toolkits.ts";
import type { Output } from "./output.ts";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";

/** Flags of `meshagent process join` (and `run`). */
export interface ProcessJoinOptions extends RoomConnectionOptions {
  /** The agent's participant name (`--agent-name`). */
  agentName: string;
  /** `process join`: print `{"event": "joined", …}` on stdout once the agent is in the room. */
  json?: boolean;
  /** `--model` values (`provider/model` or a model name); the first is the default. */
  model?: string[];
  /** `--channel` values: `chat`, `queue:NAME`, `toolkit:NAME`, `mail:ADDRESS[?reply-all=true]`. */
  channel?: string[];
  /** `--require-toolkit`: room toolkits every turn may use. */
  requireToolkit?: string[];
  /** `--storage`: the room's files as tools. */
  storage?: boolean;
  /** `--read-only-storage`: the room's files as read-only tools. */
  readOnlyStorage?: boolean;
  /** `-r/--rule`: rules (system instructions). */
  rule?: string[];
  /** `--rules-file`: local files whose text is a rule each. */
  rulesFile?: string[];
  /** `--room-rules`: room files read at every turn, a rule each. */
  roomRules?: string[];
  /** `--threading-mode`: `default-new` (a thread per conversation) or `none` (one thread). */
  threadingMode?: "default-new" | "none";
  /** `--thread-dir`: the folder of the thread documents (default `.threads/<agent>`). */
  threadDir?: string;
  /**
   * `--thread-storage`: `room` (MeshDocuments in the room, default), `dataset` (tables in the
   * room's datasets, the official runtime's layout: `dataset://<dir>/<uuid>`) or `none` (memory).
   */
  threadStorage?: "room" | "dataset" | "none";
  /** `--verbose-dataset`: with dataset storage, keep every delta instead of one per item. */
  verboseDataset?: boolean;
  /** `--thread-isolation`: `global` (default) or `participant`. */
  threadIsolation?: "global" | "participant";
  /** `--empty-state-title`: what chat UIs show before the first message. */
  emptyStateTitle?: string;
  /** `--computer-use`: a headless browser the agent drives (OpenAI computer use). */
  computerUse?: boolean;
  /** `--starting-url`: the page the browser opens first. */
  startingUrl?: string;
  /** `--allow-goto-url`: the `goto` tool (open any URL directly). */
  allowGotoUrl?: boolean;
  /** `--mcp`: MCP servers over streamable HTTP (`URL` or `LABEL=URL`) for every turn. */
  mcp?: string[];
  /** `--mcp-stdio`: MCP servers run as commands (`LABEL=command args…`) for every turn. */
  mcpStdio?: string[];
  /** Provider request retries (tests). */
  maxRetries?: number;
  /** The first retry delay in ms (tests). */
  retryBaseDelayMs?: number;
}

/** An agent started by {@linkcode startProcessAgent}. */
export interface ProcessAgent {
  /** The agent's room connection. */
  room: RoomClient;
  /** The supervisor. */
  supervisor: AgentSupervisor;
  /** A one-line description for the terminal. */
  summary: string;
  /** The same as data: agent, room, models, channels and thread folder. */
  info: {
    agent: string;
    room: string;
    models: string[];
    channels: string[];
    thread_dir: string;
  };
  /** Stops the agent and leaves the room. */
  stop(): Promise<void>;
}

function channelsFor(
  specs: readonly string[],
  room: RoomClient,
  options: ProcessJoinOptions,
): Channel[] {
  const channels: Channel[] = [];
  for (const spec of specs.length > 0 ? specs : ["chat"]) {
    const colon = spec.indexOf(":");
    const kind = colon < 0 ? spec : spec.slice(0, colon);
    const arg = colon < 0 ? "" : spec.slice(colon + 1);
    switch (kind) {
      case "chat":
        channels.push(
          new MessagingChatChannel({
            room,
            threadingMode: options.threadingMode,
            emptyStateTitle: options.emptyStateTitle,
          }),
        );
        break;
      default: {
        const made = extraChannel(kind, arg, room, options);
        if (!made) {
          throw new Error(
            `unknown --channel ${spec}: use chat, queue:NAME, toolkit:NAME or mail:ADDRESS`,
          );
        }
        channels.push(made);
      }
    }
  }
  return channels;
}

/** The queue, toolkit and mail channels. */
function extraChannel(
  kind: string,
  arg: string,
  room: RoomClient,
  options: ProcessJoinOptions,
): Channel | null {
  if (arg === "" && ["queue", "toolkit", "mail"].includes(kind)) {
    throw new Error(`--channel ${kind}: needs a name, e.g. ${kind}:${options.agentName}`);
  }
  switch (kind) {
    case "queue":
      return new QueueChannel({ room, queueName: arg });
    case "toolkit":
      return new ToolkitChannel({ room, toolkitName: arg });
    case "mail": {
      const [address, query = ""] = arg.split("?");
      const replyAll = new URLSearchParams(query).get("reply-all") === "true";
      return new MailChannel({ room, emailAddress: address, replyAll });
    }
    default:
      return null;
  }
}

/**
 * The computer-use toolkit of `--computer-use`: a headless local Chromium (loaded on use, so
 * agents without it never load puppeteer), opening `--starting-url`, with `goto` when
 * `--allow-goto-url`.
 */
async function computerToolkit(
  options: ProcessJoinOptions,
): Promise<Toolkit & { stop(): Promise<void> }> {
  const { ComputerToolkit } = await import("@meshagent/computers");
  return new ComputerToolkit({
    startingUrl: options.startingUrl,
    includeGotoTool: options.allowGotoUrl === true,
  });
}

async function readRules(options: ProcessJoinOptions): Promise<string[]> {
  const rules = [...(options.rule ?? [])];
  for (const file of options.rulesFile ?? []) {
    try {
      rules.push((await Deno.readTextFile(file)).trim());
    } catch (e) {
      throw new Error(`--rules-file ${file}: ${e instanceof Error ? e.message : e}`);
    }
  }
  return rules.filter((rule) => rule !== "");
}

async function readRoomRules(room: RoomClient, paths: readonly string[]): Promise<string[]> {
  const rules: string[] = [];
  for (const path of paths) {
    try {
      rules.push(new TextDecoder().decode((await room.storage.download(path)).data).trim());
    } catch (e) {
      console.error(`--room-rules ${path}: ${(e as Error).message}`);
    }
  }
  return rules.filter((rule) => rule !== "");
}

/**
 * Connects an LLM agent to a room (what `meshagent process join` runs): adapters from `--model`,
 * channels from `--channel` (default `chat`), thread storage in the room, the room toolkits it
 * requires, and the room's files when `--storage` is given.
 *
 * @param options The flags.
 * @param env The environment (keys, base URLs, `MESHAGENT_*`).
 * @param joined A room connection to run in (a ServiceHost's call; it stays open on stop)
 *   instead of connecting with the flags.
 * @returns The running agent.
 */
export async function startProcessAgent(
  options: ProcessJoinOptions,
  env: Env = (name) => Deno.env.get(name),
  joined?: RoomClient,
): Promise<ProcessAgent> {
  if (!options.agentName) throw new Error("which agent? pass --agent-name NAME");
  const adapters = await buildAdapters(options.model ?? [], env, {
    maxRetries: options.maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs,
  });
  const rules = await readRules(options);
  const room = joined ?? await connectRoom({
    ...options,
    identity: options.agentName,
    role: options.role ?? "agent",
  }, env);
  const leave = () => joined ? Promise.resolve() : room.dispose();
  try {
    const threadDir = options.threadDir ?? `.threads/${options.agentName}`;
    const repository = (participant?: ChannelParticipant): ThreadStorageRepository => {
      const dir = participant ? `${threadDir}/${participant.name ?? participant.id}` : threadDir;
      if (options.threadStorage === "dataset") {
        return new DatasetThreadStorageRepository({
          room,
          agentName: options.agentName,
          threadDir: dir,
          persistDeltas: options.verboseDataset,
        });
      }
      return options.threadStorage === "none"
        ? new MemoryThreadStorageRepository(dir)
        : new DocumentThreadStorageRepository({
          room,
          agentName: options.agentName,
          threadDir: dir,
        });
    };
    const isolation = options.threadIsolation ?? "global";
    const toolkits: Toolkit[] = [];
    const computer = options.computerUse ? await computerToolkit(options) : null;
    if (computer) toolkits.push(computer);
    if (options.storage || options.readOnlyStorage) {
      toolkits.push(new StorageToolkit({ room, readOnly: !options.storage }));
    }
    const required = options.requireToolkit ?? [];
    const mcp = new McpToolkits();
    const staticMcp = [
      ...(options.mcp ?? []).map(parseMcpUrl),
      ...(options.mcpStdio ?? []).map(parseMcpStdio),
    ];
    const log = (line: string) => console.error(`agent ${options.agentName}: ${line}`);
    const supervisor = new AgentSupervisor({
      agentName: options.agentName,
      room,
      adapters,
      // [impl] Room rule files are read at each turn, so edits take effect at once.
      rules: async () => [...rules, ...await readRoomRules(room, options.roomRules ?? [])],
      toolkits,
      threadIsolation: isolation,
      threadStorage: isolation === "participant" ? (p) => repository(p) : repository(),
      turnToolkits: async (turn) => {
        // MCP servers of the agent (--mcp, --mcp-stdio) and of the turn (TurnStart.mcp).
        const found: Toolkit[] = await mcp.toolkits(
          [...staticMcp, ...turnMcpServers(turn.message.mcp)],
          log,
        );
        for (const name of required) {
          // Resolved at every turn: a toolkit that came back after a restart is found again.
          try {
            found.push(await RemoteToolkit.fromRoom(room, name, { timeout: 5 }));
          } catch (e) {
            console.error(
              `agent ${options.agentName}: --require-toolkit ${name}: ${(e as Error).message}`,
            );
          }
        }
        return found;
      },
    });
    const channels = channelsFor(options.channel ?? [], room, options);
    await supervisor.start(channels);
    const models = adapters.map((a) => `${a.provider}/${a.defaultModel()}`);
    return {
      room,
      supervisor,
      summary: `agent ${options.agentName} joined room ${room.roomName} (models: ` +
        `${models.join(", ")}; channels: ${channels.map((c) => c.name).join(", ")}; threads: ` +
        `${supervisor.threadDir})`,
      info: {
        agent: options.agentName,
        room: room.roomName ?? "",
        models,
        channels: channels.map((c) => c.name),
        thread_dir: supervisor.threadDir,
      },
      async stop() {
        await supervisor.stop();
        await mcp.close();
        await computer?.stop();
        await leave();
      },
    };
  } catch (e) {
    await leave();
    throw e;
  }
}

/**
 * `meshagent process join`: runs the agent until Ctrl-C, SIGTERM or the room closes.
 *
 * @param options The flags.
 * @param output Where messages go.
 * @param signal Stops the agent.
 */
export async function runProcessJoin(
  options: ProcessJoinOptions,
  output: Output,
  signal: AbortSignal,
): Promise<void> {
  const agent = await startProcessAgent(options);
  if (options.json) output.out(JSON.stringify({ event: "joined", ...agent.info }));
  else output.err(agent.summary);
  output.err("Press Ctrl-C to stop.");
  const closed = new Promise<void>((resolve) => agent.room.on("closed", () => resolve()));
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await Promise.race([closed, stopped]);
  await agent.stop();
}
