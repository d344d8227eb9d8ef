// The commander wiring of `meshagent mcp stdio|http|sse`. Private: the exported functions in
// mcp_command.ts are the public API.
import { type Command, Option } from "commander";
import { roleOption, serverUrl } from "./_room_options.ts";
import { mcpHttpCommand, mcpSseCommand, mcpStdioCommand } from "./mcp_command.ts";
import type { Output } from "./output.ts";

function bridgeOptions(command: Command): Command {
  return command
    .option("--room <room>", "room name (default: MESHAGENT_ROOM)")
    .option("--name <name>", "participant name to join as (default: the toolkit name)")
    .addOption(roleOption("role grant for a minted token", "tool"))
    .option("--toolkit-name <name>", "toolkit name other participants call", "mcp")
    .option("--title <title>", "toolkit title (default: the toolkit name)")
    .option("--description <text>", "toolkit description")
    .option("--private", "register the toolkit as private (default: public)")
    .option("--allowed-tool <name...>", "offer only these MCP tools")
    .option("--json", 'print {"event":"hosting",…} on stdout once the toolkit is registered')
    .addOption(
      new Option("--timeout <seconds>", "longest one tool call may take (default 60)")
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isFinite(n) || n <= 0) {
            throw new Error("--timeout must be a positive number of seconds");
          }
          return n;
        }),
    )
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
 * Adds `mcp stdio`, `mcp http` and `mcp sse` to the program.
 *
 * @param program The root command.
 * @param output Where commands write.
 * @param signal Stops the bridges (besides SIGINT/SIGTERM).
 */
export function addMcpCommands(program: Command, output: Output, signal?: AbortSignal): void {
  const mcp = program.command("mcp")
    .description("host an MCP server's tools in a room as a toolkit");
  bridgeOptions(mcp.command("stdio"))
    .description(
      "run an MCP server as a child process (stdio) and host its tools until Ctrl-C: " +
        "meshagent mcp stdio --room R -- <command> [args...]",
    )
    .option("--command <command line>", "the server command as one string (instead of after --)")
    .option("--env <NAME=VALUE...>", "extra environment variables for the server")
    .option("--cwd <dir>", "working directory of the server")
    .argument("[command...]", "the server program and its arguments (after --)")
    .action(async (command: string[], opts) => {
      await mcpStdioCommand({ ...opts, allowedTools: opts.allowedTool }, command, output, signal);
    });
  bridgeOptions(mcp.command("http"))
    .description("connect to an MCP server over streamable HTTP and host its tools until Ctrl-C")
    .requiredOption("--url <url>", "the MCP endpoint, e.g. http://127.0.0.1:3001/mcp")
    .option("--header <header...>", 'request headers, e.g. "Authorization: Bearer TOKEN"')
    .action(async (opts) => {
      await mcpHttpCommand({ ...opts, allowedTools: opts.allowedTool }, output, signal);
    });
  bridgeOptions(mcp.command("sse"))
    .description(
      "connect to an MCP server over the older HTTP+SSE transport and host its tools until Ctrl-C",
    )
    .requiredOption("--url <url>", "the SSE endpoint, e.g. http://127.0.0.1:3001/sse")
    .option("--header <header...>", 'request headers, e.g. "Authorization: Bearer TOKEN"')
    .action(async (opts) => {
      await mcpSseCommand({ ...opts, allowedTools: opts.allowedTool }, output, signal);
    });
}
