// Argument handling of `meshagent mcp`. The bridge itself runs end to end (real CLI, real room
// server, real MCP servers) in adapters/mcp/mcp_room_test.ts.
import assert from "node:assert/strict";
import { runCli } from "./cli.ts";
import { parseEnvPairs, parseHeaders, splitCommandLine } from "./mcp_command.ts";

Deno.test("mcp: --env pairs", () => {
  assert.deepEqual(parseEnvPairs(["A=1", "B=", "C=x=y"]), { A: "1", B: "", C: "x=y" });
  assert.throws(() => parseEnvPairs(["NOVALUE"]), /NAME=VALUE/);
  assert.throws(() => parseEnvPairs(["=1"]), /NAME=VALUE/);
});

Deno.test("mcp: --header values", () => {
  assert.deepEqual(parseHeaders(["Authorization: Bearer a:b=c", "X-Team=blue", "X-Empty:"]), {
    Authorization: "Bearer a:b=c",
    "X-Team": "blue",
    "X-Empty": "",
  });
  assert.throws(() => parseHeaders(["nocolon"]), /--header takes "Name: value"/);
  assert.throws(() => parseHeaders([": value"]), /--header/);
  assert.throws(() => parseHeaders(["Bad Name: v"]), /--header/);
});

Deno.test("mcp: --command is split like a shell line", () => {
  assert.deepEqual(splitCommandLine("npx -y @modelcontextprotocol/server-everything"), [
    "npx",
    "-y",
    "@modelcontextprotocol/server-everything",
  ]);
  assert.deepEqual(splitCommandLine(`a "b c" 'd "e"' f\\ g "h\\"i" ''`), [
    "a",
    "b c",
    'd "e"',
    "f g",
    'h"i',
    "",
  ]);
  assert.throws(() => splitCommandLine(`a "b`), /unterminated/);
});

Deno.test("mcp: usage errors exit non-zero with a message", async () => {
  const run = async (...args: string[]) => {
    const err: string[] = [];
    const code = await runCli(args, { out: () => {}, err: (l) => err.push(l) });
    return { code, err: err.join("\n") };
  };
  const both = await run("mcp", "stdio", "--room", "r", "--command", "x", "--", "y");
  assert.equal(both.code, 1);
  assert.match(both.err, /either with --command or after --/);
  const none = await run("mcp", "stdio", "--room", "r");
  assert.match(none.err, /what to run/);
  const noUrl = await run("mcp", "http", "--room", "r");
  assert.notEqual(noUrl.code, 0);
  assert.match(noUrl.err, /--url/);
  const noSseUrl = await run("mcp", "sse", "--room", "r");
  assert.notEqual(noSseUrl.code, 0);
  assert.match(noSseUrl.err, /--url/);
  const badHeader = await run(
    "mcp",
    "sse",
    "--room",
    "r",
    "--url",
    "http://x/sse",
    "--header",
    "x",
  );
  assert.notEqual(badHeader.code, 0);
  assert.match(badHeader.err, /--header takes "Name: value"/);
  const badTimeout = await run(
    "mcp",
    "http",
    "--room",
    "r",
    "--url",
    "http://x/mcp",
    "--timeout",
    "0",
  );
  assert.notEqual(badTimeout.code, 0);
  assert.match(badTimeout.err, /--timeout must be a positive number/);
});
