// Shared by the adapter tests: real toolkits and one response through an adapter.
import { FileContent } from "@meshagent/api";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import type {
  AgentEvent,
  LLMAdapter,
  LLMResponse,
  LLMResponseRequest,
  SessionItem,
} from "@meshagent/agents";

const numbers = {
  type: "object",
  properties: { a: { type: "number" }, b: { type: "number" } },
  required: ["a", "b"],
  additionalProperties: false,
};

/** What the tools were called with, by `<toolkit>.<tool>`. */
export const toolCalls: { name: string; args: unknown }[] = [];

/** `math` (add — strict, mul) and `calc` (add, which subtracts: tells the two apart). */
export function toolkits(): Toolkit[] {
  return [
    new Toolkit({
      name: "math",
      description: "Arithmetic",
      tools: [
        new FunctionTool<{ a: number; b: number }>({
          name: "add",
          description: "Adds two numbers",
          inputSchema: numbers,
          strict: true,
          run: (_ctx, args) => {
            toolCalls.push({ name: "math.add", args });
            return { sum: args.a + args.b };
          },
        }),
        new FunctionTool<{ a: number; b: number }>({
          name: "mul",
          description: "Multiplies two numbers",
          inputSchema: numbers,
          run: (_ctx, args) => {
            toolCalls.push({ name: "math.mul", args });
            return { product: args.a * args.b };
          },
        }),
        new FunctionTool({
          name: "pixel",
          description: "Returns a 1x1 PNG",
          inputSchema: { type: "object", properties: {} },
          run: () =>
            new FileContent(
              Uint8Array.from(atob("iVBORw0KGgo="), (c) => c.charCodeAt(0)),
              "pixel.png",
              "image/png",
            ),
        }),
      ],
    }),
    new Toolkit({
      name: "calc.v2",
      tools: [
        new FunctionTool<{ a: number; b: number }>({
          name: "add",
          description: "Subtracts, really",
          inputSchema: numbers,
          run: (_ctx, args) => {
            toolCalls.push({ name: "calc.add", args });
            return { difference: args.a - args.b };
          },
        }),
      ],
    }),
  ];
}

/** A response's outcome: the response or its error, the events, the context items. */
export interface Outcome {
  response?: LLMResponse;
  error?: unknown;
  events: AgentEvent[];
  items: SessionItem[];
}

/**
 * Runs one response to "go" (or the given items) and never throws.
 *
 * @param adapter The adapter.
 * @param extra More request fields.
 * @param items The context (default: one user message "go").
 * @returns The outcome.
 */
export async function run(
  adapter: LLMAdapter,
  extra: Partial<LLMResponseRequest> = {},
  items: SessionItem[] = [{ kind: "user", text: "go" }],
): Promise<Outcome> {
  const context = adapter.createSession(["Be brief.", "Use tools."]);
  for (const item of items) context.append(item);
  const events: AgentEvent[] = [];
  const outcome: Outcome = { events, items: context.items };
  try {
    outcome.response = await adapter.createResponse({
      context,
      caller: { id: "agent", attributes: {} },
      toolkits: [],
      ...extra,
      onEvent: (event) => {
        events.push(event);
        extra.onEvent?.(event);
      },
    });
  } catch (error) {
    outcome.error = error;
  }
  return outcome;
}

/** The event types, in order, without the repeated deltas. */
export function eventTypes(events: readonly AgentEvent[]): string[] {
  return events.map((e) => e.type).filter((type, i, all) =>
    !(type.endsWith("delta") && all[i - 1] === type)
  );
}

/** No environment (no OPENAI_* / MESHAGENT_* leaks in from the machine). */
export const noEnv = (): undefined => undefined;
