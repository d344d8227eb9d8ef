// Private: the admin API's OpenAPI 3.1 document, built from `ADMIN_ROUTES` (the table the server
// routes by) and the schemas below, so the document cannot drift from what is served.
import { ADMIN_ROUTES, type JsonObject } from "@meshagent/api";

const str = { type: "string" };
const strOrNull = { type: ["string", "null"] };
const bool = { type: "boolean" };
const obj = { type: "object" };
const tags = { type: "object", additionalProperties: { type: "string" } };

function object(
  properties: Record<string, unknown>,
  required: string[] = Object.keys(properties),
): JsonObject {
  return { type: "object", properties, required } as JsonObject;
}

function listOf(key: string, item: string, extra: Record<string, unknown> = {}): JsonObject {
  return object({ [key]: { type: "array", items: ref(item) }, ...extra }, [key]);
}

function ref(name: string): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

const PAGE = { continuation_token: strOrNull };

/** The schemas the routes name, by name. */
const SCHEMAS: Record<string, JsonObject> = {
  Any: {},
  Empty: object({}),
  Error: object({
    error: object({ status: { type: "integer" }, code: str, message: str }),
  }),
  Whoami: object({ id: str, email: strOrNull, type: str, service_account: obj }, ["id", "type"]),
  ProjectCreate: object({ name: str, settings: obj }, ["name"]),
  Project: object({
    id: str,
    name: str,
    owner_user_id: strOrNull,
    project_key: str,
    created_at: str,
    settings: obj,
    enabled: bool,
  }),
  ProjectList: listOf("projects", "Project"),
  Status: object({ enabled: bool }),
  ServiceAccountCreate: object({
    name: str,
    description: str,
    display_name: strOrNull,
    key: str,
    metadata: obj,
    annotations: tags,
  }, ["name"]),
  ServiceAccount: object({
    id: str,
    project_id: str,
    key: str,
    name: str,
    email: strOrNull,
    display_name: strOrNull,
    description: str,
    metadata: obj,
    annotations: tags,
    created_at: str,
    updated_at: str,
  }),
  ServiceAccountList: listOf("service_accounts", "ServiceAccount", PAGE),
  ApiKeyCreate: object({ name: str, description: str }, ["name"]),
  ApiKey: object({
    id: str,
    name: str,
    description: str,
    project_id: str,
    service_account_id: str,
    created_at: str,
    last_used_at: strOrNull,
    value: { type: "string", description: "the ma-… key; only in the reply that created it" },
  }, ["id", "name", "project_id", "service_account_id", "created_at"]),
  ApiKeyList: listOf("keys", "ApiKey"),
  ProjectApiKeyList: listOf("tokens", "ApiKey"),
  ParticipantTokenCreate: object({
    name: str,
    room_name: str,
    role: str,
    api: obj,
    grants: { type: "array", items: obj },
  }, ["name"]),
  Token: object({ token: str }),
  TokenValidate: object({ token: str }),
  RoomCreate: object({
    name: str,
    if_not_exists: bool,
    metadata: obj,
    annotations: tags,
    permissions: obj,
  }, ["name"]),
  RoomUpdate: object({ name: str, metadata: obj, annotations: tags, enabled: bool }, []),
  Room: object({
    id: str,
    name: str,
    metadata: obj,
    annotations: tags,
    enabled: bool,
    project_id: str,
    created_at: str,
  }),
  RoomList: listOf("rooms", "Room", { total: { type: "integer" }, ...PAGE }),
  RoomConnection: object({ jwt: str, room_name: str, project_id: str, room_url: str }),
  ServiceSpec: {
    type: "object",
    description: "a ServiceSpec (protocol-data §5.5): version v1, kind Service, metadata.name, " +
      "ports with meshagent endpoints, and container or external",
    properties: {
      version: { const: "v1" },
      kind: { const: "Service" },
      id: str,
      enabled: bool,
      metadata: object({ name: str }, ["name"]),
      agents: { type: "array", items: obj },
      ports: { type: "array", items: obj },
      files: { type: "array", items: obj },
      container: obj,
      external: object({ url: str }),
    },
    required: ["version", "kind", "metadata"],
  },
  ServiceList: listOf("services", "ServiceSpec"),
  SecretCreate: object({
    project_id: str,
    name: str,
    type: str,
    http_only: bool,
    metadata: obj,
    annotations: tags,
  }, ["project_id", "name"]),
  SecretUpdate: object(
    { name: str, type: str, http_only: bool, metadata: obj, annotations: tags },
    [],
  ),
  Secret: object({
    id: str,
    project_id: str,
    owner_user_id: strOrNull,
    owner_service_account_id: strOrNull,
    created_by_user_id: strOrNull,
    created_by_service_account_id: strOrNull,
    type: str,
    name: str,
    http_only: bool,
    metadata: obj,
    annotations: tags,
    current_version_id: strOrNull,
    value_base64: str,
    created_at: str,
    updated_at: str,
  }, ["id", "project_id", "type", "name", "created_at", "updated_at"]),
  SecretList: listOf("secrets", "Secret", PAGE),
  SecretVersionCreate: object({ value_base64: str, set_current: bool }, ["value_base64"]),
  SecretVersion: object({
    id: str,
    secret_id: str,
    version: { type: "integer" },
    value_sha256: str,
    created_by_user_id: strOrNull,
    created_by_service_account_id: strOrNull,
    created_at: str,
  }),
  SecretVersionList: listOf("versions", "SecretVersion"),
  SecretValue: object({ secret_id: str, version_id: str, value_base64: str }),
  ProjectSecretCreate: object({ name: str, type: str, data_base64: str }),
  ProjectSecret: object({ id: str, name: str, type: str, data_base64: str }, [
    "id",
    "name",
    "type",
  ]),
  ProjectSecretList: listOf("secrets", "ProjectSecret"),
  WebhookCreate: object({
    name: str,
    description: str,
    url: str,
    events: { type: "array", items: str },
    action: strOrNull,
    payload: { type: ["object", "null"] },
    secret: str,
  }, ["name", "url", "events"]),
  Webhook: object({
    id: str,
    project_id: str,
    name: str,
    description: str,
    url: str,
    events: { type: "array", items: str },
    action: strOrNull,
    payload: { type: ["object", "null"] },
    secret: str,
    created_at: str,
  }),
  WebhookList: listOf("webhooks", "Webhook"),
};

const ERRORS: Record<string, string> = {
  "400": "the request is malformed (the message names the field)",
  "401": "no API key, or not a valid one",
  "403": "the API key may not do this (another project's key, or not a server key)",
  "404": "no such resource",
  "409": "it exists already",
};

/**
 * The OpenAPI 3.1 document of the admin API.
 *
 * @param version The server version.
 * @returns The document.
 */
export function openApiDocument(version: string): JsonObject {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ADMIN_ROUTES) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: "path",
        required: true,
        schema: str,
      })),
      ...(route.query ?? []).map((name) => ({ name, in: "query", required: false, schema: str })),
    ];
    const responses: Record<string, unknown> = {
      "200": { description: "OK", content: { "application/json": { schema: ref(route.reply) } } },
    };
    for (const [status, description] of Object.entries(ERRORS)) {
      if (route.auth === "none" && (status === "401" || status === "403")) continue;
      responses[status] = {
        description,
        content: { "application/json": { schema: ref("Error") } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operation,
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses,
      security: route.auth === "none" ? [] : [{ apiKey: [] }],
    };
    if (route.auth === "server") {
      operation.description = "Needs a server key (an API key the server was started with).";
    }
    if (route.body) {
      operation.requestBody = {
        required: route.body !== "Any",
        content: { "application/json": { schema: ref(route.body) } },
      };
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "MeshAgent admin API",
      version,
      description: "Projects, service accounts and API keys, participant tokens, rooms, " +
        "services, secrets and webhooks of a MeshAgent room server. Authenticate with an API " +
        "key: `Authorization: Bearer ma-…`; a key sees only its own project.",
    },
    paths,
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "an `ma-…` API key" },
      },
    },
  } as JsonObject;
}

/** The schema names routes use that the document does not define (for tests). */
export function missingSchemas(): string[] {
  const missing = new Set<string>();
  for (const route of ADMIN_ROUTES) {
    for (const name of [route.body, route.reply]) {
      if (name !== undefined && !(name in SCHEMAS)) missing.add(name);
    }
  }
  return [...missing];
}
