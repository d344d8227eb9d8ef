// The connection fuzz target's own checks, on planted bugs (a fuzzer that cannot fail is no test).
import assert from "node:assert/strict";
import { JsonContent, RoomError } from "@meshagent/api";
import { connectionTarget } from "./_fuzz_connection_target.ts";
import { type CorpusEntry, formatFindings, runFuzz } from "./_fuzz_runner.ts";
import type { RoomToolkit } from "./room_toolkit.ts";

const planted: RoomToolkit = {
  name: "planted",
  surface: "developer",
  tools: {
    // Parses client text without a guard: a SyntaxError reaches the client as "internal error".
    parse(ctx) {
      const json = (ctx.input as JsonContent).json as { text: string };
      return new JsonContent(JSON.parse(json.text));
    },
    // A stream that ignores its caller leaving: it never ends.
    forever() {
      return (async function* () {
        yield new JsonContent({ started: true });
        await new Promise(() => {});
      })();
    },
    typed() {
      throw new RoomError("a typed refusal is fine", 1002);
    },
  },
};

const plantedEntry = (tool: string, json: unknown): CorpusEntry => ({
  name: tool,
  source: "nasty",
  input: {
    steps: [{
      type: "room.invoke_tool",
      header: { toolkit: "planted", tool, arguments: { type: "json", json } },
    }],
  } as never,
});

Deno.test("fuzz connection: a planted parse bug is found by mutation", async () => {
  const target = connectionTarget({ extraToolkits: [() => planted] });
  const report = await runFuzz(target, [plantedEntry("parse", { text: '{"a":[1,2]}' })], {
    seed: 2,
    inputs: 300,
  });
  const messages = report.findings.map((f) => f.message).join("\n");
  assert.match(messages, /planted\.parse threw a non-RoomError: SyntaxError/);
});

Deno.test("fuzz connection: a stream that outlives its caller and typed errors", async () => {
  const target = connectionTarget({ extraToolkits: [() => planted], leaveTimeoutMs: 300 });
  const report = await runFuzz(
    target,
    [plantedEntry("forever", {}), plantedEntry("typed", {})],
    { seed: 1, inputs: 0 },
  );
  assert.equal(report.findings.length, 1, formatFindings(report));
  assert.equal(report.findings[0].where, "corpus forever");
  assert.match(report.findings[0].message, /still running 300 ms after the callers left/);
});
