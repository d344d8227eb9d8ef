import type { AgentSessionContext, LLMUsage, SessionItem } from "./agent_session_context.ts";
import { LLMError } from "./llm_adapter.ts";
import {
  LLMAdapterBase,
  type LLMAdapterBaseOptions,
  type LLMErrorClass,
  type LLMRound,
  type LLMRoundResult,
} from "./llm_adapter_base.ts";

/** What a scripted model does in one round. */
export interface ScriptedReply {
  /** Text to answer with (streamed in `chunks` deltas). */
  text?: string;
  /** Tools to call: `{tool, arguments}` (`toolkit` to qualify; arguments as JSON text or a value). */
  toolCalls?: { toolkit?: string; tool: string; arguments: unknown }[];
  /** Fail the round with this error instead (an `LLMError` is final; anything else is retried). */
  error?: unknown;
  /** Wait this long (ms) before each text delta (to test interrupts and streaming). */
  delayMs?: number;
  /** Split the text into this many deltas (default: one per word). */
  chunks?: number;
  /** Token counts to report. */
  usage?: LLMUsage;
}

/** Decides a scripted model's reply from the context it is given. */
export type ScriptedModel = (
  context: AgentSessionContext,
  round: { number: number; model: string },
) => ScriptedReply | Promise<ScriptedReply>;

/** Options of a {@linkcode ScriptedLLMAdapter}. */
export interface ScriptedLLMAdapterOptions extends LLMAdapterBaseOptions {
  /** The provider name it answers to (default `scripted`). */
  provider?: string;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/**
 * A model that answers from a script, through the same tool loop, retries and events as the real
 * adapters: for tests of agents, channels and UIs without a provider, and for examples.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ScriptedLLMAdapter } from "@meshagent/agents";
 * const adapter = new ScriptedLLMAdapter((context) => ({
 *   text: `you said: ${(context.items.at(-1) as { text: string }).text}`,
 * }));
 * const context = adapter.createSession();
 * context.appendUserMessage("hello");
 * const deltas: string[] = [];
 * const response = await adapter.createResponse({
 *   context,
 *   caller: { id: "agent", attributes: {} },
 *   toolkits: [],
 *   onEvent: (e) => e.type === "text_content.delta" && deltas.push(String(e.text)),
 * });
 * assert.equal(response.text, "you said: hello");
 * assert.equal(deltas.join(""), "you said: hello");
 * ```
 */
export class ScriptedLLMAdapter extends LLMAdapterBase {
  /** The provider name. */
  readonly provider: string;
  /** A display name. */
  readonly friendlyName: string = "Scripted model";
  readonly #model: ScriptedModel;
  #calls = 0;

  /**
   * Creates the value.
   *
   * @param model The script.
   * @param options Provider name, default model (default `scripted-1`), retries, limits.
   */
  constructor(model: ScriptedModel, options: ScriptedLLMAdapterOptions = {}) {
    super({ retryBaseDelayMs: 1, retryMaxDelayMs: 5, ...options }, "scripted-1");
    this.provider = options.provider ?? "scripted";
    this.#model = model;
  }

  /** One scripted round: the script's text as deltas, its tool calls, or its error. */
  protected async round(round: LLMRound): Promise<LLMRoundResult> {
    const reply = await this.#model(round.request.context, {
      number: round.number,
      model: round.model,
    });
    if (reply.error !== undefined) throw reply.error;
    const items: SessionItem[] = [];
    if (reply.text !== undefined && reply.text !== "") {
      const itemId = `text-${++this.#calls}`;
      round.emit({ type: "text_content.started", item_id: itemId });
      const words = reply.text.split(/(?<= )/);
      const size = Math.max(1, Math.ceil(words.length / (reply.chunks ?? words.length)));
      for (let i = 0; i < words.length; i += size) {
        if (reply.delayMs) await sleep(reply.delayMs, round.signal);
        round.emit({
          type: "text_content.delta",
          item_id: itemId,
          text: words.slice(i, i + size).join(""),
        });
      }
      round.emit({ type: "text_content.ended", item_id: itemId, text: reply.text });
      items.push({ kind: "assistant", text: reply.text, itemId });
    }
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({
      callId: `call-${++this.#calls}`,
      namespace: call.toolkit ?? null,
      name: call.tool,
      arguments: typeof call.arguments === "string"
        ? call.arguments
        : JSON.stringify(call.arguments),
    }));
    return { items, toolCalls, usage: reply.usage };
  }

  /** Retries what a provider would (no status, 408, 409, 429, ≥500); an `LLMError` is final. */
  protected classifyError(error: unknown): LLMErrorClass {
    if (error instanceof LLMError) return { retryable: false, message: error.message };
    const status = (error as { status?: number })?.status;
    return {
      retryable: status === undefined || status === 408 || status === 409 || status === 429 ||
        status >= 500,
      status,
      message: error instanceof Error ? error.message : String(error),
    };
  }
}
