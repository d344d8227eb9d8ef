/**
 * The `meshagent` command. Run it with `deno run -A cli/main.ts <command>`, or compile it into a
 * single binary with `deno task compile`.
 *
 * @module
 */
import { runCli } from "./cli.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
