import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, entries, text } from "./_grant_fields.ts";
import { matchesPattern } from "./_grant_match.ts";

/**
 * An OAuth endpoint a {@linkcode SecretsGrant} may request tokens for.
 *
 * JSON: `{ endpoint, client_id }` (`clientId` accepted on input). `endpoint` may end with `*`
 * for a prefix match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OAuthEndpointGrant } from "@meshagent/api";
 *
 * const endpoint = OAuthEndpointGrant.fromJson({ endpoint: "https://idp/*", clientId: "app" });
 * assert.deepEqual(endpoint.toJson(), { endpoint: "https://idp/*", client_id: "app" });
 * ```
 */
export class OAuthEndpointGrant extends ApiGrant {
  static {
    describeGrant(this, "secrets.request_oauth_token[]", {
      endpoint: text("endpoint"),
      clientId: text("client_id", ["clientId"]),
    });
  }

  /** Authorization endpoint (or prefix pattern ending in `*`). */
  declare readonly endpoint: string;
  /** OAuth client id. */
  declare readonly clientId: string;

  /**
   * Creates the entry.
   *
   * @param options Endpoint and client id.
   */
  constructor(options: GrantOptions<OAuthEndpointGrant, "endpoint" | "clientId">) {
    super(options);
  }
}

/**
 * `secrets` grant: the room secret routes (HTTP).
 *
 * JSON: `{}`, or `{ request_oauth_token?: [{endpoint, client_id}] }` as the TS client writes it.
 * The Python SDK rejects any field here; we accept the TS field and ignore unknown ones, because
 * a server should not refuse a token minted by either client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SecretsGrant } from "@meshagent/api";
 *
 * const grant = SecretsGrant.fromJson({
 *   request_oauth_token: [{ endpoint: "https://idp/authorize", client_id: "app" }],
 * });
 * assert.equal(grant.canRequestOauthToken("https://idp/authorize", "app"), true);
 * assert.equal(grant.canRequestOauthToken("https://idp/authorize", "other"), false);
 * assert.equal(new SecretsGrant().canRequestOauthToken("https://x", "y"), true);
 * ```
 */
export class SecretsGrant extends ApiGrant {
  static {
    describeGrant(this, "secrets", {
      requestOauthToken: entries("request_oauth_token", OAuthEndpointGrant, {
        aliases: ["requestOauthToken"],
      }),
    });
  }

  /** OAuth endpoints tokens may be requested for; null = any. */
  declare readonly requestOauthToken: readonly OAuthEndpointGrant[] | null;

  /**
   * Creates the grant.
   *
   * @param options `requestOauthToken` (null = any).
   */
  constructor(options: GrantOptions<SecretsGrant> = {}) {
    super(options);
  }

  /**
   * Whether an OAuth token may be requested from `authorizationEndpoint` for `clientId`.
   *
   * @param authorizationEndpoint The authorization endpoint URL.
   * @param clientId The OAuth client id.
   * @returns The decision.
   */
  canRequestOauthToken(authorizationEndpoint: string, clientId: string): boolean {
    if (this.requestOauthToken === null) return true;
    const endpoint = authorizationEndpoint.trim();
    const client = clientId.trim();
    if (endpoint === "" || client === "") return false;
    return this.requestOauthToken.some((grant) =>
      grant.clientId === client && matchesPattern([grant.endpoint], endpoint, false)
    );
  }
}
