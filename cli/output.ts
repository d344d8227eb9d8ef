/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface Output {
  /** Writes a line of results. */
  out(line: string): void;
  /** Writes a line of diagnostics. */
  err(line: string): void;
  /** Writes text to the results without ending the line (streamed answers); default: buffered by line. */
  write?(text: string): void;
}

/**
 * The process's stdout and stderr.
 *
 * @example
 * ```ts
 * import { consoleOutput } from "@meshagent/cli";
 * consoleOutput.err("progress goes to stderr");
 * ```
 */
export const consoleOutput: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  write: (text) => {
    const bytes = new TextEncoder().encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
  },
};
