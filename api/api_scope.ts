// ApiScope: the object carried in a participant token's `api` grant (spec §3.3). One table,
// API_GRANTS, names every API surface in wire order with its grant class; a top-level key that is
// absent (or null) means that surface is DENIED, `{}` means the grant with all defaults. How each
// grant reads and writes its own fields is in `_grant_fields.ts`.
import { ApiScopeError } from "./api_scope_error.ts";
import { describe, isRecord } from "./_grant_fields.ts";
import { AdminGrant } from "./admin_grant.ts";
import { AgentsGrant } from "./agents_grant.ts";
import { ContainersGrant } from "./containers_grant.ts";
import { DatasetGrant } from "./dataset_grant.ts";
import { DeveloperGrant } from "./developer_grant.ts";
import { LivekitGrant } from "./livekit_grant.ts";
import { LLMGrant } from "./llm_grant.ts";
import { MemoryGrant } from "./memory_grant.ts";
import { MessagingGrant } from "./messaging_grant.ts";
import { StorageGrant, SyncGrant } from "./path_grant.ts";
import { QueuesGrant } from "./queues_grant.ts";
import { SecretsGrant } from "./secrets_grant.ts";
import { ServicesGrant } from "./services_grant.ts";
import { SqliteGrant } from "./sqlite_grant.ts";
import { TunnelsGrant } from "./tunnels_grant.ts";

/**
 * The API surfaces of an {@linkcode ApiScope} in wire order: per surface its grant class, the
 * other keys it is read under, and the presets that grant it (`agent`: {@linkcode
 * ApiScope.agentDefault} and {@linkcode ApiScope.full}; `full`: only `full`; `null`: neither).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { API_GRANTS, QueuesGrant } from "@meshagent/api";
 *
 * assert.equal(API_GRANTS.queues.grant, QueuesGrant);
 * assert.deepEqual(API_GRANTS.dataset.aliases, ["database", "datasets"]);
 * ```
 */
export const API_GRANTS = {
  livekit: { grant: LivekitGrant, preset: "agent" },
  queues: { grant: QueuesGrant, preset: "agent" },
  messaging: { grant: MessagingGrant, preset: "agent" },
  dataset: { grant: DatasetGrant, preset: "agent", aliases: ["database", "datasets"] },
  sqlite: { grant: SqliteGrant, preset: "agent" },
  memory: { grant: MemoryGrant, preset: "agent" },
  sync: { grant: SyncGrant, preset: "agent" },
  storage: { grant: StorageGrant, preset: "agent" },
  containers: { grant: ContainersGrant, preset: "agent" },
  developer: { grant: DeveloperGrant, preset: "agent" },
  agents: { grant: AgentsGrant, preset: "agent" },
  llm: { grant: LLMGrant, preset: "agent" },
  admin: { grant: AdminGrant, preset: "full" },
  secrets: { grant: SecretsGrant, preset: null },
  tunnels: { grant: TunnelsGrant, preset: "full" },
  services: { grant: ServicesGrant, preset: "agent" },
} as const satisfies Record<string, SurfaceEntry>;

interface SurfaceEntry {
  readonly grant: { new (): object; fromJson(json: unknown, path?: string): object };
  readonly preset: "agent" | "full" | null;
  readonly aliases?: readonly string[];
}

/**
 * A top-level API surface of an {@linkcode ApiScope} (a key of {@linkcode API_GRANTS}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiScope, type ApiSurface } from "@meshagent/api";
 *
 * const surface: ApiSurface = "queues";
 * assert.equal(ApiScope.full().allows(surface), true);
 * ```
 */
export type ApiSurface = keyof typeof API_GRANTS;

/**
 * The grants of an {@linkcode ApiScope} by surface; a surface left out (or null) is denied.
 *
 * @example
 * ```ts
 * import { type ApiScopeGrants, QueuesGrant } from "@meshagent/api";
 * const grants: ApiScopeGrants = { queues: new QueuesGrant({ send: ["jobs"] }) };
 * ```
 */
export type ApiScopeGrants = {
  [S in ApiSurface]?: InstanceType<(typeof API_GRANTS)[S]["grant"]> | null;
};

const SURFACES = Object.keys(API_GRANTS) as ApiSurface[];

/**
 * The room API permissions of a participant: the scope of the token's `api` grant.
 *
 * Each field is a grant object, or `null` when that API surface is denied (its key was absent
 * from the JSON). A token with no `api` grant at all should be denied every room API call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiScope } from "@meshagent/api";
 *
 * const scope = ApiScope.fromJson({ queues: { send: ["jobs"] }, storage: {} });
 * assert.equal(scope.queues?.canSend("jobs"), true);
 * assert.equal(scope.storage?.canWrite("a.txt"), true);
 * assert.equal(scope.messaging, null); // absent = denied
 * assert.deepEqual(scope.toJson(), { queues: { send: ["jobs"] }, storage: {} });
 *
 * assert.deepEqual(Object.keys(ApiScope.agentDefault().toJson()), [
 *   "livekit", "queues", "messaging", "dataset", "sqlite", "memory", "sync", "storage",
 *   "containers", "developer", "agents", "llm", "services",
 * ]);
 * ```
 */
export class ApiScope {
  /** LiveKit media access; null = denied. */
  declare readonly livekit: LivekitGrant | null;
  /** Queues; null = denied. */
  declare readonly queues: QueuesGrant | null;
  /** Messaging; null = denied. */
  declare readonly messaging: MessagingGrant | null;
  /** Datasets; null = denied. */
  declare readonly dataset: DatasetGrant | null;
  /** SQLite databases; null = denied. */
  declare readonly sqlite: SqliteGrant | null;
  /** Memories; null = denied. */
  declare readonly memory: MemoryGrant | null;
  /** Sync documents; null = denied. */
  declare readonly sync: SyncGrant | null;
  /** Room storage; null = denied. */
  declare readonly storage: StorageGrant | null;
  /** Containers; null = denied. */
  declare readonly containers: ContainersGrant | null;
  /** Developer logs; null = denied. */
  declare readonly developer: DeveloperGrant | null;
  /** Toolkits and agents; null = denied. */
  declare readonly agents: AgentsGrant | null;
  /** LLM proxy; null = denied. */
  declare readonly llm: LLMGrant | null;
  /** Admin configuration; null = denied. */
  declare readonly admin: AdminGrant | null;
  /** Room secrets; null = denied. */
  declare readonly secrets: SecretsGrant | null;
  /** Tunnels; null = denied. */
  declare readonly tunnels: TunnelsGrant | null;
  /** Services; null = denied. */
  declare readonly services: ServicesGrant | null;

  /**
   * Creates a scope; surfaces not given are denied.
   *
   * @param options One grant per allowed surface.
   */
  constructor(options: ApiScopeGrants = {}) {
    // `satisfies`: a surface of API_GRANTS without its field above does not compile.
    Object.assign(
      this satisfies Required<ApiScopeGrants>,
      Object.fromEntries(SURFACES.map((surface) => [surface, options[surface] ?? null])),
    );
  }

  static #preset(granted: (surface: ApiSurface) => boolean): ApiScope {
    const grants: Record<string, object> = {};
    for (const surface of SURFACES) {
      if (granted(surface)) grants[surface] = new API_GRANTS[surface].grant();
    }
    return new ApiScope(grants);
  }

  /**
   * The scope both official clients give agents: livekit, queues, messaging, dataset, sqlite,
   * memory, sync, storage, containers, developer, agents, llm and services, all with defaults.
   * No admin, no secrets; tunnels only when asked for (as in the Python SDK).
   *
   * @param options `tunnels`: also grant tunnels (default false).
   * @returns A new scope.
   */
  static agentDefault(options: { tunnels?: boolean } = {}): ApiScope {
    return ApiScope.#preset((surface) =>
      API_GRANTS[surface].preset === "agent" || (surface === "tunnels" && options.tunnels === true)
    );
  }

  /**
   * The scope for human users.
   *
   * Choice: we follow the TS client, whose `userDefault` equals `agentDefault` and so
   * **includes `llm`**. The Python SDK leaves `llm` out; drop it explicitly if you want that.
   *
   * @returns A new scope.
   */
  static userDefault(): ApiScope {
    return ApiScope.agentDefault();
  }

  /**
   * Everything `agentDefault` grants, plus `admin` and `tunnels`. Still no `secrets`, as in both
   * official clients.
   *
   * @returns A new scope.
   */
  static full(): ApiScope {
    return ApiScope.#preset((surface) => API_GRANTS[surface].preset !== null);
  }

  /**
   * Whether API surface `surface` is granted at all.
   *
   * @param surface Top-level key, e.g. `"queues"`.
   * @returns true when the scope has a grant for it.
   */
  allows(surface: ApiSurface): boolean {
    return this[surface] != null;
  }

  /**
   * Serialises the scope: one key per granted surface, in wire order, each with only its
   * non-default fields.
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    const json: Record<string, unknown> = {};
    for (const surface of SURFACES) {
      const grant = this[surface];
      if (grant !== null) json[surface] = grant.toJson();
    }
    return json;
  }

  /**
   * Same as {@linkcode ApiScope.toJson}, so `JSON.stringify(scope)` gives the wire form.
   *
   * @returns The wire JSON object.
   */
  toJSON(): Record<string, unknown> {
    return this.toJson();
  }

  /**
   * Parses an `api` grant scope. Absent or null top-level keys are denied surfaces; `dataset`
   * may also arrive as `database` or `datasets`; unknown top-level keys are ignored.
   *
   * @param json The scope object.
   * @returns The scope.
   * @throws {ApiScopeError} When the scope or one of its grants has the wrong shape.
   */
  static fromJson(json: unknown): ApiScope {
    if (!isRecord(json)) {
      throw new ApiScopeError("api", `expected an object, got ${describe(json)}`);
    }
    const grants: Record<string, object> = {};
    for (const surface of SURFACES) {
      const entry: SurfaceEntry = API_GRANTS[surface];
      const key = [surface, ...entry.aliases ?? []].find((k) => json[k] != null);
      if (key === undefined) continue;
      const value = json[key];
      if (!isRecord(value)) {
        throw new ApiScopeError(
          key,
          `expected an object (use {} for the defaults), got ${describe(value)}`,
        );
      }
      grants[surface] = entry.grant.fromJson(value, key);
    }
    return new ApiScope(grants);
  }
}
