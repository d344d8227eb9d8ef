/**
 * A real room server for integration tests: listens on 127.0.0.1 on a free port, trusts one
 * freshly generated API key, keeps its data in a temporary folder, and mints tokens.
 *
 * `MESHAGENT_TEST_FRONT=deno` runs every test server on the `Deno.serve` front instead of the
 * default `node:http` + `ws` one (`MESHAGENT_TEST_FRONT=node deno task test` is the default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startTestServer } from "@meshagent/server/testing";
 * const server = await startTestServer();
 * const jwt = await server.token("my-room", "alice");
 * assert(server.roomUrl("my-room").endsWith("/rooms/my-room") && jwt.split(".").length === 3);
 * await server.close();
 * ```
 *
 * @module
 */
import { ApiScope, generateApiKey, ParticipantToken, RoomClient } from "@meshagent/api";
import { RoomServer, type RoomServerFront, type RoomServerOptions } from "./room_server.ts";

/** Options of {@linkcode TestServer.token}. */
export interface TestTokenOptions {
  /** The `api` grant (default `ApiScope.agentDefault()`); null mints a token without one. */
  api?: ApiScope | null;
  /** A `role` grant (none by default, so the participant is a `user`). */
  role?: string;
  /** Sets `exp` this many seconds from now (negative: already expired). */
  expiresInSeconds?: number;
}

/** A running test server. */
export interface TestServer {
  /** The HTTP base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /**
   * The WebSocket URL of a room.
   *
   * @param room The room name.
   * @returns `ws://127.0.0.1:<port>/rooms/<room>`.
   */
  roomUrl(room: string): string;
  /** The `ma-…` API key the server trusts. */
  apiKey: string;
  /**
   * Mints a participant token for a room, signed with {@linkcode TestServer.apiKey}.
   *
   * @param room The room of the `room` grant.
   * @param name The participant name.
   * @param options API scope, role and expiry.
   * @returns The JWT.
   */
  token(room: string, name: string, options?: TestTokenOptions): Promise<string>;
  /**
   * Connects a started {@linkcode RoomClient} to a room as `name` (the caller disposes it).
   * Reconnects and requests wait at most 10 s, so a broken test fails instead of hanging.
   *
   * @param room The room name.
   * @param name The participant name.
   * @param options Token options (`api`, `role`, `expiresInSeconds`) and client options.
   * @returns The started client.
   */
  connect(room: string, name: string, options?: TestConnectOptions): Promise<RoomClient>;
  /** The data folder. */
  dataDir: string;
  /** Stops and starts the server again on the same port and data folder (durability tests). */
  restart(): Promise<void>;
  /** Stops the server and removes the data folder if it made it. */
  close(): Promise<void>;
  /** `await using server = await startTestServer()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@linkcode TestServer.connect}: the token's and the client's. */
export interface TestConnectOptions extends TestTokenOptions {
  /** Reconnect window in ms (default 10000; 0 disables reconnecting). */
  reconnectTimeout?: number | null;
  /** Request timeout in ms (default 10000). */
  requestTimeout?: number;
}

/** Options of {@linkcode startTestServer}. */
export interface TestServerOptions {
  /** Use this data folder (kept on close) instead of a fresh temporary one (removed on close). */
  dataDir?: string;
  /** The server's largest incoming message in bytes. */
  maxMessageSize?: number;
  /** Any other options of the {@linkcode RoomServer} (limits, stores, toolkits). */
  server?: Partial<Omit<RoomServerOptions, "dataDir" | "keys" | "hostname" | "port">>;
}

/** The front test servers use: `MESHAGENT_TEST_FRONT` (`node` or `deno`), else the default. */
function testFront(): RoomServerFront | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get("MESHAGENT_TEST_FRONT");
  } catch {
    return undefined; // no env permission: the default
  }
  if (value === undefined || value === "") return undefined;
  if (value !== "node" && value !== "deno") {
    throw new Error(`MESHAGENT_TEST_FRONT must be node or deno, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Starts a {@linkcode RoomServer} for tests.
 *
 * @param options Data folder and limits.
 * @returns The running server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startTestServer } from "@meshagent/server/testing";
 * const server = await startTestServer();
 * const res = await fetch(server.url);
 * assert(res.status === 200);
 * await res.body?.cancel();
 * await server.close();
 * ```
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const key = generateApiKey();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "meshagent-test-" });
  const start = (port: number) =>
    RoomServer.listen({
      front: testFront(),
      ...options.server,
      hostname: "127.0.0.1",
      port,
      dataDir,
      keys: [key],
      maxMessageSize: options.maxMessageSize,
    });
  let server = await start(0);
  const port = server.port;
  let closed = false;
  const testServer: TestServer = {
    url: `http://127.0.0.1:${port}`,
    roomUrl: (room) => `ws://127.0.0.1:${port}/rooms/${room}`,
    apiKey: key.key,
    dataDir,
    async token(room, name, tokenOptions = {}) {
      const token = new ParticipantToken({ name });
      token.addRoomGrant(room);
      if (tokenOptions.role !== undefined) token.addRoleGrant(tokenOptions.role);
      const api = tokenOptions.api === undefined ? ApiScope.agentDefault() : tokenOptions.api;
      if (api !== null) token.addApiGrant(api);
      const expiration = tokenOptions.expiresInSeconds === undefined
        ? undefined
        : new Date(Date.now() + tokenOptions.expiresInSeconds * 1000);
      return await token.toJwt({ apiKey: key.key, expiration });
    },
    async connect(room, name, connectOptions = {}) {
      const client = new RoomClient({
        url: testServer.roomUrl(room),
        token: await testServer.token(room, name, connectOptions),
        reconnectTimeout: connectOptions.reconnectTimeout === undefined
          ? 10_000
          : connectOptions.reconnectTimeout,
        requestTimeout: connectOptions.requestTimeout ?? 10_000,
      });
      try {
        await client.start({ timeout: 10_000 });
      } catch (e) {
        await client.dispose();
        throw e;
      }
      return client;
    },
    async restart() {
      if (closed) throw new Error("the test server is closed");
      await server.shutdown();
      server = await start(port);
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.shutdown();
      if (ownDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]: () => testServer.close(),
  };
  return testServer;
}
