import {
  type AgentMessage,
  agentMessageKind,
  ChatClientError,
  MessagingChatClient,
} from "@meshagent/agents";
import type { Output } from "./output.ts";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";

/** Flags of `meshagent chat` (and `meshagent process use`). */
export interface ChatCommandOptions extends RoomConnectionOptions {
  /** The agent to talk to. */
  agent: string;
  /** Continue this thread (default: a new one). */
  threadId?: string;
  /** Send these messages, one turn each, then exit (default: read lines from stdin). */
  message?: string[];
  /** A model other than the agent's default. */
  model?: string;
  /** Print every agent message as a JSON line instead of the conversation. */
  json?: boolean;
  /** How long to wait for the agent to appear, in seconds (default 30). */
  wait?: number;
}

const MAX_SHOWN = 200;

function short(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

/** What a tool returned, for one line of the transcript (a content's JSON). */
function resultText(result: unknown): string {
  const r = result as Record<string, unknown> | undefined;
  if (!r || typeof r !== "object") return "";
  if (r.type === "text") return short(r.text);
  if (r.type === "json") return short(r.json);
  if (r.type === "empty") return "ok";
  if (r.type === "file") return `file ${r.name} (${r.mime_type})`;
  return short(r);
}

/** Turns a turn's events into terminal output: text as it streams, tools and errors as lines. */
class Transcript {
  readonly #output: Output;
  #pending = "";
  #midLine = false;

  constructor(output: Output) {
    this.#output = output;
  }

  write(text: string): void {
    if (text === "") return;
    this.#midLine = !text.endsWith("\n");
    if (this.#output.write) return this.#output.write(text);
    const lines = (this.#pending + text).split("\n");
    this.#pending = lines.pop()!;
    for (const line of lines) this.#output.out(line);
  }

  line(text: string): void {
    this.endLine();
    this.#output.out(text);
  }

  endLine(): void {
    if (this.#output.write) {
      if (this.#midLine) this.#output.write("\n");
    } else if (this.#pending !== "") {
      this.#output.out(this.#pending);
    }
    this.#pending = "";
    this.#midLine = false;
  }

  show(event: AgentMessage): void {
    switch (agentMessageKind(event.type)) {
      case "text_content.delta":
        return this.write(String(event.text ?? ""));
      case "text_content.ended":
        return this.endLine();
      case "tool_call.started":
        return this.line(
          `  → ${event.toolkit ? `${event.toolkit}.` : ""}${event.tool}(${
            short(event.arguments ?? {})
          })`,
        );
      case "tool_call.ended":
        return this.line(
          event.error
            ? `  ← ${event.tool} failed: ${(event.error as { message: string }).message}`
            : `  ← ${event.tool}: ${resultText(event.result)}`,
        );
      case "thread.event": {
        const detail = event.event as { headline?: string } | undefined;
        if (detail?.headline) {
          this.endLine();
          this.#output.err(`  … ${detail.headline}`);
        }
        return;
      }
      case "turn.interrupted":
        this.endLine();
        return this.#output.err("  (interrupted)");
    }
  }
}

async function* lines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of input.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer !== "") yield buffer;
}

/**
 * `meshagent chat --room R --agent A`: a terminal conversation with an agent in a room. Each line
 * (or each `--message`) is a turn; the answer is printed as it streams, tool calls as `→` / `←`
 * lines, retries and errors on stderr. Ctrl-C during a turn interrupts it; Ctrl-C at the prompt
 * (or the end of input) leaves.
 *
 * @param options Room, agent, thread and output mode.
 * @param output Where the conversation goes.
 * @param input Where lines come from when no `--message` is given (default stdin).
 * @param env The environment.
 * @returns The exit code: 0, or 1 when a turn ended with an error or the agent refused it.
 */
export async function runChat(
  options: ChatCommandOptions,
  output: Output,
  input: ReadableStream<Uint8Array> = Deno.stdin.readable,
  env?: Env,
): Promise<number> {
  const room = await connectRoom({ ...options, identity: options.identity ?? "cli" }, env);
  let current: { interrupt(): Promise<void> } | null = null;
  let quit = false;
  const onInterrupt = () => {
    if (current) {
      current.interrupt().catch(() => {});
    } else {
      quit = true;
      input.cancel().catch(() => {});
    }
  };
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onInterrupt);
    listening = true;
  } catch { /* no signals here (tests, Windows without a console) */ }
  let failed = false;
  try {
    const chat = await MessagingChatClient.connect({
      room,
      agentName: options.agent,
      timeoutMs: (options.wait ?? 30) * 1000,
    });
    try {
      let threadId = options.threadId;
      if (threadId) {
        const replayed = await chat.openThread(threadId);
        if (!options.json) output.err(`thread ${threadId} (${replayed.length} stored messages)`);
      } else {
        threadId = await chat.startThread();
        if (!options.json) output.err(`thread ${threadId}`);
      }
      const transcript = new Transcript(output);
      const interactive = options.message === undefined && Deno.stdin.isTerminal();
      const turns = options.message ?? lines(input);
      if (interactive) {
        output.err(`talking to ${options.agent}; Ctrl-C interrupts a turn, Ctrl-C again leaves`);
      }
      for await (const text of turns) {
        if (quit) break;
        if (text.trim() === "") continue;
        let turn;
        try {
          turn = await chat.startTurn(threadId, text, { model: options.model });
        } catch (e) {
          failed = true;
          output.err(`error: ${e instanceof ChatClientError ? e.message : String(e)}`);
          continue;
        }
        current = turn;
        for await (const event of turn.events) {
          if (options.json) output.out(JSON.stringify(event));
          else transcript.show(event);
        }
        current = null;
        const done = await turn.done;
        transcript.endLine();
        if (done.error && done.error.code !== "interrupted") {
          failed = true;
          output.err(`error: ${done.error.message}`);
        }
      }
    } finally {
      chat.close();
    }
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onInterrupt);
    await room.dispose();
  }
  return failed ? 1 : 0;
}
