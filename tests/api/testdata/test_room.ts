// Test helpers for the integration tests of the room clients against our real server.
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import {
  type EventEmitter,
  RoomClient,
  type RoomClientEvents,
  type RoomClientUrlOptions,
} from "@meshagent/api";

export type { TestServer };

/** A fresh room name per test. */
export function roomName(): string {
  return `r-${crypto.randomUUID().slice(0, 8)}`;
}

/** Starts a test server, runs `fn`, and always closes the server. */
export async function withServer(fn: (server: TestServer) => Promise<void>): Promise<void> {
  const server = await startTestServer();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Connects a started RoomClient as `name` (the caller disposes it). */
export async function connect(
  server: TestServer,
  room: string,
  name: string,
  options: Partial<RoomClientUrlOptions> = {},
): Promise<RoomClient> {
  const client = new RoomClient({
    url: server.roomUrl(room),
    token: await server.token(room, name),
    reconnectTimeout: 10_000,
    requestTimeout: 10_000,
    ...options,
  });
  await client.start({ timeout: 10_000 });
  return client;
}

/** Waits for an event that matches, or fails after `ms`. */
export function nextEvent<K extends keyof RoomClientEvents>(
  events: EventEmitter<RoomClientEvents>,
  name: K,
  match: (event: RoomClientEvents[K]) => boolean = () => true,
  ms = 10_000,
): Promise<RoomClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(name)} event within ${ms} ms`));
    }, ms);
    const off = events.on(name, (event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** Polls `condition` until it holds, or fails after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
