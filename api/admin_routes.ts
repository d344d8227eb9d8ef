// The REST admin API (protocol-data §6) as data: one row per endpoint. The room server routes by
// this table and builds its OpenAPI document from it; the `Meshagent` client builds its requests
// from it. Web-standard code only.

/** HTTP methods the admin API uses. */
export type AdminMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Who may call an endpoint:
 * - `none`: anyone (no credentials);
 * - `server`: only a server key (an API key the server was started with);
 * - `caller`: any valid API key (what it sees depends on its project);
 * - `project`: a key of the `{project_id}` in the path, or a server key.
 */
export type AdminAuth = "none" | "server" | "caller" | "project";

/** One endpoint of the admin API. */
export interface AdminRoute {
  /** The operation name (the `Meshagent` client's method name, the OpenAPI `operationId`). */
  readonly operation: string;
  /** The HTTP method. */
  readonly method: AdminMethod;
  /** The path template; `{name}` is a path parameter (`{version_id}:access` is allowed). */
  readonly path: string;
  /** Who may call it. */
  readonly auth: AdminAuth;
  /** The OpenAPI tag (the resource). */
  readonly tag: string;
  /** One line on what it does. */
  readonly summary: string;
  /** The request body's schema name, when it takes one. */
  readonly body?: string;
  /** The reply's schema name. */
  readonly reply: string;
  /** Query parameters it reads. */
  readonly query?: readonly string[];
}

const P = "/accounts/projects/{project_id}";
const PAGE = ["page_size", "continuation_token", "filter"] as const;

function row(
  operation: string,
  method: AdminMethod,
  path: string,
  tag: string,
  summary: string,
  reply: string,
  extra: { body?: string; auth?: AdminAuth; query?: readonly string[] } = {},
): AdminRoute {
  return Object.freeze({
    operation,
    method,
    path,
    tag,
    summary,
    reply,
    auth: extra.auth ?? "project",
    ...(extra.body ? { body: extra.body } : {}),
    ...(extra.query ? { query: extra.query } : {}),
  });
}

/** The nine secret endpoints under one owner (`users/me` or a service account), §6.2 35–52. */
function secretRoutes(prefix: string, op: string, auth: AdminAuth, owner: string): AdminRoute[] {
  const s = `${prefix}/secrets`;
  return [
    row(`create${op}Secret`, "POST", s, "secrets", `create a secret of ${owner}`, "Secret", {
      body: "SecretCreate",
      auth,
    }),
    row(`list${op}Secrets`, "GET", s, "secrets", `list the secrets of ${owner}`, "SecretList", {
      auth,
      query: PAGE,
    }),
    row(`get${op}Secret`, "GET", `${s}/{secret_id}`, "secrets", "get a secret", "Secret", {
      auth,
      query: ["include_value"],
    }),
    row(`update${op}Secret`, "PATCH", `${s}/{secret_id}`, "secrets", "change a secret", "Secret", {
      body: "SecretUpdate",
      auth,
    }),
    row(`delete${op}Secret`, "DELETE", `${s}/{secret_id}`, "secrets", "delete a secret", "Empty", {
      auth,
    }),
    row(
      `list${op}SecretVersions`,
      "GET",
      `${s}/{secret_id}/versions`,
      "secrets",
      "list the versions of a secret",
      "SecretVersionList",
      { auth },
    ),
    row(
      `add${op}SecretVersion`,
      "POST",
      `${s}/{secret_id}/versions`,
      "secrets",
      "add a value (a new version) to a secret",
      "SecretVersion",
      { body: "SecretVersionCreate", auth },
    ),
    row(
      `access${op}SecretVersion`,
      "GET",
      `${s}/{secret_id}/versions/{version_id}:access`,
      "secrets",
      "read the value of a secret version",
      "SecretValue",
      { auth },
    ),
    row(
      `delete${op}SecretVersion`,
      "DELETE",
      `${s}/{secret_id}/versions/{version_id}`,
      "secrets",
      "delete a secret version",
      "Empty",
      { auth },
    ),
  ];
}

/** The six service endpoints under a project or a room (§6.2 23–34). */
function serviceRoutes(prefix: string, op: string, where: string): AdminRoute[] {
  const s = `${prefix}/services`;
  return [
    row(`create${op}`, "POST", s, "services", `add a service to ${where}`, "ServiceSpec", {
      body: "ServiceSpec",
    }),
    row(`list${op}s`, "GET", s, "services", `list the services of ${where}`, "ServiceList"),
    row(
      `get${op}ByName`,
      "GET",
      `${s}/by-name/{name}`,
      "services",
      "get a service by name",
      "ServiceSpec",
    ),
    row(`get${op}`, "GET", `${s}/{service_id}`, "services", "get a service", "ServiceSpec"),
    row(`update${op}`, "PUT", `${s}/{service_id}`, "services", "replace a service", "ServiceSpec", {
      body: "ServiceSpec",
    }),
    row(`delete${op}`, "DELETE", `${s}/{service_id}`, "services", "delete a service", "Empty"),
  ];
}

const SA = `${P}/service-accounts/{service_account_id}`;

/**
 * Every endpoint of the admin API, in matching order (a fixed path before a parameter at the
 * same place). The core endpoints of protocol-data §6.2, the legacy project API keys and project
 * secrets the npm client 0.39.9 calls (§6.4), and `GET /openapi.json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ADMIN_ROUTES } from "@meshagent/api";
 * const route = ADMIN_ROUTES.find((r) => r.operation === "createProject");
 * assert.equal(route?.path, "/accounts/projects");
 * ```
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = Object.freeze([
  row("getOpenApi", "GET", "/openapi.json", "meta", "this API as an OpenAPI 3.1 document", "Any", {
    auth: "none",
  }),
  row("whoami", "GET", "/accounts/whoami", "projects", "who the API key is", "Whoami", {
    auth: "caller",
  }),
  row("createProject", "POST", "/accounts/projects", "projects", "create a project", "Project", {
    body: "ProjectCreate",
    auth: "server",
  }),
  row("listProjects", "GET", "/accounts/projects", "projects", "list projects", "ProjectList", {
    auth: "caller",
  }),
  row("getProject", "GET", P, "projects", "get a project", "Project"),
  row("getProjectStatus", "GET", `${P}/status`, "projects", "is the project enabled", "Status"),

  row(
    "listServiceAccounts",
    "GET",
    `${P}/service-accounts`,
    "service-accounts",
    "list service accounts",
    "ServiceAccountList",
    { query: PAGE },
  ),
  row(
    "createServiceAccount",
    "POST",
    `${P}/service-accounts`,
    "service-accounts",
    "create a service account",
    "ServiceAccount",
    { body: "ServiceAccountCreate" },
  ),
  row(
    "getServiceAccountByName",
    "GET",
    `${P}/service-accounts/by-name/{name}`,
    "service-accounts",
    "get a service account by name",
    "ServiceAccount",
  ),
  row(
    "getServiceAccount",
    "GET",
    SA,
    "service-accounts",
    "get a service account",
    "ServiceAccount",
  ),
  row(
    "updateServiceAccount",
    "PUT",
    SA,
    "service-accounts",
    "change a service account",
    "ServiceAccount",
    { body: "ServiceAccountCreate" },
  ),
  row(
    "deleteServiceAccount",
    "DELETE",
    SA,
    "service-accounts",
    "delete a service account and its API keys",
    "Empty",
  ),

  row("createApiKey", "POST", `${SA}/api-keys`, "api-keys", "create an API key", "ApiKey", {
    body: "ApiKeyCreate",
  }),
  row("listApiKeys", "GET", `${SA}/api-keys`, "api-keys", "list API keys", "ApiKeyList"),
  row(
    "deleteApiKey",
    "DELETE",
    `${SA}/api-keys/{key_id}`,
    "api-keys",
    "revoke an API key (at once)",
    "Empty",
  ),
  row(
    "createProjectApiKey",
    "POST",
    `${P}/api-keys`,
    "api-keys",
    "create an API key of the project's default service account (legacy)",
    "ApiKey",
    { body: "ApiKeyCreate" },
  ),
  row(
    "listProjectApiKeys",
    "GET",
    `${P}/api-keys`,
    "api-keys",
    "list every API key of the project (legacy)",
    "ProjectApiKeyList",
  ),
  row(
    "deleteProjectApiKey",
    "DELETE",
    `${P}/api-keys/{key_id}`,
    "api-keys",
    "revoke an API key of the project (legacy)",
    "Empty",
  ),

  row(
    "createParticipantToken",
    "POST",
    `${P}/participant-tokens`,
    "tokens",
    "mint a participant token",
    "Token",
    { body: "ParticipantTokenCreate" },
  ),
  row(
    "validateParticipantToken",
    "POST",
    "/api/participant-token/validate",
    "tokens",
    "check a participant token and decode it",
    "Any",
    { body: "TokenValidate", auth: "none" },
  ),

  row("createRoom", "POST", `${P}/rooms`, "rooms", "create a room", "Room", { body: "RoomCreate" }),
  row("listRooms", "GET", `${P}/rooms`, "rooms", "list rooms", "RoomList", {
    query: [...PAGE, "limit", "offset"],
  }),
  row("getRoom", "GET", `${P}/rooms/{room}`, "rooms", "get a room (by name or id)", "Room"),
  row("updateRoom", "PUT", `${P}/rooms/{room}`, "rooms", "change a room", "Room", {
    body: "RoomUpdate",
  }),
  row("deleteRoom", "DELETE", `${P}/rooms/{room}`, "rooms", "delete a room", "Empty"),
  row(
    "connectRoom",
    "POST",
    `${P}/rooms/{room}/connect`,
    "rooms",
    "a token and URL to join a room",
    "RoomConnection",
    { body: "Any" },
  ),

  ...serviceRoutes(P, "Service", "the project (every room)"),
  ...serviceRoutes(`${P}/rooms/{room}`, "RoomService", "one room"),

  ...secretRoutes("/accounts/users/me", "", "caller", "the caller"),
  ...secretRoutes(SA, "ServiceAccount", "project", "a service account"),
  row(
    "createProjectSecret",
    "POST",
    `${P}/secrets`,
    "secrets",
    "create a project secret (legacy)",
    "ProjectSecret",
    { body: "ProjectSecretCreate" },
  ),
  row(
    "listProjectSecrets",
    "GET",
    `${P}/secrets`,
    "secrets",
    "list project secrets (legacy)",
    "ProjectSecretList",
  ),
  row(
    "getProjectSecret",
    "GET",
    `${P}/secrets/{secret_id}`,
    "secrets",
    "get a project secret with its value (legacy)",
    "ProjectSecret",
  ),
  row(
    "updateProjectSecret",
    "PUT",
    `${P}/secrets/{secret_id}`,
    "secrets",
    "replace a project secret (legacy)",
    "ProjectSecret",
    { body: "ProjectSecretCreate" },
  ),
  row(
    "deleteProjectSecret",
    "DELETE",
    `${P}/secrets/{secret_id}`,
    "secrets",
    "delete a project secret (legacy)",
    "Empty",
  ),

  row("createWebhook", "POST", `${P}/webhooks`, "webhooks", "subscribe a URL", "Webhook", {
    body: "WebhookCreate",
  }),
  row("listWebhooks", "GET", `${P}/webhooks`, "webhooks", "list webhooks", "WebhookList"),
  row("getWebhook", "GET", `${P}/webhooks/{webhook_id}`, "webhooks", "get a webhook", "Webhook"),
  row(
    "updateWebhook",
    "PUT",
    `${P}/webhooks/{webhook_id}`,
    "webhooks",
    "change a webhook",
    "Webhook",
    {
      body: "WebhookCreate",
    },
  ),
  row(
    "deleteWebhook",
    "DELETE",
    `${P}/webhooks/{webhook_id}`,
    "webhooks",
    "delete a webhook",
    "Empty",
  ),
]);

/** A matched route and its decoded path parameters. */
export interface AdminRouteMatch {
  /** The route. */
  readonly route: AdminRoute;
  /** The path parameters by name. */
  readonly params: Readonly<Record<string, string>>;
}

interface Compiled {
  route: AdminRoute;
  pattern: RegExp;
  names: string[];
}

let compiled: Compiled[] | undefined;

function compile(): Compiled[] {
  compiled ??= ADMIN_ROUTES.map((route) => {
    const names: string[] = [];
    const source = route.path.replace(/\{(\w+)\}|[^{}]+/g, (part, name?: string) => {
      if (name !== undefined) {
        names.push(name);
        return "([^/]+?)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    });
    return { route, pattern: new RegExp(`^${source}$`), names };
  });
  return compiled;
}

/**
 * Finds the route of a request: the first row whose method and path match.
 *
 * @param method The HTTP method.
 * @param pathname The URL path.
 * @returns The route and its parameters; `undefined` when no path matches; the allowed methods
 *   (as `methods`) when the path matches but the method does not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchAdminRoute } from "@meshagent/api";
 * const found = matchAdminRoute("GET", "/accounts/projects/p1/rooms/demo");
 * assert(found && "route" in found);
 * assert.equal(found.route.operation, "getRoom");
 * assert.deepEqual(found.params, { project_id: "p1", room: "demo" });
 * ```
 */
export function matchAdminRoute(
  method: string,
  pathname: string,
): AdminRouteMatch | { methods: AdminMethod[] } | undefined {
  const methods: AdminMethod[] = [];
  for (const { route, pattern, names } of compile()) {
    const m = pattern.exec(pathname);
    if (!m) continue;
    if (route.method !== method) {
      methods.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    try {
      names.forEach((name, i) => params[name] = decodeURIComponent(m[i + 1]));
    } catch {
      continue; // a malformed %-escape: no route
    }
    return { route, params };
  }
  return methods.length > 0 ? { methods } : undefined;
}

/**
 * Fills a route's path template.
 *
 * @param route The route.
 * @param params A value for each `{name}`.
 * @returns The path, each value percent-encoded.
 * @throws {TypeError} When a parameter is missing or empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ADMIN_ROUTES, adminPath } from "@meshagent/api";
 * const route = ADMIN_ROUTES.find((r) => r.operation === "getRoom")!;
 * assert.equal(adminPath(route, { project_id: "p1", room: "my room" }),
 *   "/accounts/projects/p1/rooms/my%20room");
 * ```
 */
export function adminPath(route: AdminRoute, params: Readonly<Record<string, string>>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (typeof value !== "string" || value === "") {
      throw new TypeError(`${route.operation} needs a non-empty ${name}`);
    }
    return encodeURIComponent(value);
  });
}
