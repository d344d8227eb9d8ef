// The REST admin client (protocol-data §6): projects, service accounts and API keys, participant
// tokens, rooms, services, secrets and webhooks. Requests are built from `ADMIN_ROUTES`, the same
// table the room server routes by. Web-standard code only (fetch), so it runs everywhere.
import { readEnv } from "./_env.ts";
import { base64ToBytes, bytesToBase64 } from "./_base64.ts";
import { ADMIN_ROUTES, adminPath, type AdminRoute } from "./admin_routes.ts";
import type { ApiScope } from "./api_scope.ts";
import type { JsonObject } from "./packing.ts";

/** A project (`ProjectInfo`). */
export interface ProjectInfo {
  /** The project id (a UUID). */
  id: string;
  /** The project name. */
  name: string;
  /** Who created it (null when a server key did). */
  owner_user_id: string | null;
  /** The project's key (an opaque string). */
  project_key: string;
  /** When it was created (ISO 8601). */
  created_at: string;
  /** Free-form settings. */
  settings?: JsonObject;
}

/** A service account: the owner of API keys. */
export interface ServiceAccount {
  /** Its id. */
  id: string;
  /** The project it belongs to. */
  project_id: string;
  /** Its name (unique in the project). */
  name: string;
  /** A display name. */
  display_name: string | null;
  /** A description. */
  description: string;
  /** Free-form metadata. */
  metadata: JsonObject;
  /** String annotations. */
  annotations: Record<string, string>;
  /** When it was created. */
  created_at: string;
  /** When it last changed. */
  updated_at: string;
}

/** An API key (its `value`, the `ma-…` key itself, only in the reply that created it). */
export interface ApiKeyInfo {
  /** The key id (the `kid` of the tokens it signs). */
  id: string;
  /** Its name. */
  name: string;
  /** Its description. */
  description: string;
  /** Its project. */
  project_id: string;
  /** The service account that owns it. */
  service_account_id: string;
  /** When it was created. */
  created_at: string;
  /** When it last signed a token a room accepted, or authenticated a request. */
  last_used_at: string | null;
  /** The `ma-…` key: only when just created. */
  value?: string;
}

/** A room of a project. */
export interface RoomInfo {
  /** Its id. */
  id: string;
  /** Its name (the `/rooms/<name>` of its URL). */
  name: string;
  /** Free-form metadata. */
  metadata: JsonObject;
  /** String annotations. */
  annotations: Record<string, string>;
  /** False: connections are refused (423). */
  enabled: boolean;
  /** Its project. */
  project_id: string;
  /** When it was created. */
  created_at: string;
}

/** What {@linkcode Meshagent.connectRoom} returns. */
export interface RoomConnectionInfo {
  /** A participant token for the caller. */
  jwt: string;
  /** The room name. */
  room_name: string;
  /** The project id. */
  project_id: string;
  /** The room's WebSocket URL. */
  room_url: string;
}

/** A secret (its value travels base64-encoded in `value_base64`, only when asked for). */
export interface SecretInfo {
  /** Its id. */
  id: string;
  /** Its project. */
  project_id: string;
  /** Its name. */
  name: string;
  /** Its type (`opaque` by default). */
  type: string;
  /** Whether it is meant for HTTP headers only. */
  http_only: boolean;
  /** Free-form metadata. */
  metadata: JsonObject;
  /** String annotations. */
  annotations: Record<string, string>;
  /** The current version, if it has a value. */
  current_version_id: string | null;
  /** The owning service account. */
  owner_service_account_id: string | null;
  /** The value, base64, when requested with `includeValue`. */
  value_base64?: string;
  /** When it was created. */
  created_at: string;
  /** When it last changed. */
  updated_at: string;
}

/** A version of a secret's value. */
export interface SecretVersion {
  /** Its id. */
  id: string;
  /** The secret. */
  secret_id: string;
  /** Its number, from 1. */
  version: number;
  /** The hex SHA-256 of the value. */
  value_sha256: string;
  /** When it was added. */
  created_at: string;
}

/** A project webhook: which events go to which URL, signed with its secret. */
export interface WebhookInfo {
  /** Its id. */
  id: string;
  /** Its project. */
  project_id: string;
  /** Its name. */
  name: string;
  /** A description. */
  description: string;
  /** Where events are posted. */
  url: string;
  /** The event types it receives (`room.started`, …). */
  events: string[];
  /** Passed through (the spec leaves its meaning open). */
  action: string | null;
  /** Passed through. */
  payload: JsonObject | null;
  /** The signing secret (`Meshagent-Signature`). */
  secret: string;
  /** When it was created. */
  created_at: string;
}

/** The error of a failed admin API request. */
export class MeshagentApiError extends Error {
  /** The HTTP status (0 when the server could not be reached). */
  readonly status: number;
  /** The server's error code (`not_found`, `forbidden`, …), when it said. */
  readonly code?: string;
  /** The reply body (JSON when it was). */
  readonly body: unknown;

  /**
   * Creates the error.
   *
   * @param message What failed and why.
   * @param status The HTTP status.
   * @param body The reply body.
   * @param code The server's error code.
   */
  constructor(message: string, status: number, body: unknown, code?: string) {
    super(message);
    this.name = "MeshagentApiError";
    this.status = status;
    this.body = body;
    if (code !== undefined) this.code = code;
  }
}

/** Options of a {@linkcode Meshagent} client. */
export interface MeshagentOptions {
  /** The server's base URL (default `MESHAGENT_API_URL`, else `https://api.meshagent.com`). */
  baseUrl?: string;
  /** The `ma-…` API key sent as `Authorization: Bearer` (default `MESHAGENT_API_KEY`). */
  apiKey?: string;
  /** Milliseconds a request may take (default 30 000). */
  timeout?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

/** What a generic {@linkcode Meshagent.request} sends. */
export interface AdminRequest {
  /** Path parameters. */
  params?: Readonly<Record<string, string>>;
  /** Query parameters (undefined values are left out). */
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** The JSON body. */
  body?: unknown;
}

/** Where a service lives: a whole project (default) or one room. */
export interface ServiceScope {
  /** The room, for a room service. */
  room?: string;
}

const BY_OPERATION = new Map(ADMIN_ROUTES.map((route) => [route.operation, route]));

function words(operation: string): string {
  return operation.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
}

function text(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}

/**
 * The REST admin client of a MeshAgent server (ours or the hosted one): every endpoint of
 * `ADMIN_ROUTES` through {@linkcode Meshagent.request}, and a typed method for the common ones.
 * A failed request throws a {@linkcode MeshagentApiError} that says what failed, the status and
 * the server's message (e.g. "create project: 403 forbidden: only a server key can create
 * projects").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Meshagent, MeshagentApiError } from "@meshagent/api";
 * // Nothing listens on this port: the error says so.
 * const admin = new Meshagent({ baseUrl: "http://127.0.0.1:9", apiKey: "ma-x", timeout: 2000 });
 * await assert.rejects(admin.listProjects(), (e) => e instanceof MeshagentApiError);
 * ```
 */
export class Meshagent {
  /** The base URL requests go to. */
  readonly baseUrl: string;
  readonly #apiKey?: string;
  readonly #timeout: number;
  readonly #fetch: typeof fetch;

  /**
   * Creates the client (nothing is sent until a method is called).
   *
   * @param options The base URL, API key, timeout and fetch.
   */
  constructor(options: MeshagentOptions = {}) {
    this.baseUrl = (options.baseUrl ?? readEnv("MESHAGENT_API_URL") ?? "https://api.meshagent.com")
      .replace(/\/+$/, "");
    this.#apiKey = options.apiKey ?? readEnv("MESHAGENT_API_KEY");
    this.#timeout = options.timeout ?? 30_000;
    // Called as a plain function: a browser's fetch throws "Illegal invocation" when called as a
    // method of another object (this.#fetch(...)).
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * Calls one endpoint by its operation name (see `ADMIN_ROUTES`).
   *
   * @param operation The operation, e.g. `listRooms`.
   * @param request Path and query parameters and the JSON body.
   * @returns The JSON reply.
   * @throws {MeshagentApiError} When the server answered an error or could not be reached.
   */
  async request<T = unknown>(operation: string, request: AdminRequest = {}): Promise<T> {
    const route = BY_OPERATION.get(operation);
    if (!route) throw new TypeError(`unknown admin operation ${operation}`);
    return await this.#send<T>(route, request);
  }

  async #send<T>(route: AdminRoute, request: AdminRequest): Promise<T> {
    const url = new URL(this.baseUrl + adminPath(route, request.params ?? {}));
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#apiKey && route.auth !== "none") headers.authorization = `Bearer ${this.#apiKey}`;
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers["content-type"] = "application/json";
    }
    const what = words(route.operation).trim();
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: route.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeout),
      });
    } catch (e) {
      throw new MeshagentApiError(
        `${what}: cannot reach ${this.baseUrl} (${e instanceof Error ? e.message : e}); check ` +
          "MESHAGENT_API_URL and that the server runs",
        0,
        undefined,
      );
    }
    const raw = await response.text();
    let json: unknown = undefined;
    try {
      json = raw === "" ? {} : JSON.parse(raw);
    } catch { /* not JSON */ }
    if (!response.ok) {
      const error = (json as { error?: { message?: unknown; code?: unknown } } | undefined)
        ?.error;
      const message = typeof error?.message === "string" ? error.message : raw.slice(0, 500);
      const code = typeof error?.code === "string" ? error.code : undefined;
      throw new MeshagentApiError(
        `${what}: ${response.status} ${message}`,
        response.status,
        json ?? raw,
        code,
      );
    }
    if (json === undefined) {
      throw new MeshagentApiError(`${what}: the reply is not JSON`, response.status, raw);
    }
    return json as T;
  }

  // ------------------------------------------------------------------ projects

  /**
   * Who the API key is.
   *
   * @returns `{id, type, service_account?, …}`.
   */
  whoami(): Promise<JsonObject> {
    return this.request("whoami");
  }

  /**
   * Creates a project (needs a server key).
   *
   * @param name The project name.
   * @param settings Free-form settings.
   * @returns The project.
   */
  createProject(name: string, settings?: JsonObject): Promise<ProjectInfo> {
    return this.request("createProject", { body: { name, ...(settings ? { settings } : {}) } });
  }

  /**
   * Lists the projects the key may see (all with a server key, its own otherwise).
   *
   * @returns The projects.
   */
  async listProjects(): Promise<ProjectInfo[]> {
    return (await this.request<{ projects: ProjectInfo[] }>("listProjects")).projects;
  }

  /**
   * Gets a project.
   *
   * @param projectId The project id.
   * @returns The project.
   */
  getProject(projectId: string): Promise<ProjectInfo> {
    return this.request("getProject", { params: { project_id: projectId } });
  }

  // ------------------------------------------------------------------ service accounts + keys

  /**
   * Lists a project's service accounts.
   *
   * @param projectId The project id.
   * @returns The service accounts.
   */
  async listServiceAccounts(projectId: string): Promise<ServiceAccount[]> {
    return (await this.request<{ service_accounts: ServiceAccount[] }>("listServiceAccounts", {
      params: { project_id: projectId },
    })).service_accounts;
  }

  /**
   * Creates a service account.
   *
   * @param projectId The project id.
   * @param options Its name, description and display name.
   * @returns The service account.
   */
  createServiceAccount(
    projectId: string,
    options: { name: string; description?: string; displayName?: string },
  ): Promise<ServiceAccount> {
    return this.request("createServiceAccount", {
      params: { project_id: projectId },
      body: {
        name: options.name,
        description: options.description ?? "",
        ...(options.displayName !== undefined ? { display_name: options.displayName } : {}),
      },
    });
  }

  /**
   * Deletes a service account and revokes its API keys.
   *
   * @param projectId The project id.
   * @param serviceAccountId The service account id.
   */
  async deleteServiceAccount(projectId: string, serviceAccountId: string): Promise<void> {
    await this.request("deleteServiceAccount", {
      params: { project_id: projectId, service_account_id: serviceAccountId },
    });
  }

  /**
   * Creates an API key. Without a service account, it belongs to the project's `default` one.
   *
   * @param projectId The project id.
   * @param options Its name and description, and the owning service account.
   * @returns The key, with its `value` (the `ma-…` key; shown only here).
   */
  createApiKey(
    projectId: string,
    options: { name: string; description?: string; serviceAccountId?: string },
  ): Promise<ApiKeyInfo> {
    const body = { name: options.name, description: options.description ?? "" };
    if (options.serviceAccountId === undefined) {
      return this.request("createProjectApiKey", { params: { project_id: projectId }, body });
    }
    return this.request("createApiKey", {
      params: { project_id: projectId, service_account_id: options.serviceAccountId },
      body,
    });
  }

  /**
   * Lists API keys (without their values): of one service account, or the whole project.
   *
   * @param projectId The project id.
   * @param options The service account (default: every key of the project).
   * @returns The keys.
   */
  async listApiKeys(
    projectId: string,
    options: { serviceAccountId?: string } = {},
  ): Promise<ApiKeyInfo[]> {
    if (options.serviceAccountId === undefined) {
      return (await this.request<{ tokens: ApiKeyInfo[] }>("listProjectApiKeys", {
        params: { project_id: projectId },
      })).tokens;
    }
    return (await this.request<{ keys: ApiKeyInfo[] }>("listApiKeys", {
      params: { project_id: projectId, service_account_id: options.serviceAccountId },
    })).keys;
  }

  /**
   * Revokes an API key: tokens it signed stop working at once, connections they opened close.
   *
   * @param projectId The project id.
   * @param keyId The key id.
   */
  async deleteApiKey(projectId: string, keyId: string): Promise<void> {
    await this.request("deleteProjectApiKey", {
      params: { project_id: projectId, key_id: keyId },
    });
  }

  /**
   * Mints a participant token, signed by the server with a key of the project.
   *
   * @param projectId The project id.
   * @param options The participant name, the room, the role and the API scope.
   * @returns The JWT.
   */
  async createParticipantToken(
    projectId: string,
    options: { name: string; roomName?: string; role?: string; api?: ApiScope },
  ): Promise<string> {
    const body: JsonObject = { name: options.name };
    if (options.roomName !== undefined) body.room_name = options.roomName;
    if (options.role !== undefined) body.role = options.role;
    if (options.api !== undefined) body.api = options.api.toJson() as JsonObject;
    return (await this.request<{ token: string }>("createParticipantToken", {
      params: { project_id: projectId },
      body,
    })).token;
  }

  // ------------------------------------------------------------------ rooms

  /**
   * Creates a room.
   *
   * @param projectId The project id.
   * @param options The name; `ifNotExists` returns an existing room instead of 409.
   * @returns The room.
   */
  createRoom(
    projectId: string,
    options: {
      name: string;
      ifNotExists?: boolean;
      metadata?: JsonObject;
      annotations?: Record<string, string>;
    },
  ): Promise<RoomInfo> {
    return this.request("createRoom", {
      params: { project_id: projectId },
      body: {
        name: options.name,
        if_not_exists: options.ifNotExists ?? false,
        metadata: options.metadata ?? {},
        annotations: options.annotations ?? {},
      },
    });
  }

  /**
   * Lists a project's rooms (those created here and those created by a first connection).
   *
   * @param projectId The project id.
   * @returns The rooms.
   */
  async listRooms(projectId: string): Promise<RoomInfo[]> {
    return (await this.request<{ rooms: RoomInfo[] }>("listRooms", {
      params: { project_id: projectId },
    })).rooms;
  }

  /**
   * Gets a room by name (or id).
   *
   * @param projectId The project id.
   * @param room The room name or id.
   * @returns The room.
   */
  getRoom(projectId: string, room: string): Promise<RoomInfo> {
    return this.request("getRoom", { params: { project_id: projectId, room } });
  }

  /**
   * Changes a room; `enabled: false` refuses its connections (423).
   *
   * @param projectId The project id.
   * @param room The room name or id.
   * @param changes What to change.
   * @returns The room.
   */
  updateRoom(
    projectId: string,
    room: string,
    changes: { metadata?: JsonObject; annotations?: Record<string, string>; enabled?: boolean },
  ): Promise<RoomInfo> {
    return this.request("updateRoom", { params: { project_id: projectId, room }, body: changes });
  }

  /**
   * Deletes a room (its record; a running session is closed).
   *
   * @param projectId The project id.
   * @param room The room name or id.
   */
  async deleteRoom(projectId: string, room: string): Promise<void> {
    await this.request("deleteRoom", { params: { project_id: projectId, room } });
  }

  /**
   * A token and URL for the caller to join a room.
   *
   * @param projectId The project id.
   * @param room The room name.
   * @returns The JWT and the room URL.
   */
  connectRoom(projectId: string, room: string): Promise<RoomConnectionInfo> {
    return this.request("connectRoom", { params: { project_id: projectId, room }, body: {} });
  }

  // ------------------------------------------------------------------ services

  /**
   * Adds a service (a `ServiceSpec`) to a project, or to one room.
   *
   * @param projectId The project id.
   * @param spec The spec (without `id`).
   * @param scope The room, for a room service.
   * @returns The stored spec, with its `id`.
   */
  createService(
    projectId: string,
    spec: JsonObject,
    scope: ServiceScope = {},
  ): Promise<JsonObject & { id: string }> {
    return scope.room === undefined
      ? this.request("createService", { params: { project_id: projectId }, body: spec })
      : this.request("createRoomService", {
        params: { project_id: projectId, room: scope.room },
        body: spec,
      });
  }

  /**
   * Lists the services of a project, or of one room.
   *
   * @param projectId The project id.
   * @param scope The room, for room services.
   * @returns The specs.
   */
  async listServices(projectId: string, scope: ServiceScope = {}): Promise<JsonObject[]> {
    const reply = scope.room === undefined
      ? await this.request<{ services: JsonObject[] }>("listServices", {
        params: { project_id: projectId },
      })
      : await this.request<{ services: JsonObject[] }>("listRoomServices", {
        params: { project_id: projectId, room: scope.room },
      });
    return reply.services;
  }

  /**
   * Deletes a service.
   *
   * @param projectId The project id.
   * @param serviceId The service id.
   * @param scope The room, for a room service.
   */
  async deleteService(
    projectId: string,
    serviceId: string,
    scope: ServiceScope = {},
  ): Promise<void> {
    if (scope.room === undefined) {
      await this.request("deleteService", {
        params: { project_id: projectId, service_id: serviceId },
      });
    } else {
      await this.request("deleteRoomService", {
        params: { project_id: projectId, room: scope.room, service_id: serviceId },
      });
    }
  }

  // ------------------------------------------------------------------ secrets

  /**
   * Creates a secret owned by the caller, with a first value when given.
   *
   * @param options The project, name, type and value.
   * @returns The secret.
   */
  async createSecret(options: {
    projectId: string;
    name: string;
    type?: string;
    value?: string | Uint8Array;
  }): Promise<SecretInfo> {
    const secret = await this.request<SecretInfo>("createSecret", {
      body: {
        project_id: options.projectId,
        name: options.name,
        type: options.type ?? "opaque",
        http_only: false,
      },
    });
    if (options.value === undefined) return secret;
    const version = await this.addSecretVersion(secret.id, options.value);
    return { ...secret, current_version_id: version.id };
  }

  /**
   * Lists the caller's secrets (without values).
   *
   * @returns The secrets.
   */
  async listSecrets(): Promise<SecretInfo[]> {
    return (await this.request<{ secrets: SecretInfo[] }>("listSecrets")).secrets;
  }

  /**
   * Gets a secret; with `includeValue`, its current value too.
   *
   * @param secretId The secret id.
   * @param options Whether to include the value.
   * @returns The secret (and `value`, decoded, when asked for).
   */
  async getSecret(
    secretId: string,
    options: { includeValue?: boolean } = {},
  ): Promise<SecretInfo & { value?: Uint8Array }> {
    const secret = await this.request<SecretInfo>("getSecret", {
      params: { secret_id: secretId },
      query: options.includeValue ? { include_value: true } : {},
    });
    return typeof secret.value_base64 === "string"
      ? { ...secret, value: base64ToBytes(secret.value_base64) }
      : secret;
  }

  /**
   * Adds a value to a secret (a new version, made current).
   *
   * @param secretId The secret id.
   * @param value The value.
   * @returns The version.
   */
  addSecretVersion(secretId: string, value: string | Uint8Array): Promise<SecretVersion> {
    return this.request("addSecretVersion", {
      params: { secret_id: secretId },
      body: { value_base64: bytesToBase64(text(value)), set_current: true },
    });
  }

  /**
   * Deletes a secret and its versions.
   *
   * @param secretId The secret id.
   */
  async deleteSecret(secretId: string): Promise<void> {
    await this.request("deleteSecret", { params: { secret_id: secretId } });
  }

  // ------------------------------------------------------------------ webhooks

  /**
   * Subscribes a URL to a project's room events. Without a secret the server makes one; every
   * delivery is signed with it.
   *
   * @param projectId The project id.
   * @param options Name, URL, events and an optional secret.
   * @returns The webhook, with its secret.
   */
  createWebhook(projectId: string, options: {
    name: string;
    url: string;
    events: readonly string[];
    description?: string;
    secret?: string;
  }): Promise<WebhookInfo> {
    return this.request("createWebhook", {
      params: { project_id: projectId },
      body: {
        name: options.name,
        description: options.description ?? "",
        url: options.url,
        events: [...options.events],
        action: "",
        payload: null,
        ...(options.secret !== undefined ? { secret: options.secret } : {}),
      },
    });
  }

  /**
   * Lists a project's webhooks.
   *
   * @param projectId The project id.
   * @returns The webhooks.
   */
  async listWebhooks(projectId: string): Promise<WebhookInfo[]> {
    return (await this.request<{ webhooks: WebhookInfo[] }>("listWebhooks", {
      params: { project_id: projectId },
    })).webhooks;
  }

  /**
   * Deletes a webhook.
   *
   * @param projectId The project id.
   * @param webhookId The webhook id.
   */
  async deleteWebhook(projectId: string, webhookId: string): Promise<void> {
    await this.request("deleteWebhook", {
      params: { project_id: projectId, webhook_id: webhookId },
    });
  }
}
