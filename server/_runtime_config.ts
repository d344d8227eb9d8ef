// Private: the `--config` a `deno run` child of the server (the room SQL process) runs with.
//
// [impl] In this repository the server and the `meshagent` command run with deno.runtime.json
// (`deno task start`, `deno task install`): the import map and lock of what they need at run
// time, without the test-only packages. Deno installs every package of a lock on the first run,
// so a child started with the workspace's deno.json (its discovered default) would pull the
// test-only packages the parent kept out. A child therefore names deno.runtime.json when the
// server's sources sit in a folder that has one; published elsewhere, it lets Deno discover the
// config as before.
import { fileURLToPath } from "node:url";

const RUNTIME_CONFIG = new URL("../deno.runtime.json", import.meta.url);

/**
 * The flags that give a `deno run` child of the server the runtime config.
 *
 * @returns `["--config", <path>]`, or `[]` when there is no runtime config next to the sources.
 */
export function runtimeConfigFlags(): string[] {
  if (RUNTIME_CONFIG.protocol !== "file:") return [];
  try {
    if (Deno.statSync(RUNTIME_CONFIG).isFile) return ["--config", fileURLToPath(RUNTIME_CONFIG)];
  } catch { /* no such file, or no read permission: Deno discovers the config itself */ }
  return [];
}
