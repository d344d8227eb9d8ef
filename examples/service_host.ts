// A ServiceHost with one agent and one toolkit, as a plain `fetch` handler: run it with
// `deno serve` (or deploy it to Deno Deploy as is), and the room server calls its paths into rooms.
//
//   deno task start --webhook-secret s3cret          # terminal 1: the room server
//   MESHAGENT_WEBHOOK_SECRET=s3cret OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 \
//     deno serve -A --port 8000 examples/service_host.ts   # terminal 2: the services
//
//   # terminal 3: call them into room demo, use them, dismiss one
//   deno run -A cli/main.ts call --room demo --name assistant --url http://127.0.0.1:8000/assistant
//   deno run -A cli/main.ts call --room demo --name math-tools --url http://127.0.0.1:8000/math
//   deno run -A cli/main.ts room agents invoke-tool --room demo --toolkit math-toolkit --tool add --arguments '{"a":5,"b":7}'
//   deno run -A cli/main.ts chat --room demo --agent assistant
//   deno run -A cli/main.ts room messaging send --room demo --to math-tools --type dismiss
//
// Or let `meshagent service run` start it and call every path in:
//   deno run -A cli/main.ts service run --room demo -- deno serve -A examples/service_host.ts
//
// Each call makes a new agent (the factory below) that runs until it is dismissed, its room
// connection closes, or the host stops. `GET /.well-known/meshagent-service.json` describes it.
import { ServiceHost } from "@meshagent/api";
import { LLMAgent, SingleRoomAgent } from "@meshagent/agents";
import { OpenAICompletionsAdapter } from "@meshagent/adapters/openai";
import { FunctionTool, Toolkit } from "@meshagent/tools";

const mathToolkit = new Toolkit({
  name: "math-toolkit",
  description: "Adds two numbers",
  public: true,
  tools: [
    new FunctionTool<{ a: number; b: number }>({
      name: "add",
      description: "Adds b to a",
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
        additionalProperties: false,
      },
      run: (_context, { a, b }) => ({ result: a + b }),
    }),
  ],
});

// Signatures are checked when a secret is set (the room server's --webhook-secret).
const secret = Deno.env.get("MESHAGENT_WEBHOOK_SECRET") || undefined;
const host = new ServiceHost({ secret, name: "example-services" });

host.addPath("/assistant", () =>
  new LLMAgent({
    name: "assistant",
    llmAdapter: new OpenAICompletionsAdapter(), // the model from OPENAI_MODEL
    rules: ["You are a helpful assistant in a MeshAgent room. Answer briefly."],
    threadStorage: "memory",
  }), { identity: "assistant", agent: { name: "assistant", description: "chats" } });

host.addPath("/math", () => new SingleRoomAgent({ name: "math-tools", toolkits: [mathToolkit] }), {
  identity: "math-tools",
});

export default { fetch: host.fetch } satisfies Deno.ServeDefaultExport;
