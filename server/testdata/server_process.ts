// Private test helper: the room server as a separate process (`deno run -A cli/main.ts server`),
// for crash tests (SIGKILL) of durable stores. Reads the URL and the API key from its banner.
import { ApiScope, ParticipantToken } from "@meshagent/api";

const CLI = new URL("../../cli/main.ts", import.meta.url).pathname;

/** A running server process. */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The process id. */
  pid: number;
  /** The WebSocket URL of a room. */
  roomUrl(room: string): string;
  /** The `ma-…` key from the banner. */
  apiKey: string;
  /** Mints a participant token (agent default scope unless given). */
  token(room: string, name: string, api?: ApiScope): Promise<string>;
  /** Sends a signal and waits for the process to exit. */
  kill(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `meshagent server --port 0 --data-dir <dataDir>` and waits for its banner.
 *
 * @param dataDir The data folder (reuse it to restart on the same data).
 * @param timeoutMs How long to wait for the banner.
 * @param flags More `meshagent server` flags.
 */
export async function startServerProcess(
  dataDir: string,
  timeoutMs = 30_000,
  flags: string[] = [],
): Promise<ServerProcess> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("MESHAGENT_")) env[k] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "server", "--port", "0", "--data-dir", dataDir, ...flags],
    stdout: "piped",
    stderr: "inherit",
    clearEnv: true,
    env,
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let url: string | undefined;
  let apiKey: string | undefined;
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    while (!url || !apiKey) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server exited before its banner:\n${text}`);
      text += value;
      url ??= /export MESHAGENT_API_URL=(\S+)/.exec(text)?.[1];
      apiKey ??= /export MESHAGENT_API_KEY=(\S+)/.exec(text)?.[1];
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    await child.status;
    throw e;
  } finally {
    clearTimeout(timer);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  const key = apiKey;
  const base = url;
  return {
    url: base,
    pid: child.pid,
    apiKey: key,
    roomUrl: (room) => `${base.replace(/^http/, "ws")}/rooms/${room}`,
    async token(room, name, api) {
      const token = new ParticipantToken({ name });
      token.addRoomGrant(room);
      token.addApiGrant(api ?? ApiScope.agentDefault());
      return await token.toJwt({ apiKey: key });
    },
    async kill(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const status = await child.status;
      await drained;
      return status;
    },
  };
}
