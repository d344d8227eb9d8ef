import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import {
  describeGrant,
  entries,
  flag,
  type GrantTable,
  names,
  nested,
  text,
} from "./_grant_fields.ts";
import { namespaceMatches } from "./_grant_match.ts";

/**
 * One of the permission names of {@linkcode MemoryPermissions}.
 *
 * @example
 * ```ts
 * import type { MemoryPermission } from "@meshagent/api";
 * const permission: MemoryPermission = "recall";
 * ```
 */
export type MemoryPermission =
  | "create"
  | "drop"
  | "inspect"
  | "query"
  | "upsert"
  | "ingest"
  | "recall"
  | "optimize";

const MEMORY_PERMISSIONS: readonly MemoryPermission[] = [
  "create",
  "drop",
  "inspect",
  "query",
  "upsert",
  "ingest",
  "recall",
  "optimize",
];

/**
 * The permissions of one memory entry; all default to true.
 *
 * JSON: `{ create?, drop?, inspect?, query?, upsert?, ingest?, recall?, optimize? }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryPermissions } from "@meshagent/api";
 *
 * const permissions = MemoryPermissions.fromJson({ drop: false });
 * assert.equal(permissions.drop, false);
 * assert.equal(permissions.recall, true);
 * assert.deepEqual(permissions.toJson(), { drop: false });
 * ```
 */
export class MemoryPermissions extends ApiGrant {
  static {
    describeGrant(
      this,
      "memory.memories[].permissions",
      Object.fromEntries(
        MEMORY_PERMISSIONS.map((permission) => [permission, flag(permission, true)]),
      ) as GrantTable<MemoryPermissions>,
    );
  }

  /** Create the memory. */
  declare readonly create: boolean;
  /** Drop the memory. */
  declare readonly drop: boolean;
  /** Inspect the memory. */
  declare readonly inspect: boolean;
  /** Query the memory. */
  declare readonly query: boolean;
  /** Upsert tables, nodes and relationships. */
  declare readonly upsert: boolean;
  /** Ingest text, images, files, tables and storage. */
  declare readonly ingest: boolean;
  /** Recall. */
  declare readonly recall: boolean;
  /** Optimize. */
  declare readonly optimize: boolean;

  /**
   * Creates the permissions.
   *
   * @param options Flags; each defaults to true.
   */
  constructor(options: GrantOptions<MemoryPermissions> = {}) {
    super(options);
  }
}

/**
 * One memory entry of a {@linkcode MemoryGrant}.
 *
 * JSON: `{ name, namespace?: string[], permissions: MemoryPermissions }` (`permissions` is always
 * written, as the official clients do).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryEntryGrant } from "@meshagent/api";
 *
 * const entry = MemoryEntryGrant.fromJson({ name: "facts", permissions: { drop: false } });
 * assert.equal(entry.permissions.drop, false);
 * assert.deepEqual(entry.toJson(), { name: "facts", permissions: { drop: false } });
 * ```
 */
export class MemoryEntryGrant extends ApiGrant {
  static {
    describeGrant(this, "memory.memories[]", {
      name: text("name"),
      namespace: names("namespace"),
      permissions: nested("permissions", MemoryPermissions, true),
    });
  }

  /** Memory name. */
  declare readonly name: string;
  /** Namespace the grant is limited to; null = any. */
  declare readonly namespace: readonly string[] | null;
  /** What may be done with the memory. */
  declare readonly permissions: MemoryPermissions;

  /**
   * Creates the entry.
   *
   * @param options Memory name, optional namespace and permissions (default: all).
   */
  constructor(options: GrantOptions<MemoryEntryGrant, "name">) {
    super(options);
  }

  /**
   * Whether this entry applies to memory `name` in `namespace`.
   *
   * @param name Memory name.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  matches(name: string, namespace?: readonly string[] | null): boolean {
    return this.name === name && namespaceMatches(this.namespace, namespace);
  }
}

/**
 * `memory` grant: the room's memories (knowledge graphs).
 *
 * JSON: `{ list?: boolean (true), memories?: MemoryEntryGrant[] }`; `memories` null = all
 * memories with all permissions, otherwise unnamed memories are denied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryGrant } from "@meshagent/api";
 *
 * const grant = MemoryGrant.fromJson({
 *   memories: [{ name: "facts", permissions: { drop: false } }],
 * });
 * assert.equal(grant.can("facts", "recall"), true);
 * assert.equal(grant.can("facts", "drop"), false);
 * assert.equal(grant.can("other", "recall"), false);
 * assert.equal(new MemoryGrant().can("other", "drop"), true);
 * ```
 */
export class MemoryGrant extends ApiGrant {
  static {
    describeGrant(this, "memory", {
      list: flag("list", true),
      memories: entries("memories", MemoryEntryGrant),
    });
  }

  /** `memory.list` allowed (default true). */
  declare readonly list: boolean;
  /** Memory entries; null = all memories, all permissions. */
  declare readonly memories: readonly MemoryEntryGrant[] | null;

  /**
   * Creates the grant.
   *
   * @param options `list` (default true) and `memories` (null = all).
   */
  constructor(options: GrantOptions<MemoryGrant> = {}) {
    super(options);
  }

  /**
   * Whether `permission` is granted on memory `name`.
   *
   * @param name Memory name.
   * @param permission The permission to check.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  can(name: string, permission: MemoryPermission, namespace?: readonly string[] | null): boolean {
    if (this.memories === null) return true;
    return this.memories.some((entry) =>
      entry.matches(name, namespace) && entry.permissions[permission]
    );
  }

  /**
   * Whether an existing memory may be used in any way other than creating it.
   *
   * @param name Memory name.
   * @param namespace Namespace (absent = root).
   * @returns The decision.
   */
  canAccessExisting(name: string, namespace?: readonly string[] | null): boolean {
    return MEMORY_PERMISSIONS.some((permission) =>
      permission !== "create" && this.can(name, permission, namespace)
    );
  }
}
