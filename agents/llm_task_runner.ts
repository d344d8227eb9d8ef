import type { JsonObject } from "@meshagent/api";
import type { LLMAdapter } from "./llm_adapter.ts";
import type { SessionAttachment } from "./agent_session_context.ts";
import { type TaskContext, TaskRunner, type TaskRunnerOptions } from "./task_runner.ts";

/** Options of an {@linkcode LLMTaskRunner}. */
export interface LLMTaskRunnerOptions extends Omit<TaskRunnerOptions, "inputSchema"> {
  /** The model's adapter. */
  llmAdapter: LLMAdapter;
  /** The arguments' schema (default `{prompt: string}`). */
  inputSchema?: JsonObject | null;
  /** Rules (system instructions) of every task. */
  rules?: readonly string[];
  /** The model (default: the adapter's). */
  model?: string;
  /** The user message made from the arguments (default: `prompt`, else the arguments' JSON). */
  prompt?: (args: JsonObject) => string;
  /** Provider options (`reasoning`, `temperature`…). */
  options?: JsonObject;
}

const PROMPT_SCHEMA: JsonObject = {
  type: "object",
  additionalProperties: false,
  required: ["prompt"],
  properties: { prompt: { type: "string", description: "what to do" } },
};

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * A {@linkcode TaskRunner} whose task is one LLM response (official `LLMTaskRunner`): the
 * arguments become the user message, the model runs its whole tool loop with the runner's
 * toolkits, and the answer is its text — or, with an `outputSchema`, its structured output
 * (checked against the schema like any answer). A binary attachment is given to the model as a
 * file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LLMTaskRunner, ScriptedLLMAdapter } from "@meshagent/agents";
 * const runner = new LLMTaskRunner({
 *   name: "summarizer",
 *   llmAdapter: new ScriptedLLMAdapter(() => ({ text: '{"summary":"short"}' })),
 *   outputSchema: { type: "object", required: ["summary"], properties: { summary: { type: "string" } } },
 * });
 * assert.deepEqual(runner.toJson().input_schema.required, ["prompt"]);
 * // In a program run by `meshagent room connect`: await runner.run();
 * ```
 */
export class LLMTaskRunner extends TaskRunner {
  readonly #adapter: LLMAdapter;
  readonly #options: LLMTaskRunnerOptions;

  /**
   * Creates the runner.
   *
   * @param options The adapter, the rules, the schemas and the toolkits.
   */
  constructor(options: LLMTaskRunnerOptions) {
    const { llmAdapter, rules: _rules, model: _model, prompt: _prompt, options: _o, ...rest } =
      options;
    super({ ...rest, inputSchema: options.inputSchema ?? PROMPT_SCHEMA });
    this.#adapter = llmAdapter;
    this.#options = options;
  }

  /**
   * Runs one response of the model.
   *
   * @param context The room, the caller, the toolkits, the cancel signal.
   * @param args The arguments.
   * @param attachment A file for the model, if any.
   * @returns The text, or the structured output when there is an `outputSchema`.
   */
  async ask(context: TaskContext, args: JsonObject, attachment?: Uint8Array): Promise<unknown> {
    const session = this.#adapter.createSession(this.#options.rules ?? []);
    const text = this.#options.prompt?.(args) ??
      (typeof args.prompt === "string" ? args.prompt : JSON.stringify(args));
    const attachments: SessionAttachment[] = attachment
      ? [{
        url: "data:application/octet-stream",
        name: "attachment",
        mimeType: "application/octet-stream",
        data: base64(attachment),
      }]
      : [];
    const requester = context.onBehalfOf ?? context.caller;
    session.appendUserMessage(text, { attachments, senderName: requester.name });
    const local = context.room.localParticipant;
    const response = await this.#adapter.createResponse({
      context: session,
      caller: { id: local?.id ?? "", name: this.name, attributes: local?.attributes ?? {} },
      onBehalfOf: requester,
      toolkits: context.toolkits,
      model: this.#options.model,
      outputSchema: this.outputSchema,
      options: this.#options.options,
      room: context.room,
      signal: context.signal,
    });
    return this.outputSchema ? response.json : response.text;
  }
}
