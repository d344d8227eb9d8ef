/**
 * The official TypeScript SDK's names of API-scope grant entries that this package names
 * otherwise (see `official_names.ts` for the rest).
 *
 * @module
 */
import { PathGrant } from "./path_grant.ts";
import { OAuthEndpointGrant } from "./secrets_grant.ts";

/**
 * The official name of a {@linkcode StorageGrant} path entry: {@linkcode PathGrant}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageGrant, StoragePathGrant } from "@meshagent/api";
 * const grant = new StorageGrant({ paths: [new StoragePathGrant({ path: "docs/" })] });
 * assert.equal(grant.paths?.[0].path, "docs/");
 * ```
 */
export const StoragePathGrant: typeof PathGrant = PathGrant;
/** The official name of a storage path entry (the type): {@linkcode PathGrant}. */
export type StoragePathGrant = PathGrant;

/**
 * The official name of a {@linkcode SyncGrant} path entry: {@linkcode PathGrant}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SyncGrant, SyncPathGrant } from "@meshagent/api";
 * const grant = new SyncGrant({ paths: [new SyncPathGrant({ path: "notes/", readOnly: true })] });
 * assert.equal(grant.paths?.[0].readOnly, true);
 * ```
 */
export const SyncPathGrant: typeof PathGrant = PathGrant;
/** The official name of a sync path entry (the type): {@linkcode PathGrant}. */
export type SyncPathGrant = PathGrant;

/**
 * The official name of a {@linkcode SecretsGrant} OAuth endpoint entry:
 * {@linkcode OAuthEndpointGrant}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OAuthEndpoint } from "@meshagent/api";
 * const endpoint = new OAuthEndpoint({ endpoint: "https://idp.example/*", clientId: "app" });
 * assert.equal(endpoint.clientId, "app");
 * ```
 */
export const OAuthEndpoint: typeof OAuthEndpointGrant = OAuthEndpointGrant;
/** The official name of an OAuth endpoint entry (the type): {@linkcode OAuthEndpointGrant}. */
export type OAuthEndpoint = OAuthEndpointGrant;
