// A chat agent: answers anyone who talks to it in the room, keeps each conversation as a thread
// document in the room, and can use the room's files. With the server running (`deno task start`):
//
//   OPENAI_BASE_URL=http://127.0.0.1:11434/v1 OPENAI_MODEL=llama3.2 \
//     deno run -A cli/main.ts room connect --room demo --identity assistant -- deno run -A examples/chat_agent.ts
//   deno run -A cli/main.ts chat --room demo --agent assistant
//
// Any OpenAI-compatible server works (Ollama, vLLM, llama.cpp: Chat Completions); for OpenAI itself
// set OPENAI_API_KEY and use OpenAIResponsesAdapter instead.
import { LLMAgent } from "@meshagent/agents";
import { OpenAICompletionsAdapter } from "@meshagent/adapters/openai";
import { StorageToolkit } from "@meshagent/tools";

const agent = new LLMAgent({
  name: "assistant",
  llmAdapter: new OpenAICompletionsAdapter(), // the model from OPENAI_MODEL
  rules: ["You are a helpful assistant in a MeshAgent room. Answer briefly."],
  turnToolkits: [new StorageToolkit({ readOnly: true })],
});
await agent.run(); // until Ctrl-C or the room closes
