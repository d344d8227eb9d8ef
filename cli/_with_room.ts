// Private: connect, run, dispose — the shape of every one-shot `meshagent room …` command.
import type { RoomClient } from "@meshagent/api";
import { connectRoom, type Env, type RoomConnectionOptions } from "./room_connection.ts";

/**
 * Connects to the room, runs `fn` and disposes the client, whatever `fn` does.
 *
 * @param options The room flags.
 * @param env Reads environment variables.
 * @param fn What to do in the room.
 * @returns What `fn` returned.
 */
export async function withRoom<T>(
  options: RoomConnectionOptions,
  env: Env | undefined,
  fn: (room: RoomClient) => Promise<T>,
): Promise<T> {
  const room = await connectRoom(options, env);
  try {
    return await fn(room);
  } finally {
    await room.dispose();
  }
}
