import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, names } from "./_grant_fields.ts";
import { matchesPattern } from "./_grant_match.ts";

/**
 * `llm` grant: the LLM proxy (HTTP, not the room socket).
 *
 * JSON: `{ models?: string[] }` with `provider/model` patterns (exact, or prefix with `*`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LLMGrant } from "@meshagent/api";
 *
 * const grant = LLMGrant.fromJson({ models: ["openai/gpt-5*"] });
 * assert.equal(grant.canUseModel("openai", "gpt-5-mini"), true);
 * assert.equal(grant.canUseModel("anthropic", "claude"), false);
 * assert.equal(grant.canUseProvider("openai"), true);
 * ```
 */
export class LLMGrant extends ApiGrant {
  static {
    describeGrant(this, "llm", { models: names("models") });
  }

  /** Allowed `provider/model` patterns; null = any. */
  declare readonly models: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options `models` (null = any).
   */
  constructor(options: GrantOptions<LLMGrant> = {}) {
    super(options);
  }

  /**
   * Whether any model of `provider` may be used.
   *
   * @param provider Provider name, e.g. `openai`.
   * @returns The decision (false for an empty provider).
   */
  canUseProvider(provider: string): boolean {
    const name = provider.trim();
    if (name === "") return false;
    if (this.models === null) return true;
    return this.models.some((pattern) => pattern.trim().startsWith(`${name}/`));
  }

  /**
   * Whether `provider/model` may be used.
   *
   * @param provider Provider name.
   * @param model Model name.
   * @returns The decision (false for an empty provider or model).
   */
  canUseModel(provider: string, model: string): boolean {
    const p = provider.trim();
    const m = model.trim();
    if (p === "" || m === "") return false;
    return matchesPattern(this.models, `${p}/${m}`, true);
  }
}
