// A SingleRoomAgent that hosts a `math-toolkit` (add, subtract, multiply, divide) in a room.
// With the server running (`deno task start`), run it from the repository root:
//
//   deno run -A cli/main.ts room connect --room demo --identity math-tools -- deno run -A examples/math_toolkit_agent.ts
//
// then call it from another terminal (or run examples/math_client.ts):
//
//   deno run -A cli/main.ts room agents invoke-tool --room demo --toolkit math-toolkit --tool add --arguments '{"a":5,"b":7}'
//
// `room connect` gives the program MESHAGENT_ROOM, MESHAGENT_TOKEN and MESHAGENT_API_URL; the
// agent connects from them, hosts its toolkit, and runs until Ctrl-C (SIGINT) or SIGTERM.
import { SingleRoomAgent, type SingleRoomAgentStartOptions } from "@meshagent/agents";
import { ErrorCode, FunctionTool, ToolError, Toolkit } from "@meshagent/tools";

/** The arguments of every math tool. */
interface Operands {
  a: number;
  b: number;
}

/** Two numbers, and nothing else: the schema the room and the host check before a call runs. */
const OPERANDS_SCHEMA = {
  type: "object",
  properties: {
    a: { type: "number", description: "the first operand" },
    b: { type: "number", description: "the second operand" },
  },
  required: ["a", "b"],
  additionalProperties: false,
};

function operation(
  name: string,
  description: string,
  compute: (a: number, b: number) => number,
): FunctionTool<Operands> {
  return new FunctionTool<Operands>({
    name,
    title: name,
    description,
    inputSchema: OPERANDS_SCHEMA,
    // A plain object result travels as a `json` content: {"result": 12}.
    run: (_context, { a, b }) => ({ result: compute(a, b) }),
  });
}

const mathToolkit = new Toolkit({
  name: "math-toolkit",
  title: "Math",
  description: "Basic arithmetic on two numbers",
  public: true, // other participants may list and call it
  tools: [
    operation("add", "Adds b to a", (a, b) => a + b),
    operation("subtract", "Subtracts b from a", (a, b) => a - b),
    operation("multiply", "Multiplies a by b", (a, b) => a * b),
    operation("divide", "Divides a by b", (a, b) => {
      if (b === 0) {
        // Thrown errors reach the caller as an `error` content with this text and code.
        throw new ToolError("cannot divide by zero: pass a non-zero b", ErrorCode.INVALID_REQUEST);
      }
      return a / b;
    }),
  ],
});

/** The agent: getExposedToolkits() is what it hosts in the room. */
class MathToolsAgent extends SingleRoomAgent {
  override getExposedToolkits(): Toolkit[] {
    return [mathToolkit];
  }

  override async start(options?: SingleRoomAgentStartOptions): Promise<void> {
    await super.start(options);
    console.error(
      `math-toolkit is ready in room ${this.room.roomName} (as ${this.name}); Ctrl-C to stop`,
    );
  }
}

if (import.meta.main) {
  const agent = new MathToolsAgent({
    title: "Math tools",
    description: "Adds, subtracts, multiplies and divides",
  });
  await agent.run();
  console.error("math-toolkit stopped");
}
