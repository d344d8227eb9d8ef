// The REST admin API of the room server (protocol-data §6): routed by `ADMIN_ROUTES`, one handler
// per operation, records in the `AdminStore`. Also what the room server asks of the admin side:
// which API keys are trusted, which project a room belongs to, its services and webhooks.
import {
  ADMIN_ROUTES,
  type AdminRoute,
  type ApiKey,
  ApiScope,
  formatApiKey,
  generateApiKey,
  type JsonObject,
  matchAdminRoute,
  parseApiKey,
  ParticipantGrant,
  ParticipantToken,
  TokenError,
  WEBHOOK_EVENT_TYPES,
} from "@meshagent/api";
import { AdminConflictError, type AdminKind, type AdminRecord, AdminStore } from "./admin_store.ts";
import { AdminApiError, Body, errorResponse, fail, readJson } from "./_admin_input.ts";
import { openApiDocument } from "./_openapi.ts";
import { isValidRoomName } from "./room_name.ts";

/** Options of an {@linkcode AdminApi}. */
export interface AdminApiOptions {
  /** The server's data folder (the records live in `<dataDir>/admin.sqlite`). */
  dataDir: string;
  /** The server keys: trusted for every project, and the only ones that may create projects. */
  serverKeys: readonly ApiKey[];
  /** The room's WebSocket URL as a client of this request should use it. */
  roomUrl: (request: Request, room: string) => string;
  /** The server version (in the OpenAPI document). */
  version: string;
  /** The names of the rooms running now (a listed room says whether it is `active`). */
  liveRooms?: () => Iterable<string>;
  /** How many participants a running room has now (a listed room says `participant_count`). */
  participantCount?: (room: string) => number | undefined;
  /** Called once an API key was revoked (its connections should close). */
  onKeyRevoked?: (keyId: string) => void;
  /** Called once a room was disabled or deleted (its session should end). */
  onRoomClosed?: (room: string, reason: string) => void;
}

/** Who made a request. */
export interface AdminPrincipal {
  /** The API key. */
  readonly key: ApiKey;
  /** True for a server key. */
  readonly server: boolean;
  /** The service account of a key made through the API (none for a server key). */
  readonly serviceAccountId?: string;
}

/** Whether a room connection may go ahead, by the room's record. */
export type RoomAdmission =
  | { ok: true }
  | { ok: false; status: number; text: string };

interface Context {
  readonly request: Request;
  readonly route: AdminRoute;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly principal: AdminPrincipal | undefined;
  readonly body: () => Promise<Body>;
}

type Handler = (context: Context) => JsonObject | Promise<JsonObject>;

/** The event types a project webhook may subscribe to. */
const WEBHOOK_EVENTS: ReadonlySet<string> = new Set(
  WEBHOOK_EVENT_TYPES.filter((t) => t !== "room.call"),
);

/** Top-level keys of a `ServiceSpec` (strict: protocol-data §5.5). */
const SERVICE_KEYS = new Set([
  "version",
  "kind",
  "id",
  "enabled",
  "metadata",
  "agents",
  "ports",
  "files",
  "container",
  "external",
]);

const DEFAULT_SERVICE_ACCOUNT = "default";

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes))));
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Constant-time comparison of two strings. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** How each kind of record is shown (the JSON the API returns). */
const RENDER: Readonly<Record<AdminKind, (r: AdminRecord) => JsonObject>> = {
  project: (r) => ({
    id: r.id,
    name: r.name ?? "",
    owner_user_id: null,
    project_key: String(r.doc.project_key ?? r.id),
    created_at: r.createdAt,
    settings: isObject(r.doc.settings) ? r.doc.settings : {},
    enabled: r.doc.enabled !== false,
  }),
  service_account: (r) => ({
    id: r.id,
    project_id: r.projectId,
    key: String(r.doc.key ?? r.name),
    name: r.name ?? "",
    email: null,
    display_name: (r.doc.display_name as string | null | undefined) ?? null,
    description: String(r.doc.description ?? ""),
    metadata: isObject(r.doc.metadata) ? r.doc.metadata : {},
    annotations: isObject(r.doc.annotations) ? r.doc.annotations : {},
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
  api_key: (r) => ({
    id: r.id,
    name: r.name ?? "",
    description: String(r.doc.description ?? ""),
    project_id: r.projectId,
    service_account_id: r.parentId ?? "",
    created_at: r.createdAt,
    last_used_at: (r.doc.last_used_at as string | undefined) ?? null,
  }),
  room: (r) => ({
    id: r.id,
    name: r.name ?? "",
    metadata: isObject(r.doc.metadata) ? r.doc.metadata : {},
    annotations: isObject(r.doc.annotations) ? r.doc.annotations : {},
    enabled: r.doc.enabled !== false,
    project_id: r.projectId,
    created_at: r.createdAt,
  }),
  // The spec exactly as stored, with its id (strict: no other keys).
  service: (r) => ({ ...r.doc, id: r.id }),
  secret: (r) => ({
    id: r.id,
    project_id: r.projectId,
    owner_user_id: null,
    owner_service_account_id: (r.doc.owner_service_account_id as string | undefined) ?? null,
    created_by_user_id: null,
    created_by_service_account_id: (r.doc.created_by as string | undefined) ?? null,
    type: String(r.doc.type ?? "opaque"),
    name: r.name ?? "",
    http_only: r.doc.http_only === true,
    metadata: isObject(r.doc.metadata) ? r.doc.metadata : {},
    annotations: isObject(r.doc.annotations) ? r.doc.annotations : {},
    current_version_id: (r.doc.current_version_id as string | undefined) ?? null,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
  secret_version: (r) => ({
    id: r.id,
    secret_id: r.parentId ?? "",
    version: Number(r.doc.version),
    value_sha256: String(r.doc.value_sha256),
    created_by_user_id: null,
    created_by_service_account_id: (r.doc.created_by as string | undefined) ?? null,
    created_at: r.createdAt,
  }),
  webhook: (r) => ({
    id: r.id,
    project_id: r.projectId,
    name: r.name ?? "",
    description: String(r.doc.description ?? ""),
    url: String(r.doc.url),
    events: Array.isArray(r.doc.events) ? r.doc.events : [],
    action: (r.doc.action as string | null | undefined) ?? null,
    payload: isObject(r.doc.payload) ? r.doc.payload : null,
    secret: String(r.doc.secret),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  }),
};

/**
 * The admin side of a room server: the REST admin API (projects, service accounts and API keys,
 * participant tokens, rooms, services, secrets, webhooks; protocol-data §6.2, plus the legacy
 * project API keys and secrets of the npm client 0.39.9) and an OpenAPI document at
 * `/openapi.json`, over an {@linkcode AdminStore}.
 *
 * Requests authenticate with an API key (`Authorization: Bearer ma-…`). A server key (one the
 * server was started with) may do everything, including creating projects; a key made through
 * the API belongs to one project and sees only that project: another project's path gets 403.
 * Errors are JSON `{"error": {"status", "code", "message"}}`.
 *
 * The room server asks it which keys it trusts ({@linkcode AdminApi.key}: a key created here
 * works for room connections at once, a deleted one stops at once), which project owns a room
 * ({@linkcode AdminApi.admitRoom}), and a room's services and webhooks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateApiKey } from "@meshagent/api";
 * import { AdminApi } from "@meshagent/server";
 * const dataDir = await Deno.makeTempDir();
 * const key = generateApiKey();
 * const admin = new AdminApi({
 *   dataDir,
 *   serverKeys: [key],
 *   roomUrl: (_request, room) => `ws://127.0.0.1/rooms/${room}`,
 *   version: "0.1.0",
 * });
 * const response = await admin.handle(new Request("http://127.0.0.1/accounts/projects", {
 *   headers: { authorization: `Bearer ${key.key}` },
 * }));
 * const { projects } = await response.json();
 * assert.equal(projects[0].id, key.projectId);
 * admin.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class AdminApi {
  /** The records. */
  readonly store: AdminStore;
  readonly #options: AdminApiOptions;
  readonly #serverKeys: Map<string, ApiKey>;
  readonly #handlers: Record<string, Handler>;
  /** When each key's `last_used_at` was last written (ms), to write it at most once a minute. */
  readonly #touched = new Map<string, number>();

  /**
   * Opens the records in the data folder and makes sure every server key's project exists.
   *
   * @param options The data folder, server keys, room URLs and the server's callbacks.
   * @throws {Error} When a route has no handler (a programming error).
   */
  constructor(options: AdminApiOptions) {
    this.#options = options;
    this.store = AdminStore.open(options.dataDir);
    this.#serverKeys = new Map(options.serverKeys.map((key) => [key.id, key]));
    for (const key of options.serverKeys) {
      if (!this.store.get("project", key.projectId)) {
        this.store.insert("project", {
          id: key.projectId,
          projectId: key.projectId,
          name: "default",
          doc: { project_key: crypto.randomUUID(), settings: {} },
        });
      }
    }
    this.#adoptRooms(options.dataDir, options.serverKeys[0]?.projectId);
    this.#handlers = this.#makeHandlers();
    for (const route of ADMIN_ROUTES) {
      if (!this.#handlers[route.operation]) {
        throw new Error(`admin API: no handler for ${route.operation}`);
      }
    }
  }

  /**
   * Rooms with data from before the records existed (a folder under `<dataDir>/rooms/`) get a
   * record of the first server key's project. [impl]
   */
  #adoptRooms(dataDir: string, projectId: string | undefined): void {
    if (projectId === undefined) return;
    let entries: Iterable<Deno.DirEntry>;
    try {
      entries = Deno.readDirSync(`${dataDir}/rooms`);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory || !isValidRoomName(entry.name)) continue;
      if (this.store.byUnique("room", entry.name)) continue;
      this.store.insert("room", {
        projectId,
        name: entry.name,
        unique: entry.name,
        doc: { metadata: {}, annotations: {}, enabled: true },
      });
    }
  }

  /**
   * Whether a path belongs to the admin API.
   *
   * @param pathname The URL path.
   * @returns True for `/accounts/…`, `/api/…` and `/openapi.json`.
   */
  handles(pathname: string): boolean {
    return pathname.startsWith("/accounts/") || pathname.startsWith("/api/") ||
      pathname === "/openapi.json";
  }

  /**
   * Answers one admin API request.
   *
   * @param request The request.
   * @returns The JSON response (errors included).
   */
  async handle(request: Request): Promise<Response> {
    try {
      return Response.json(await this.#dispatch(request));
    } catch (e) {
      if (e instanceof AdminApiError) {
        const headers: Record<string, string> = e.status === 401
          ? { "www-authenticate": 'Bearer realm="meshagent"' }
          : {};
        return errorResponse(e, headers);
      }
      console.error("admin API: a request failed:", e);
      return errorResponse(
        new AdminApiError(500, "internal", `internal error: ${e instanceof Error ? e.message : e}`),
      );
    }
  }

  async #dispatch(request: Request): Promise<JsonObject> {
    const url = new URL(request.url);
    const found = matchAdminRoute(request.method, url.pathname);
    if (!found) throw fail.notFound(`not found: no admin API endpoint ${url.pathname}`);
    if (!("route" in found)) {
      throw new AdminApiError(
        405,
        "method_not_allowed",
        `${request.method} is not allowed on ${url.pathname}; use ${found.methods.join(" or ")}`,
      );
    }
    const { route, params } = found;
    const principal = route.auth === "none" ? undefined : this.#authenticate(request);
    if (principal) this.#authorize(route, params, principal);
    let body: Promise<Body> | undefined;
    return await this.#handlers[route.operation]({
      request,
      route,
      params,
      query: url.searchParams,
      principal,
      body: () => body ??= readJson(request).then((json) => new Body(json, route.operation)),
    });
  }

  #authenticate(request: Request): AdminPrincipal {
    const header = request.headers.get("authorization") ?? "";
    const match = /^bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw fail.unauthorized(
        "missing API key: send Authorization: Bearer ma-… (create one with " +
          "`meshagent api-key create`, or use the key the server printed at start)",
      );
    }
    let given: ApiKey;
    try {
      given = parseApiKey(match[1]);
    } catch (e) {
      throw fail.unauthorized(`invalid API key: ${e instanceof Error ? e.message : e}`);
    }
    const server = this.#serverKeys.get(given.id);
    if (server) {
      if (!sameSecret(server.secret, given.secret) || server.projectId !== given.projectId) {
        throw fail.unauthorized("invalid API key: the secret does not match");
      }
      return { key: server, server: true };
    }
    const record = this.store.get("api_key", given.id);
    if (
      !record || record.projectId !== given.projectId ||
      !sameSecret(String(record.doc.secret), given.secret)
    ) {
      throw fail.unauthorized(
        `unknown or revoked API key ${given.id}: create a new one with \`meshagent api-key create\``,
      );
    }
    this.touch(given.id);
    return { key: given, server: false, serviceAccountId: record.parentId ?? undefined };
  }

  #authorize(route: AdminRoute, params: Readonly<Record<string, string>>, who: AdminPrincipal) {
    if (route.auth === "server" && !who.server) {
      throw fail.forbidden(
        "only a server key (an API key the server was started with) can do this; this key " +
          `belongs to project ${who.key.projectId}`,
      );
    }
    if (route.auth === "project") {
      const project = params.project_id;
      if (!who.server && project !== who.key.projectId) {
        throw fail.forbidden(
          `this API key belongs to project ${who.key.projectId} and cannot access project ` +
            project,
        );
      }
      if (!this.store.get("project", project)) {
        throw fail.notFound(`no project ${project}`);
      }
    }
  }

  // ------------------------------------------------------------------ what the room server asks

  /**
   * The trusted key with this id: a server key, or one made through the API (read from the
   * records each time, so a new key works and a revoked one fails at once).
   *
   * @param keyId The key id (a token's `kid`).
   * @returns The key, or undefined.
   */
  key(keyId: string): ApiKey | undefined {
    const server = this.#serverKeys.get(keyId);
    if (server) return server;
    const record = this.store.get("api_key", keyId);
    if (!record) return undefined;
    return { id: record.id, projectId: record.projectId, secret: String(record.doc.secret) };
  }

  /**
   * The key that verifies tokens without a `kid` (signed with `MESHAGENT_SECRET`): the server
   * key when there is exactly one.
   *
   * @returns The key, or undefined.
   */
  soleKey(): ApiKey | undefined {
    return this.#serverKeys.size === 1 ? this.#serverKeys.values().next().value : undefined;
  }

  /**
   * Notes that a key was used (`last_used_at`, written at most once a minute).
   *
   * @param keyId The key id.
   */
  touch(keyId: string): void {
    if (this.#serverKeys.has(keyId)) return;
    const now = Date.now();
    if (now - (this.#touched.get(keyId) ?? 0) < 60_000) return;
    this.#touched.set(keyId, now);
    const record = this.store.get("api_key", keyId);
    if (record) {
      this.store.update(record, { ...record.doc, last_used_at: new Date(now).toISOString() });
    }
  }

  /**
   * A key to sign tokens of a project with: the preferred one if it belongs to the project,
   * else a server key of it, else its newest key.
   *
   * @param projectId The project.
   * @param preferredKeyId The key to use when it can.
   * @returns The key, or undefined when the project has none.
   */
  signingKey(projectId: string, preferredKeyId?: string): ApiKey | undefined {
    if (preferredKeyId !== undefined) {
      const preferred = this.key(preferredKeyId);
      if (preferred?.projectId === projectId) return preferred;
    }
    for (const key of this.#serverKeys.values()) if (key.projectId === projectId) return key;
    const keys = this.store.list("api_key", projectId);
    const newest = keys[keys.length - 1];
    return newest && this.key(newest.id);
  }

  /**
   * Checks a connection to a room against the room's record: a room is owned by one project
   * (the one that created it, here or by its first connection); another project's token gets
   * 403, a disabled room 423. A room without a record is recorded for the connecting project.
   *
   * [impl] Room names are one namespace per server: two projects cannot both have `demo`.
   *
   * @param room The room name.
   * @param projectId The project of the connecting token's key.
   * @returns Whether it may go ahead, or the status and text to refuse with.
   */
  admitRoom(room: string, projectId: string): RoomAdmission {
    let record = this.store.byUnique("room", room);
    if (!record) {
      try {
        record = this.store.insert("room", {
          projectId,
          name: room,
          unique: room,
          doc: { metadata: {}, annotations: {}, enabled: true },
        });
      } catch (e) {
        if (!(e instanceof AdminConflictError)) throw e;
        record = this.store.byUnique("room", room)!; // made by a concurrent connection
      }
    }
    if (record.projectId !== projectId) {
      return { ok: false, status: 403, text: `forbidden: room ${room} belongs to another project` };
    }
    if (record.doc.enabled === false) {
      return { ok: false, status: 423, text: `room ${room} is disabled` };
    }
    return { ok: true };
  }

  /**
   * The project that owns a room.
   *
   * @param room The room name.
   * @returns The project id, or undefined for a room never seen.
   */
  roomProject(room: string): string | undefined {
    return this.store.byUnique("room", room)?.projectId;
  }

  /**
   * The services of a room: the project's and the room's own, as stored specs with their ids.
   *
   * @param projectId The room's project.
   * @param room The room name.
   * @returns The specs.
   */
  roomServices(projectId: string, room: string): JsonObject[] {
    const roomRecord = this.store.byUnique("room", room);
    return this.store.list("service", projectId)
      .filter((r) => r.parentId === null || (roomRecord && r.parentId === roomRecord.id))
      .map(RENDER.service);
  }

  /**
   * The project webhooks subscribed to an event.
   *
   * @param projectId The project.
   * @param event The event type.
   * @returns Their URLs and secrets.
   */
  webhooksFor(projectId: string, event: string): { url: string; secret: string }[] {
    return this.store.list("webhook", projectId)
      .filter((r) => Array.isArray(r.doc.events) && r.doc.events.includes(event))
      .map((r) => ({ url: String(r.doc.url), secret: String(r.doc.secret) }));
  }

  /** Closes the records. */
  close(): void {
    this.store.close();
  }

  // ------------------------------------------------------------------ handlers

  #project(context: Context): AdminRecord {
    return this.store.get("project", context.params.project_id)!; // checked by #authorize
  }

  #owned(kind: AdminKind, id: string, projectId: string, what: string): AdminRecord {
    const record = this.store.get(kind, id);
    if (!record || record.projectId !== projectId) {
      throw fail.notFound(`no ${what} ${id} in project ${projectId}`);
    }
    return record;
  }

  #serviceAccount(context: Context): AdminRecord {
    const p = context.params.project_id;
    return this.#owned("service_account", context.params.service_account_id, p, "service account");
  }

  #room(context: Context): AdminRecord {
    const p = context.params.project_id;
    const name = context.params.room;
    const record = this.store.byUnique("room", name) ?? this.store.get("room", name);
    if (!record || record.projectId !== p) throw fail.notFound(`no room ${name} in project ${p}`);
    return record;
  }

  #defaultServiceAccount(projectId: string): AdminRecord {
    const unique = `${projectId}/${DEFAULT_SERVICE_ACCOUNT}`;
    return this.store.byUnique("service_account", unique) ??
      this.store.insert("service_account", {
        projectId,
        name: DEFAULT_SERVICE_ACCOUNT,
        unique,
        doc: {
          key: DEFAULT_SERVICE_ACCOUNT,
          description: "API keys made without a service account",
        },
      });
  }

  #createKey(projectId: string, serviceAccount: AdminRecord, body: Body): JsonObject {
    const generated = generateApiKey(projectId);
    const record = this.store.insert("api_key", {
      id: generated.id,
      projectId,
      parentId: serviceAccount.id,
      name: body.string("name"),
      doc: { description: body.optionalString("description", ""), secret: generated.secret },
    });
    return { ...RENDER.api_key(record), value: formatApiKey(generated) };
  }

  #deleteKey(projectId: string, keyId: string, serviceAccountId?: string): JsonObject {
    const record = this.store.get("api_key", keyId);
    if (
      !record || record.projectId !== projectId ||
      (serviceAccountId !== undefined && record.parentId !== serviceAccountId)
    ) {
      throw fail.notFound(`no API key ${keyId} in project ${projectId}`);
    }
    this.store.delete("api_key", keyId);
    this.#touched.delete(keyId);
    this.#options.onKeyRevoked?.(keyId);
    return {};
  }

  /** The secrets' owner for `users/me`: the key's service account (a server key: itself). */
  #me(context: Context): string {
    const who = context.principal!;
    return who.serviceAccountId ?? `server-key:${who.key.id}`;
  }

  /** The owner id and the project of a secrets route. */
  #secretOwner(context: Context): { owner: string; projectId?: string } {
    if (context.params.service_account_id !== undefined) {
      const account = this.#serviceAccount(context);
      return { owner: account.id, projectId: account.projectId };
    }
    return { owner: this.#me(context) };
  }

  #secret(context: Context): AdminRecord {
    const { owner } = this.#secretOwner(context);
    const record = this.store.get("secret", context.params.secret_id);
    if (!record || record.parentId !== owner) {
      throw fail.notFound(`no secret ${context.params.secret_id}`);
    }
    return record;
  }

  async #addVersion(secret: AdminRecord, value: Uint8Array, by: string, current: boolean) {
    const versions = this.store.children("secret_version", secret.id);
    const number = versions.reduce((max, v) => Math.max(max, Number(v.doc.version)), 0) + 1;
    const version = this.store.insert("secret_version", {
      projectId: secret.projectId,
      parentId: secret.id,
      doc: {
        version: number,
        value: base64(value),
        value_sha256: await sha256Hex(value),
        created_by: by,
      },
    });
    if (current) this.store.update(secret, { ...secret.doc, current_version_id: version.id });
    return version;
  }

  #currentValue(secret: AdminRecord): string | undefined {
    const id = secret.doc.current_version_id;
    if (typeof id !== "string") return undefined;
    const value = this.store.get("secret_version", id)?.doc.value;
    return typeof value === "string" ? value : undefined;
  }

  #deleteSecret(secret: AdminRecord): void {
    this.store.transaction(() => {
      for (const v of this.store.children("secret_version", secret.id)) {
        this.store.delete("secret_version", v.id);
      }
      this.store.delete("secret", secret.id);
    });
  }

  #serviceSpec(body: Body, context: Context): JsonObject {
    const spec = body.json;
    if ("template" in spec) {
      throw fail.badRequest(
        "service templates ({template, values}) are not supported by this server: send a " +
          "rendered ServiceSpec",
      );
    }
    for (const key of Object.keys(spec)) {
      if (!SERVICE_KEYS.has(key)) {
        throw fail.badRequest(`${context.route.operation}: unknown ServiceSpec field ${key}`);
      }
    }
    if (spec.version !== "v1") throw fail.badRequest('a ServiceSpec needs version: "v1"');
    if (spec.kind !== "Service") throw fail.badRequest('a ServiceSpec needs kind: "Service"');
    const metadata = body.object("metadata");
    if (!metadata || typeof metadata.name !== "string" || metadata.name === "") {
      throw fail.badRequest("a ServiceSpec needs metadata.name");
    }
    if (("container" in spec) === ("external" in spec)) {
      throw fail.badRequest("a ServiceSpec needs exactly one of container and external");
    }
    if ("external" in spec) {
      const external = new Body(spec.external, "external");
      external.url("url");
    }
    if (spec.ports !== undefined && !Array.isArray(spec.ports)) {
      throw fail.badRequest("ServiceSpec ports must be an array");
    }
    const { id: _id, ...rest } = spec;
    return rest;
  }

  #serviceParent(context: Context): string | null {
    return context.params.room === undefined ? null : this.#room(context).id;
  }

  #service(context: Context): AdminRecord {
    const p = context.params.project_id;
    const record = this.#owned("service", context.params.service_id, p, "service");
    if (record.parentId !== this.#serviceParent(context)) {
      throw fail.notFound(`no service ${context.params.service_id} here`);
    }
    return record;
  }

  #serviceUnique(projectId: string, parent: string | null, name: string): string {
    return `${projectId}/${parent ?? ""}/${name}`;
  }

  #webhook(body: Body, existing?: AdminRecord): { name: string; doc: JsonObject } {
    const events = body.strings("events");
    for (const event of events) {
      if (!WEBHOOK_EVENTS.has(event)) {
        throw fail.badRequest(
          `unknown webhook event ${event}; a project webhook may receive ${
            [...WEBHOOK_EVENTS].join(", ")
          }`,
        );
      }
    }
    const secret = body.optionalString("secret") ??
      (String(existing?.doc.secret ?? "") || hex(crypto.getRandomValues(new Uint8Array(32))));
    return {
      name: body.string("name"),
      doc: {
        description: body.optionalString("description", ""),
        url: body.url("url"),
        events,
        action: body.optionalString("action") ?? null,
        payload: body.object("payload") ?? null,
        secret,
      },
    };
  }

  #page<T>(items: T[], query: URLSearchParams): { items: T[]; next: string | null } {
    const size = Number(query.get("page_size") ?? query.get("limit") ?? "100");
    const start = Number(query.get("continuation_token") ?? query.get("offset") ?? "0");
    if (!Number.isInteger(size) || size < 1 || !Number.isInteger(start) || start < 0) {
      throw fail.badRequest(
        "page_size must be a positive integer and continuation_token one " +
          "this API returned",
      );
    }
    const end = start + Math.min(size, 1000);
    return { items: items.slice(start, end), next: end < items.length ? String(end) : null };
  }

  #makeHandlers(): Record<string, Handler> {
    const store = this.store;
    const list = (kind: AdminKind, projectId: string) =>
      store.list(kind, projectId).map(RENDER[kind]);
    const secretHandlers = (prefix: "" | "ServiceAccount"): Record<string, Handler> => ({
      [`create${prefix}Secret`]: async (c) => {
        const body = await c.body();
        const { owner, projectId: ownerProject } = this.#secretOwner(c);
        const projectId = ownerProject ?? body.string("project_id");
        if (!c.principal!.server && projectId !== c.principal!.key.projectId) {
          throw fail.forbidden(
            `this API key belongs to project ${c.principal!.key.projectId} and cannot make ` +
              `secrets in project ${projectId}`,
          );
        }
        if (!store.get("project", projectId)) throw fail.notFound(`no project ${projectId}`);
        const record = store.insert("secret", {
          projectId,
          parentId: owner,
          name: body.string("name"),
          doc: {
            type: body.optionalString("type", "opaque"),
            http_only: body.boolean("http_only", false),
            metadata: body.object("metadata") ?? {},
            annotations: body.annotations("annotations") ?? {},
            owner_service_account_id: owner.startsWith("server-key:") ? null : owner,
            created_by: this.#me(c),
          },
        });
        return RENDER.secret(record);
      },
      [`list${prefix}Secrets`]: (c) => {
        const { owner } = this.#secretOwner(c);
        const page = this.#page(store.children("secret", owner).map(RENDER.secret), c.query);
        return { secrets: page.items, continuation_token: page.next };
      },
      [`get${prefix}Secret`]: (c) => {
        const secret = this.#secret(c);
        const json = RENDER.secret(secret);
        if (c.query.get("include_value") === "true") {
          const value = this.#currentValue(secret);
          if (value !== undefined) json.value_base64 = value;
        }
        return json;
      },
      [`update${prefix}Secret`]: async (c) => {
        const secret = this.#secret(c);
        const body = await c.body();
        const doc: JsonObject = { ...secret.doc };
        if (body.has("type")) doc.type = body.string("type");
        if (body.has("http_only")) doc.http_only = body.boolean("http_only", false);
        if (body.has("metadata")) doc.metadata = body.object("metadata")!;
        if (body.has("annotations")) doc.annotations = body.annotations("annotations")!;
        const name = body.has("name") ? body.string("name") : secret.name;
        return RENDER.secret(store.update(secret, doc, { name }));
      },
      [`delete${prefix}Secret`]: (c) => {
        this.#deleteSecret(this.#secret(c));
        return {};
      },
      [`list${prefix}SecretVersions`]: (c) => ({
        versions: store.children("secret_version", this.#secret(c).id).map(RENDER.secret_version),
      }),
      [`add${prefix}SecretVersion`]: async (c) => {
        const secret = this.#secret(c);
        const body = await c.body();
        const version = await this.#addVersion(
          secret,
          body.base64("value_base64"),
          this.#me(c),
          body.boolean("set_current", true),
        );
        return RENDER.secret_version(version);
      },
      [`access${prefix}SecretVersion`]: (c) => {
        const secret = this.#secret(c);
        const version = store.get("secret_version", c.params.version_id);
        if (!version || version.parentId !== secret.id) {
          throw fail.notFound(`no version ${c.params.version_id} of secret ${secret.id}`);
        }
        return { secret_id: secret.id, version_id: version.id, value_base64: version.doc.value };
      },
      [`delete${prefix}SecretVersion`]: (c) => {
        const secret = this.#secret(c);
        const version = store.get("secret_version", c.params.version_id);
        if (!version || version.parentId !== secret.id) {
          throw fail.notFound(`no version ${c.params.version_id} of secret ${secret.id}`);
        }
        store.delete("secret_version", version.id);
        if (secret.doc.current_version_id === version.id) {
          store.update(secret, { ...secret.doc, current_version_id: null });
        }
        return {};
      },
    });
    const serviceHandlers = (op: "Service" | "RoomService"): Record<string, Handler> => ({
      [`create${op}`]: async (c) => {
        const spec = this.#serviceSpec(await c.body(), c);
        const parent = this.#serviceParent(c);
        const name = (spec.metadata as JsonObject).name as string;
        try {
          return RENDER.service(store.insert("service", {
            projectId: c.params.project_id,
            parentId: parent,
            name,
            unique: this.#serviceUnique(c.params.project_id, parent, name),
            doc: spec,
          }));
        } catch (e) {
          if (e instanceof AdminConflictError) {
            throw fail.conflict(`a service named ${name} exists already here`);
          }
          throw e;
        }
      },
      [`list${op}s`]: (c) => {
        const parent = this.#serviceParent(c);
        return {
          services: store.list("service", c.params.project_id)
            .filter((r) => r.parentId === parent).map(RENDER.service),
        };
      },
      [`get${op}ByName`]: (c) => {
        const parent = this.#serviceParent(c);
        const record = store.byUnique(
          "service",
          this.#serviceUnique(c.params.project_id, parent, c.params.name),
        );
        if (!record) throw fail.notFound(`no service named ${c.params.name}`);
        return RENDER.service(record);
      },
      [`get${op}`]: (c) => RENDER.service(this.#service(c)),
      [`update${op}`]: async (c) => {
        const record = this.#service(c);
        const spec = this.#serviceSpec(await c.body(), c);
        const name = (spec.metadata as JsonObject).name as string;
        try {
          return RENDER.service(store.update(record, spec, {
            name,
            unique: this.#serviceUnique(c.params.project_id, record.parentId, name),
          }));
        } catch (e) {
          if (e instanceof AdminConflictError) {
            throw fail.conflict(`a service named ${name} exists already here`);
          }
          throw e;
        }
      },
      [`delete${op}`]: (c) => {
        store.delete("service", this.#service(c).id);
        return {};
      },
    });

    return {
      getOpenApi: () => openApiDocument(this.#options.version),
      whoami: (c) => {
        const who = c.principal!;
        const account = who.serviceAccountId
          ? store.get("service_account", who.serviceAccountId)
          : undefined;
        return {
          id: who.serviceAccountId ?? who.key.id,
          email: null,
          type: "service_account",
          project_id: who.key.projectId,
          api_key_id: who.key.id,
          server_key: who.server,
          ...(account ? { service_account: RENDER.service_account(account) } : {}),
        };
      },
      createProject: async (c) => {
        const body = await c.body();
        return RENDER.project(store.insert("project", {
          id: crypto.randomUUID(),
          projectId: "",
          name: body.string("name"),
          doc: { project_key: crypto.randomUUID(), settings: body.object("settings") ?? {} },
        }));
      },
      listProjects: (c) => {
        const who = c.principal!;
        const all = store.list("project").map(RENDER.project);
        return { projects: who.server ? all : all.filter((p) => p.id === who.key.projectId) };
      },
      getProject: (c) => RENDER.project(this.#project(c)),
      getProjectStatus: (c) => ({ enabled: this.#project(c).doc.enabled !== false }),

      listServiceAccounts: (c) => {
        const page = this.#page(list("service_account", c.params.project_id), c.query);
        return { service_accounts: page.items, continuation_token: page.next };
      },
      createServiceAccount: async (c) => {
        const body = await c.body();
        const name = body.string("name");
        const p = c.params.project_id;
        try {
          return RENDER.service_account(store.insert("service_account", {
            projectId: p,
            name,
            unique: `${p}/${name}`,
            doc: {
              key: body.optionalString("key", name),
              description: body.optionalString("description", ""),
              display_name: body.optionalString("display_name") ??
                body.optionalString("displayName") ?? null,
              metadata: body.object("metadata") ?? {},
              annotations: body.annotations("annotations") ?? {},
            },
          }));
        } catch (e) {
          if (e instanceof AdminConflictError) {
            throw fail.conflict(`a service account named ${name} exists already`);
          }
          throw e;
        }
      },
      getServiceAccountByName: (c) => {
        const p = c.params.project_id;
        const record = store.byUnique("service_account", `${p}/${c.params.name}`);
        if (!record) throw fail.notFound(`no service account named ${c.params.name}`);
        return RENDER.service_account(record);
      },
      getServiceAccount: (c) => RENDER.service_account(this.#serviceAccount(c)),
      updateServiceAccount: async (c) => {
        const record = this.#serviceAccount(c);
        const body = await c.body();
        const name = body.has("name") ? body.string("name") : record.name!;
        const doc: JsonObject = { ...record.doc };
        for (const field of ["description", "display_name"]) {
          if (body.has(field)) doc[field] = body.optionalString(field)!;
        }
        if (body.has("metadata")) doc.metadata = body.object("metadata")!;
        if (body.has("annotations")) doc.annotations = body.annotations("annotations")!;
        return RENDER.service_account(store.update(record, doc, {
          name,
          unique: `${record.projectId}/${name}`,
        }));
      },
      deleteServiceAccount: (c) => {
        const record = this.#serviceAccount(c);
        const keys = store.children("api_key", record.id);
        store.transaction(() => {
          for (const key of keys) store.delete("api_key", key.id);
          store.delete("service_account", record.id);
        });
        for (const key of keys) this.#options.onKeyRevoked?.(key.id);
        return {};
      },

      createApiKey: async (c) =>
        this.#createKey(c.params.project_id, this.#serviceAccount(c), await c.body()),
      listApiKeys: (c) => ({
        keys: store.children("api_key", this.#serviceAccount(c).id).map(RENDER.api_key),
      }),
      deleteApiKey: (c) =>
        this.#deleteKey(c.params.project_id, c.params.key_id, this.#serviceAccount(c).id),
      createProjectApiKey: async (c) =>
        this.#createKey(
          c.params.project_id,
          this.#defaultServiceAccount(c.params.project_id),
          await c.body(),
        ),
      listProjectApiKeys: (c) => ({ tokens: list("api_key", c.params.project_id) }),
      deleteProjectApiKey: (c) => this.#deleteKey(c.params.project_id, c.params.key_id),

      createParticipantToken: async (c) => {
        const body = await c.body();
        const p = c.params.project_id;
        const key = this.signingKey(p, c.principal!.key.id);
        if (!key) {
          throw fail.conflict(`project ${p} has no API key to sign with: create one first`);
        }
        const token = new ParticipantToken({ name: body.string("name") });
        if (body.has("grants")) {
          const grants = body.json.grants;
          if (!Array.isArray(grants)) throw fail.badRequest("grants must be an array");
          try {
            for (const grant of grants) token.grants.push(ParticipantGrant.fromJson(grant));
          } catch (e) {
            throw fail.badRequest(`grants: ${e instanceof Error ? e.message : e}`);
          }
        } else {
          const room = body.optionalString("room_name");
          if (room !== undefined) token.addRoomGrant(room);
          const role = body.optionalString("role");
          if (role !== undefined) token.addRoleGrant(role);
          const api = body.object("api");
          try {
            token.addApiGrant(api ? ApiScope.fromJson(api) : ApiScope.agentDefault());
          } catch (e) {
            throw fail.badRequest(`api: ${e instanceof Error ? e.message : e}`);
          }
        }
        return { token: await token.toJwt({ apiKey: formatApiKey(key) }) };
      },
      validateParticipantToken: async (c) => {
        const jwt = (await c.body()).string("token");
        try {
          const kid = ParticipantToken.decodeUnverified(jwt).apiKeyId;
          const key = kid === undefined ? this.soleKey() : this.key(kid);
          if (!key) throw fail.unauthorized("the token's key is not known to this server");
          return (await ParticipantToken.fromJwt(jwt, { secret: key.secret }))
            .toJson() as JsonObject;
        } catch (e) {
          if (e instanceof TokenError) throw fail.unauthorized(`${e.code}: ${e.message}`);
          throw e;
        }
      },

      createRoom: async (c) => {
        const body = await c.body();
        const name = body.string("name");
        if (!isValidRoomName(name)) {
          throw fail.badRequest(
            `invalid room name ${JSON.stringify(name)}: use 1-63 lowercase letters, digits and ` +
              "dashes, starting and ending with a letter or digit",
          );
        }
        const existing = store.byUnique("room", name);
        if (existing) {
          if (existing.projectId === c.params.project_id && body.boolean("if_not_exists", false)) {
            return RENDER.room(existing);
          }
          throw fail.conflict(`a room named ${name} exists already`);
        }
        return RENDER.room(store.insert("room", {
          projectId: c.params.project_id,
          name,
          unique: name,
          doc: {
            metadata: body.object("metadata") ?? {},
            annotations: body.annotations("annotations") ?? {},
            permissions: body.object("permissions") ?? {},
            enabled: true,
          },
        }));
      },
      listRooms: (c) => {
        const live = new Set(this.#options.liveRooms?.() ?? []);
        // [impl] `active`: whether someone is in the room now, and `participant_count`: how many
        // (neither in the spec's Room; the web console shows them).
        const count = this.#options.participantCount ?? (() => undefined);
        const rooms = list("room", c.params.project_id)
          .map((room) => ({
            ...room,
            active: live.has(String(room.name)),
            participant_count: count(String(room.name)) ?? 0,
          }));
        const page = this.#page(rooms, c.query);
        return { rooms: page.items, total: rooms.length, continuation_token: page.next };
      },
      getRoom: (c) => RENDER.room(this.#room(c)),
      updateRoom: async (c) => {
        const record = this.#room(c);
        const body = await c.body();
        if (body.has("name") && body.string("name") !== record.name) {
          throw fail.badRequest("a room cannot be renamed (its data is kept under its name)");
        }
        const doc: JsonObject = { ...record.doc };
        if (body.has("metadata")) doc.metadata = body.object("metadata")!;
        if (body.has("annotations")) doc.annotations = body.annotations("annotations")!;
        if (body.has("enabled")) doc.enabled = body.boolean("enabled", true);
        const updated = store.update(record, doc);
        if (doc.enabled === false) this.#options.onRoomClosed?.(record.name!, "room disabled");
        return RENDER.room(updated);
      },
      deleteRoom: (c) => {
        const record = this.#room(c);
        store.transaction(() => {
          for (const service of store.children("service", record.id)) {
            store.delete("service", service.id);
          }
          store.delete("room", record.id);
        });
        this.#options.onRoomClosed?.(record.name!, "room deleted");
        return {};
      },
      connectRoom: async (c) => {
        const p = c.params.project_id;
        const name = c.params.room;
        if (!isValidRoomName(name)) throw fail.badRequest(`invalid room name ${name}`);
        const admission = this.admitRoom(name, p);
        if (!admission.ok) {
          throw new AdminApiError(admission.status, "forbidden", admission.text);
        }
        const key = this.signingKey(p, c.principal!.key.id);
        if (!key) throw fail.conflict(`project ${p} has no API key to sign with`);
        const who = c.principal!;
        const account = who.serviceAccountId
          ? store.get("service_account", who.serviceAccountId)
          : undefined;
        const token = new ParticipantToken({ name: account?.name ?? "admin" });
        token.addRoomGrant(name);
        token.addApiGrant(ApiScope.full());
        return {
          jwt: await token.toJwt({ apiKey: formatApiKey(key) }),
          room_name: name,
          project_id: p,
          room_url: this.#options.roomUrl(c.request, name),
        };
      },

      ...serviceHandlers("Service"),
      ...serviceHandlers("RoomService"),
      ...secretHandlers(""),
      ...secretHandlers("ServiceAccount"),

      createProjectSecret: async (c) => {
        const body = await c.body();
        const p = c.params.project_id;
        const secret = store.insert("secret", {
          projectId: p,
          parentId: `project:${p}`,
          name: body.string("name"),
          doc: { type: body.optionalString("type", "keys"), created_by: this.#me(c) },
        });
        await this.#addVersion(secret, body.base64("data_base64"), this.#me(c), true);
        return { id: secret.id, name: secret.name, type: secret.doc.type };
      },
      listProjectSecrets: (c) => ({
        secrets: store.children("secret", `project:${c.params.project_id}`).map((r) => ({
          id: r.id,
          name: r.name,
          type: r.doc.type,
          delegated_to: null,
        })),
      }),
      getProjectSecret: (c) => {
        const record = this.#projectSecret(c);
        return {
          id: record.id,
          name: record.name,
          type: record.doc.type,
          delegated_to: null,
          data_base64: this.#currentValue(record) ?? "",
        };
      },
      updateProjectSecret: async (c) => {
        const record = this.#projectSecret(c);
        const body = await c.body();
        const updated = store.update(record, {
          ...record.doc,
          type: body.optionalString("type", String(record.doc.type)),
        }, { name: body.optionalString("name", record.name ?? "") });
        await this.#addVersion(updated, body.base64("data_base64"), this.#me(c), true);
        return { id: record.id, name: updated.name, type: updated.doc.type };
      },
      deleteProjectSecret: (c) => {
        this.#deleteSecret(this.#projectSecret(c));
        return {};
      },

      createWebhook: async (c) => {
        const { name, doc } = this.#webhook(await c.body());
        return RENDER.webhook(store.insert("webhook", {
          projectId: c.params.project_id,
          name,
          doc,
        }));
      },
      listWebhooks: (c) => ({ webhooks: list("webhook", c.params.project_id) }),
      getWebhook: (c) =>
        RENDER.webhook(
          this.#owned("webhook", c.params.webhook_id, c.params.project_id, "webhook"),
        ),
      updateWebhook: async (c) => {
        const record = this.#owned("webhook", c.params.webhook_id, c.params.project_id, "webhook");
        const { name, doc } = this.#webhook(await c.body(), record);
        return RENDER.webhook(store.update(record, doc, { name }));
      },
      deleteWebhook: (c) => {
        const record = this.#owned("webhook", c.params.webhook_id, c.params.project_id, "webhook");
        store.delete("webhook", record.id);
        return {};
      },
    };
  }

  #projectSecret(context: Context): AdminRecord {
    const p = context.params.project_id;
    const record = this.store.get("secret", context.params.secret_id);
    if (!record || record.parentId !== `project:${p}`) {
      throw fail.notFound(`no secret ${context.params.secret_id} in project ${p}`);
    }
    return record;
  }
}
