import { CommanderError } from "commander";
import { buildProgram } from "./_program.ts";
import { consoleOutput, type Output } from "./output.ts";

/**
 * Runs the `meshagent` command line with the given arguments and returns the exit code. Errors
 * are printed as one line (`error: …`) instead of a stack trace.
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
    await program.parseAsync([...args], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version output are successes; commander has printed its message already.
      return e.exitCode;
    }
    output.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

// deno-lint-ignore no-explicit-any
function exitOverrideDeep(command: any): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideDeep(sub);
}
