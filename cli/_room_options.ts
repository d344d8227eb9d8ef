// Flags and argument parsers shared by every `meshagent room …` command group. Private: the
// commander types stay out of the package's public signatures.
import type { Command } from "commander";

/**
 * Adds the flags that say which room to join and how to get a token.
 *
 * @param command The command to add them to.
 * @returns The same command.
 */
export function roomOptions(command: Command): Command {
  return command
    .option("--room <room>", "room name (default: MESHAGENT_ROOM)")
    .option("--identity <name>", "participant name for a minted token", "cli")
    .option("--role <role>", "role grant for a minted token", "user")
    .option(
      "--api-url <url>",
      "room server URL (default: MESHAGENT_API_URL or http://127.0.0.1:8078)",
    )
    .option("--token <jwt>", "participant token to use (default: MESHAGENT_TOKEN)")
    .option("--key <ma-key>", "API key to sign a token (default: MESHAGENT_API_KEY)")
    .option(
      "--data-dir <dir>",
      "data folder of a local server, whose credentials may sign",
      ".meshagent",
    );
}

/**
 * A commander argument parser for a number >= 0.
 *
 * @param flag The flag, for the error message.
 * @returns The parser.
 */
export function nonNegativeNumber(flag: string): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number`);
    return n;
  };
}
