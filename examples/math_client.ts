// Calls the `math-toolkit` hosted by examples/math_toolkit_agent.ts and prints the result.
// With the server (`deno task start`) and the agent running, run it from the repository root:
//
//   deno run -A cli/main.ts room connect --room demo --identity caller -- deno run -A examples/math_client.ts
//
// It prints the toolkits it sees and `5 + 7 = 12`. Other operations and operands:
// `… examples/math_client.ts --tool divide --a 1 --b 0` (prints the tool's error, exits 1).
// Without `room connect`, pass the room and a token yourself:
// `deno run -A examples/math_client.ts --room demo --api-url http://127.0.0.1:8078 --token <jwt>`.
import { parseArgs } from "node:util";
import { JsonContent, RoomClient, roomConnectionFromEnv, RoomError } from "@meshagent/api";

const SYMBOLS: Record<string, string> = { add: "+", subtract: "-", multiply: "*", divide: "/" };

const { values } = parseArgs({
  options: {
    room: { type: "string" },
    "api-url": { type: "string" },
    token: { type: "string" },
    tool: { type: "string", default: "add" },
    a: { type: "string", default: "5" },
    b: { type: "string", default: "7" },
  },
});
const tool = values.tool;
const a = Number(values.a);
const b = Number(values.b);
if (!(tool in SYMBOLS) || !Number.isFinite(a) || !Number.isFinite(b)) {
  console.error("usage: math_client.ts [--tool add|subtract|multiply|divide] [--a N] [--b N]");
  Deno.exit(2);
}

// Flags win over the environment that `meshagent room connect` sets.
const { url, token } = await roomConnectionFromEnv({
  roomName: values.room,
  apiUrl: values["api-url"],
  env: (name) => name === "MESHAGENT_TOKEN" && values.token ? values.token : Deno.env.get(name),
});
await using room = new RoomClient({ url, token, reconnectTimeout: 0 });
await room.start({ timeout: 10_000 });

const toolkits = await room.agents.listToolkits();
console.log(`toolkits in room ${room.roomName}: ${toolkits.map((t) => t.name).join(", ")}`);
if (!toolkits.some((t) => t.name === "math-toolkit")) {
  console.error("math-toolkit is not in the room: start examples/math_toolkit_agent.ts first");
  Deno.exitCode = 1;
} else {
  try {
    const result = await room.agents.invokeTool({
      toolkit: "math-toolkit",
      tool,
      arguments: { a, b },
    });
    const value = result instanceof JsonContent
      ? (result.json as { result?: unknown }).result
      : result;
    console.log(`${a} ${SYMBOLS[tool]} ${b} = ${value}`);
  } catch (e) {
    if (!(e instanceof RoomError)) throw e;
    console.error(`error: ${tool} failed: ${e.message}`);
    Deno.exitCode = 1;
  }
}
