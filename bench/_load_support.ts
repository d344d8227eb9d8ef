// Shared pieces of the load scripts in this folder: server processes, room clients, percentiles.
import { type ApiKey, ApiScope, ParticipantToken, RoomClient } from "@meshagent/api";

/**
 * A started RoomClient with messaging enabled, on a room server at 127.0.0.1:`port` that trusts
 * `key`; it does not reconnect.
 */
export async function messagingClient(
  key: ApiKey,
  port: number,
  room: string,
  name: string,
): Promise<RoomClient> {
  const token = new ParticipantToken({ name, projectId: key.projectId, apiKeyId: key.id });
  token.addRoomGrant(room);
  token.addApiGrant(ApiScope.agentDefault());
  const client = new RoomClient({
    url: `ws://127.0.0.1:${port}/rooms/${room}`,
    token: await token.toJwt({ secret: key.secret }),
    reconnectTimeout: 0,
  });
  await client.start();
  await client.messaging.enable();
  return client;
}

/** The `p`th percentile of sorted values (NaN when there are none). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A server process started by {@linkcode spawnServer}. */
export interface ServerProcess {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Runs `deno <args>` in `cwd` and waits until its stdout matches `portLine` (group 1 = the port).
 * The rest of its stdout is read and dropped; stop() sends SIGTERM and waits for the exit.
 */
export async function spawnServer(
  args: string[],
  options: { cwd: string; env: Record<string, string>; portLine: RegExp },
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: options.env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port = 0;
  while (!port) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${text}`);
    text += value;
    const m = options.portLine.exec(text);
    if (m) port = Number(m[1]);
  }
  const drain = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    port,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drain;
    },
  };
}
