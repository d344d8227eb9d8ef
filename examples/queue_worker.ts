// A queue worker: takes jobs from the room queue `jobs`, runs a model with tools on each, and
// keeps each job's conversation as a thread document (.threads/…). With the server running:
//
//   OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 \
//     deno run -A cli/main.ts room connect --room demo --identity summarizer -- deno run -A examples/queue_worker.ts
//   deno run -A cli/main.ts room queue send --room demo --queue jobs --json '{"prompt":"Summarize notes/today.md"}'
//   deno run -A cli/main.ts process threads --room demo --agent-name summarizer --thread-dir .threads
import { Worker } from "@meshagent/agents";
import { OpenAICompletionsAdapter } from "@meshagent/adapters/openai";
import { StorageToolkit } from "@meshagent/tools";

const worker = new Worker({
  name: "summarizer",
  queue: "jobs",
  llmAdapter: new OpenAICompletionsAdapter(),
  rules: ["Read the files a job names and write a short summary."],
  toolkits: [new StorageToolkit({ readOnly: true })],
});
await worker.run();
