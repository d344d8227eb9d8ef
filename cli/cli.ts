import { CommanderError } from "commander";
import { buildProgram } from "./_program.ts";
import { consoleOutput, type Output } from "./output.ts";
import { explainError } from "./_error_hints.ts";

/**
 * Rewrites `help <group> <command>…` (at the top or inside a group) as `<group> <command>… --help`,
 * so help shows the command asked for, not its first group.
 *
 * @param args The arguments after the program name.
 * @param isGroup Whether a path of command names is a group (has commands of its own); a
 *   `help` after anything else is an argument, e.g. a file named `help`.
 * @returns The arguments to parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { helpArgs } from "@meshagent/cli";
 * assert.deepEqual(helpArgs(["help", "room", "storage"]), ["room", "storage", "--help"]);
 * assert.deepEqual(helpArgs(["room", "help", "queue"]), ["room", "queue", "--help"]);
 * assert.deepEqual(helpArgs(["room", "queue", "send"]), ["room", "queue", "send"]);
 * ```
 */
export function helpArgs(
  args: readonly string[],
  isGroup: (path: readonly string[]) => boolean = () => true,
): string[] {
  const at = args.indexOf("help");
  if (at < 0 || args.slice(0, at).some((a) => a.startsWith("-"))) return [...args];
  if (!isGroup(args.slice(0, at))) return [...args];
  const rest = args.slice(at + 1);
  if (rest.length === 0 || rest.some((a) => a.startsWith("-"))) return [...args];
  return [...args.slice(0, at), ...rest, "--help"];
}

/**
 * Runs the `meshagent` command line with the given arguments and returns the exit code. Errors
 * are printed as one line (`error: …`) instead of a stack trace, in CLI words: a failure the CLI
 * knows names the command or flag that fixes it.
 *
 * @param args The arguments after the program name.
 * @param output Where commands write (default: stdout and stderr).
 * @param signal Stops long-running commands (server, listen).
 * @returns The exit code: 0 on success.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCli } from "@meshagent/cli";
 * const lines: string[] = [];
 * const code = await runCli(["--version"], { out: (l) => lines.push(l), err: () => {} });
 * assert(code === 0 && lines[0] === "0.1.0");
 * ```
 */
export async function runCli(
  args: readonly string[],
  output: Output = consoleOutput,
  signal?: AbortSignal,
): Promise<number> {
  const program = buildProgram(output, signal);
  program.exitOverride();
  for (const command of program.commands) exitOverrideDeep(command);
  try {
    await program.parseAsync(helpArgs(args, (path) => isGroup(program, path)), { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version output are successes; commander has printed its message already.
      return e.exitCode;
    }
    output.err(`error: ${explainError(e instanceof Error ? e.message : String(e))}`);
    return 1;
  }
}

// deno-lint-ignore no-explicit-any
function isGroup(program: any, path: readonly string[]): boolean {
  let command = program;
  for (const name of path) {
    // deno-lint-ignore no-explicit-any
    command = command.commands.find((c: any) => c.name() === name || c.aliases().includes(name));
    if (!command) return false;
  }
  return command.commands.length > 0;
}

// deno-lint-ignore no-explicit-any
function exitOverrideDeep(command: any): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideDeep(sub);
}
