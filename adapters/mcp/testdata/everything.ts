// How the tests start `@modelcontextprotocol/server-everything` over stdio: with this Deno binary
// (`deno run -A npm:@modelcontextprotocol/server-everything@<pinned> stdio`) from the workspace
// root, so the pinned, locked and installed copy runs with no network. The version comes from
// the root deno.json import map, so there is one place to bump it.

/** The workspace root (where deno.json and node_modules are). */
export const ROOT: string = new URL("../../../", import.meta.url).pathname;

function pinnedSpecifier(): string {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const spec = config.imports?.["@modelcontextprotocol/server-everything"];
  if (typeof spec !== "string") {
    throw new Error("deno.json does not pin @modelcontextprotocol/server-everything");
  }
  return spec;
}

/** The stdio options that start server-everything. */
export function everything(): { command: string; args: string[]; cwd: string; stderr: "ignore" } {
  return {
    command: Deno.execPath(),
    args: ["run", "-A", pinnedSpecifier(), "stdio"],
    cwd: ROOT,
    stderr: "ignore",
  };
}
