// Flags and argument parsers shared by every `meshagent room …` command group. Private: the
// commander types stay out of the package's public signatures.
import { type Command, InvalidArgumentError, Option } from "commander";

/** The roles a participant token may grant (the spec's free string, limited to the known three). */
export const ROLES = ["user", "agent", "tool"] as const;

/**
 * A `--role` option whose value must be one of {@linkcode ROLES}.
 *
 * @param description The help text.
 * @param defaultValue The default role.
 * @returns The option.
 */
export function roleOption(description: string, defaultValue: string): Option {
  return new Option("--role <role>", description).choices(ROLES).default(defaultValue);
}

/**
 * A commander argument parser for a server URL (`http(s)://…` or `ws(s)://…`).
 *
 * @param flag The flag, for the error message.
 * @returns The parser.
 */
export function serverUrl(flag: string): (value: string) => string {
  return (value: string): string => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidArgumentError(
        `${flag} must be a URL like http://127.0.0.1:8078 (the URL \`meshagent server\` prints)`,
      );
    }
    if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
      throw new InvalidArgumentError(`${flag} must start with http://, https://, ws:// or wss://`);
    }
    return value;
  };
}

/**
 * Adds the flags that say which room to join and how to get a token.
 *
 * @param command The command to add them to.
 * @param role The default `--role` of a minted token.
 * @returns The same command.
 */
export function roomOptions(command: Command, role = "user"): Command {
  return command
    .option("--room <room>", "room name (default: MESHAGENT_ROOM)")
    .option("--identity <name>", "participant name for a minted token", "cli")
    .addOption(roleOption("role grant for a minted token", role))
    .addOption(
      new Option(
        "--api-url <url>",
        "room server URL (default: MESHAGENT_API_URL or http://127.0.0.1:8078)",
      ).argParser(serverUrl("--api-url")),
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
 * Adds `--json`: machine-readable output (one JSON object per line) instead of tables and
 * sentences.
 *
 * @param command The command.
 * @param what What the JSON holds, for the help text.
 * @returns The same command.
 */
export function jsonOption(command: Command, what = "one JSON object per line"): Command {
  return command.option("--json", `print ${what} instead of a table or sentence`);
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
    if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${flag} must be a non-negative number (got ${value})`);
    }
    return n;
  };
}

/**
 * Adds the flags of a command that serves an agent behind a ServiceHost (`process service`,
 * `voicebot service`): `--host`, `--port`, `--path`, `--webhook-secret` and `--json`.
 *
 * @param command The command.
 * @returns The same command.
 */
export function serviceOptions(command: Command): Command {
  return command
    .option("--host <host>", "address to listen on (default: MESHAGENT_HOST or 127.0.0.1)")
    .addOption(
      new Option("--port <port>", "port (default: MESHAGENT_PORT or 8080)")
        .argParser(nonNegativeNumber("--port")),
    )
    .option("--path <path>", "the path the room server calls", "/agent")
    .option(
      "--webhook-secret <secret>",
      "calls must be signed with it (default: MESHAGENT_WEBHOOK_SECRET)",
    )
    .option("--json", '{"event":"listening","url":…} once it listens');
}
