// A TaskRunner: a task with a JSON schema in and out, callable by anyone in the room as the tool
// `run_word-counter_task` of the toolkit `word-counter`. With the server running:
//
//   deno run -A cli/main.ts room connect --room demo --identity word-counter -- deno run -A examples/task_runner.ts
//   deno run -A cli/main.ts room agents invoke-tool --room demo --toolkit word-counter \
//     --tool run_word-counter_task --arguments '{"text":"the quick brown fox"}'
//   # {"words":4,"longest":"quick"}
import { type TaskContext, TaskRunner } from "@meshagent/agents";
import type { JsonObject } from "@meshagent/api";

class WordCounter extends TaskRunner {
  constructor() {
    super({
      name: "word-counter",
      description: "counts the words of a text and finds the longest",
      inputSchema: {
        type: "object",
        required: ["text"],
        additionalProperties: false,
        properties: { text: { type: "string", description: "the text to count" } },
      },
      outputSchema: {
        type: "object",
        required: ["words", "longest"],
        additionalProperties: false,
        properties: { words: { type: "integer" }, longest: { type: "string" } },
      },
    });
  }

  ask(_context: TaskContext, args: JsonObject): JsonObject {
    const words = String(args.text).split(/\s+/).filter((word) => word !== "");
    const longest = words.reduce((a, b) => (b.length > a.length ? b : a), "");
    return { words: words.length, longest };
  }
}

await new WordCounter().run();
