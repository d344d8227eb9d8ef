// Which LLM adapters `meshagent process` builds from its --model flags. Private: the adapters are
// loaded on demand, so commands that need no LLM (server, room …) never load provider SDKs.
import type { LLMAdapter, LLMModelInfo } from "@meshagent/agents";

/** The providers `--model` can name, as `<provider>/<model>` or by the model's name. */
export const PROVIDERS: Readonly<Record<string, { description: string; envModel: string }>> = {
  "openai": { description: "OpenAI Responses API", envModel: "OPENAI_MODEL" },
  "openai-completions": {
    description: "Chat Completions on any OpenAI-compatible server (Ollama, vLLM, llama.cpp)",
    envModel: "OPENAI_MODEL",
  },
  "anthropic": { description: "Anthropic Messages API", envModel: "ANTHROPIC_MODEL" },
};

/** A parsed `--model` flag. */
export interface ModelSpec {
  /** The provider. */
  provider: string;
  /** The model, or undefined for the provider's default. */
  model?: string;
}

/**
 * Reads a `--model` value: `provider/model`, `provider/` (its default model), or a bare model
 * name — `claude…` is Anthropic, anything else OpenAI.
 *
 * @param value The flag's value.
 * @returns The provider and model.
 * @throws {Error} For an unknown provider prefix.
 */
export function parseModelSpec(value: string): ModelSpec {
  const slash = value.indexOf("/");
  if (slash > 0) {
    const provider = value.slice(0, slash);
    if (!(provider in PROVIDERS)) {
      // "meta-llama/Llama-3" style names on OpenAI-compatible servers: only known prefixes split.
      return { provider: /^claude/i.test(value) ? "anthropic" : "openai", model: value };
    }
    const model = value.slice(slash + 1);
    return { provider, ...(model !== "" ? { model } : {}) };
  }
  return { provider: /^claude/i.test(value) ? "anthropic" : "openai", model: value };
}

type Env = (name: string) => string | undefined;

/**
 * The adapters for a list of `--model` flags: one per provider, its first model the default, all
 * its models offered. Without flags: `$OPENAI_MODEL` → OpenAI, `$ANTHROPIC_MODEL` or a lone
 * `$ANTHROPIC_API_KEY` → Anthropic, else OpenAI's default model.
 *
 * @param values The `--model` values.
 * @param env The environment.
 * @param options Retries (tests use small values).
 * @returns The adapters, the default provider's first.
 */
export async function buildAdapters(
  values: readonly string[],
  env: Env,
  options: { maxRetries?: number; retryBaseDelayMs?: number } = {},
): Promise<LLMAdapter[]> {
  let specs = values.map(parseModelSpec);
  if (specs.length === 0) {
    const anthropic = env("ANTHROPIC_MODEL") !== undefined ||
      (env("ANTHROPIC_API_KEY") !== undefined && env("OPENAI_API_KEY") === undefined &&
        env("OPENAI_MODEL") === undefined);
    specs = [{ provider: anthropic ? "anthropic" : "openai" }];
  }
  const byProvider = new Map<string, (string | undefined)[]>();
  for (const spec of specs) {
    const list = byProvider.get(spec.provider) ?? [];
    list.push(spec.model);
    byProvider.set(spec.provider, list);
  }
  const adapters: LLMAdapter[] = [];
  for (const [provider, models] of byProvider) {
    const named = models.filter((m): m is string => m !== undefined);
    const list: LLMModelInfo[] | undefined = named.length > 1
      ? named.map((name) => ({ name, modalities: ["text"] }))
      : undefined;
    const common = { model: named[0], models: list, ...options };
    switch (provider) {
      case "openai": {
        const { OpenAIResponsesAdapter } = await import("@meshagent/adapters/openai");
        adapters.push(new OpenAIResponsesAdapter(common));
        break;
      }
      case "openai-completions": {
        const { OpenAICompletionsAdapter } = await import("@meshagent/adapters/openai");
        adapters.push(new OpenAICompletionsAdapter({ ...common, provider: "openai-completions" }));
        break;
      }
      case "anthropic": {
        const { AnthropicMessagesAdapter } = await import("@meshagent/adapters/anthropic");
        adapters.push(new AnthropicMessagesAdapter(common));
        break;
      }
    }
  }
  return adapters;
}
