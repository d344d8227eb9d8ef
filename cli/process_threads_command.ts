import {
  type AgentMessage,
  agentMessageKind,
  contentText,
  DocumentThreadStorageRepository,
} from "@meshagent/agents";
import { formatTable } from "./room_db_command.ts";
import type { Output } from "./output.ts";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";

/** Flags of `meshagent process threads` and `process messages`. */
export interface ProcessThreadsOptions extends RoomConnectionOptions {
  /** The agent whose threads to read. */
  agentName: string;
  /** The folder of its thread documents (default `.threads/<agent>`). */
  threadDir?: string;
  /** `messages`: the thread to print. */
  threadId?: string;
  /** JSON lines instead of a table. */
  json?: boolean;
  /** `threads`: most threads to list (default 200). */
  limit?: number;
}

async function withRepository<T>(
  options: ProcessThreadsOptions,
  env: Env | undefined,
  fn: (repository: DocumentThreadStorageRepository) => Promise<T>,
): Promise<T> {
  const room = await connectRoom({ ...options, identity: options.identity ?? "cli" }, env);
  const repository = new DocumentThreadStorageRepository({
    room,
    agentName: options.agentName,
    threadDir: options.threadDir,
  });
  try {
    return await fn(repository);
  } finally {
    await repository.close();
    await room.dispose();
  }
}

/**
 * `meshagent process threads`: the agent's threads, read from the room (the agent need not be
 * running), newest first, as a table or JSON lines.
 *
 * @param options Room, agent, thread folder, output mode.
 * @param output Where the listing goes.
 * @param env The environment.
 */
export async function processThreadsCommand(
  options: ProcessThreadsOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  await withRepository(options, env, async (repository) => {
    const { threads, total } = await repository.list({ limit: options.limit ?? 200 });
    if (options.json) {
      for (const thread of threads) output.out(JSON.stringify(thread));
      return;
    }
    for (const line of formatTable(["modified_at", "name", "path"], threads as never[])) {
      output.out(line);
    }
    output.err(`${total} thread${total === 1 ? "" : "s"} in ${repository.threadDir}`);
  });
}

/** One line of a thread for the table: who said what. */
function describe(message: AgentMessage): { turn: string; kind: string; text: string } | null {
  const kind = agentMessageKind(message.type) ?? message.type;
  const turn = String(message.turn_id ?? "").slice(0, 8);
  switch (kind) {
    case "turn.start":
    case "turn.steer":
      return { turn, kind: `${message.sender_name ?? "user"}`, text: contentText(message.content) };
    case "text_content.delta":
      return { turn, kind: "assistant", text: String(message.text ?? "") };
    case "reasoning_content.delta":
      return { turn, kind: "reasoning", text: String(message.text ?? "") };
    case "tool_call.started":
      return {
        turn,
        kind: "tool call",
        text: `${message.toolkit}.${message.tool} ${JSON.stringify(message.arguments ?? {})}`,
      };
    case "tool_call.ended":
      return {
        turn,
        kind: message.error ? "tool error" : "tool result",
        text: message.error
          ? String((message.error as { message: string }).message)
          : JSON.stringify(message.result ?? null),
      };
    case "turn.ended":
      return message.error
        ? {
          turn,
          kind: "turn failed",
          text: String((message.error as { message: string }).message),
        }
        : null;
    default:
      return null;
  }
}

/**
 * `meshagent process messages --thread-id T`: a stored thread, as a table of who said what, or
 * every stored agent message as JSON lines.
 *
 * @param options Room, agent, thread, output mode.
 * @param output Where the thread goes.
 * @param env The environment.
 */
export async function processMessagesCommand(
  options: ProcessThreadsOptions,
  output: Output,
  env?: Env,
): Promise<void> {
  if (!options.threadId) {
    throw new Error("which thread? pass --thread-id (see `meshagent process threads`)");
  }
  const threadId = options.threadId;
  await withRepository(options, env, async (repository) => {
    if (!repository.owns(threadId)) {
      throw new Error(
        `${threadId} is not a thread of ${options.agentName} (folder ${repository.threadDir})`,
      );
    }
    const storage = await repository.open(threadId);
    try {
      const messages = await storage.messages();
      if (options.json) {
        for (const message of messages) output.out(JSON.stringify(message));
        return;
      }
      const rows = messages.map(describe).filter((row) => row !== null).map((row) => ({
        ...row,
        text: row!.text.replace(/\s+/g, " ").slice(0, 160),
      }));
      for (const line of formatTable(["turn", "kind", "text"], rows as never[])) output.out(line);
    } finally {
      await storage.close();
    }
  });
}
