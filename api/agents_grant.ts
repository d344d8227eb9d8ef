import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, flag, names } from "./_grant_fields.ts";

/**
 * `agents` grant: registering, listing and calling toolkits and agents.
 *
 * JSON: `{ register_agent?, register_public_toolkit?, register_private_toolkit?, call?,
 * use_agents?, use_tools? (all true), allowed_toolkits?: string[] }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AgentsGrant } from "@meshagent/api";
 *
 * const grant = AgentsGrant.fromJson({ allowed_toolkits: ["search"], registerPublicToolkit: false });
 * assert.equal(grant.canCallToolkit("search"), true);
 * assert.equal(grant.canCallToolkit("shell"), false);
 * assert.equal(grant.canRegisterToolkit(true), false);
 * assert.equal(grant.canRegisterToolkit(false), true);
 * assert.deepEqual(grant.toJson(), {
 *   register_public_toolkit: false,
 *   allowed_toolkits: ["search"],
 * });
 * ```
 */
export class AgentsGrant extends ApiGrant {
  static {
    describeGrant(this, "agents", {
      registerAgent: flag("register_agent", true, ["registerAgent"]),
      registerPublicToolkit: flag("register_public_toolkit", true, ["registerPublicToolkit"]),
      registerPrivateToolkit: flag("register_private_toolkit", true, ["registerPrivateToolkit"]),
      call: flag("call", true),
      useAgents: flag("use_agents", true, ["useAgents"]),
      useTools: flag("use_tools", true, ["useTools"]),
      allowedToolkits: names("allowed_toolkits", ["allowedToolkits"]),
    });
  }

  /** Register an agent (default true). */
  declare readonly registerAgent: boolean;
  /** Register a public toolkit (default true). */
  declare readonly registerPublicToolkit: boolean;
  /** Register a private toolkit (default true). */
  declare readonly registerPrivateToolkit: boolean;
  /** Invoke tools of participant toolkits and `room.call` (default true). */
  declare readonly call: boolean;
  /** Use agents (default true). */
  declare readonly useAgents: boolean;
  /** List toolkits (default true). */
  declare readonly useTools: boolean;
  /** Toolkits that may be called; null = any. */
  declare readonly allowedToolkits: readonly string[] | null;

  /**
   * Creates the grant.
   *
   * @param options Flags (default true) and `allowedToolkits` (null = any).
   */
  constructor(options: GrantOptions<AgentsGrant> = {}) {
    super(options);
  }

  /**
   * Whether tools of participant-hosted toolkit `name` may be invoked: `call` and, when set,
   * `allowed_toolkits` contains `name`.
   *
   * @param name Toolkit name.
   * @returns The decision.
   */
  canCallToolkit(name: string): boolean {
    return this.call && (this.allowedToolkits === null || this.allowedToolkits.includes(name));
  }

  /**
   * Whether a toolkit may be registered.
   *
   * @param isPublic Whether the registration is public.
   * @returns `registerPublicToolkit` or `registerPrivateToolkit`.
   */
  canRegisterToolkit(isPublic: boolean): boolean {
    return isPublic ? this.registerPublicToolkit : this.registerPrivateToolkit;
  }

  /**
   * Whether `room.list_toolkits` is allowed.
   *
   * @returns `useTools`.
   */
  canListToolkits(): boolean {
    return this.useTools;
  }

  /**
   * Whether `room.call` is allowed.
   *
   * @returns `call` and `useAgents`.
   */
  canCallAgents(): boolean {
    return this.call && this.useAgents;
  }
}
