// An LLM agent turn through the room, next to the same request made directly with the `openai`
// SDK, in one run; then many concurrent threads on one agent.
// Run: deno run -A bench/agent_turn_load.ts [--turns N] [--deltas D] [--delay MS] [--threads T]
//
// The model is the fake OpenAI server (adapters/openai/testing) answering every request with D
// text deltas, MS ms apart (a paced stream like a real model's; --delay 0 for a burst).
//
// (a) direct: `openai` SDK `responses.create({stream: true})` → fake server: time to the last
//     delta (turn) and to the first delta (first token).
// (b) room: a person's MessagingChatClient → room server → the agent (AgentSupervisor +
//     MessagingChatChannel + OpenAIResponsesAdapter, threads in memory) → fake server → back:
//     time from sending turn.start to turn.ended, and to the first text_content.delta.
//     Server, agent and person share this process (as (a) shares it with the fake server).
// (c) T threads at once on one agent (threads in room documents, as `process join` keeps them):
//     turns/s over R rounds and the process's RSS before and after.
import { parseArgs } from "node:util";
import OpenAI from "openai";
import {
  AgentSupervisor,
  DocumentThreadStorageRepository,
  MemoryThreadStorageRepository,
  MessagingChatChannel,
  MessagingChatClient,
  type ThreadStorageRepository,
} from "@meshagent/agents";
import { OpenAIResponsesAdapter } from "@meshagent/adapters/openai";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer } from "@meshagent/server/testing";
import { percentile } from "./_load_support.ts";

const { values } = parseArgs({
  options: {
    turns: { type: "string", default: "200" },
    deltas: { type: "string", default: "20" },
    delay: { type: "string", default: "5" },
    threads: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
  },
});
const TURNS = Number(values.turns);
const DELTAS = Number(values.deltas);
const DELAY = Number(values.delay);
const THREADS = Number(values.threads);
const ROUNDS = Number(values.rounds);

function rssMb(): number {
  return Deno.memoryUsage().rss / 1024 / 1024;
}

const fake = await FakeOpenAIServer.start({
  replies: () => ({
    text: Array.from({ length: DELTAS }, (_, i) => `word${i} `),
    delayMs: DELAY,
  }),
});

interface Sample {
  total: number;
  first: number;
}

function summary(samples: Sample[]) {
  const totals = samples.map((s) => s.total).sort((a, b) => a - b);
  const firsts = samples.map((s) => s.first).sort((a, b) => a - b);
  return {
    p50: percentile(totals, 50),
    p99: percentile(totals, 99),
    first50: percentile(firsts, 50),
    first99: percentile(firsts, 99),
  };
}

async function direct(n: number): Promise<Sample[]> {
  const client = new OpenAI({ baseURL: fake.baseURL, apiKey: "bench", maxRetries: 0 });
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    let first = 0;
    const stream = await client.responses.create({
      model: "gpt-bench",
      input: [{ role: "user", content: `question ${i}` }],
      stream: true,
    });
    for await (const event of stream) {
      if (event.type === "response.output_text.delta" && first === 0) {
        first = performance.now() - start;
      }
    }
    samples.push({ total: performance.now() - start, first });
  }
  return samples;
}

async function room(n: number): Promise<Sample[]> {
  const server = await startTestServer();
  const agentRoom = await server.connect("bench", "agent");
  const supervisor = new AgentSupervisor({
    agentName: "agent",
    room: agentRoom,
    adapters: new OpenAIResponsesAdapter({
      baseURL: fake.baseURL,
      apiKey: "bench",
      model: "gpt-bench",
    }),
    threadStorage: new MemoryThreadStorageRepository("bench"),
    builtinTurnToolkits: false,
  });
  await supervisor.start([new MessagingChatChannel({ room: agentRoom })]);
  const person = await server.connect("bench", "person");
  const chat = await MessagingChatClient.connect({ room: person, agentName: "agent" });
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < n; i++) {
      // A fresh thread per turn, as (a) sends no history.
      const thread = await chat.startThread();
      const start = performance.now();
      let first = 0;
      const turn = await chat.startTurn(thread, `question ${i}`);
      for await (const event of turn.events) {
        if (event.type === "meshagent.agent.text_content.delta" && first === 0) {
          first = performance.now() - start;
        }
      }
      samples.push({ total: performance.now() - start, first });
    }
  } finally {
    chat.close();
    await person.dispose();
    await supervisor.stop();
    await agentRoom.dispose();
    await server.close();
  }
  return samples;
}

async function concurrent(threads: number, rounds: number, durable: boolean) {
  const server = await startTestServer();
  const agentRoom = await server.connect("many", "agent");
  const repository: ThreadStorageRepository = durable
    ? new DocumentThreadStorageRepository({ room: agentRoom, agentName: "agent" })
    : new MemoryThreadStorageRepository("many");
  const supervisor = new AgentSupervisor({
    agentName: "agent",
    room: agentRoom,
    adapters: new OpenAIResponsesAdapter({
      baseURL: fake.baseURL,
      apiKey: "bench",
      model: "gpt-bench",
    }),
    threadStorage: repository,
  });
  await supervisor.start([new MessagingChatChannel({ room: agentRoom })]);
  const person = await server.connect("many", "person");
  const chat = await MessagingChatClient.connect({
    room: person,
    agentName: "agent",
    timeoutMs: 120_000,
  });
  const before = rssMb();
  let turns = 0;
  const ids = await Promise.all(Array.from({ length: threads }, () => chat.startThread()));
  const start = performance.now();
  try {
    for (let r = 0; r < rounds; r++) {
      await Promise.all(ids.map(async (id, i) => {
        const turn = await chat.startTurn(id, `round ${r} thread ${i}`);
        const done = await turn.done;
        if (done.error) throw new Error(done.error.message);
        turns++;
      }));
    }
  } finally {
    chat.close();
  }
  const seconds = (performance.now() - start) / 1000;
  const after = rssMb();
  await person.dispose();
  await supervisor.stop();
  await agentRoom.dispose();
  await server.close();
  return { turnsPerSecond: turns / seconds, before, after };
}

// warm-up (JIT, connections), then alternate the two paths
await direct(20);
await room(20);
const directSamples: Sample[] = [];
const roomSamples: Sample[] = [];
for (let round = 0; round < 3; round++) {
  directSamples.push(...await direct(Math.ceil(TURNS / 3)));
  roomSamples.push(...await room(Math.ceil(TURNS / 3)));
}
const d = summary(directSamples);
const r = summary(roomSamples);
console.log(`turn: ${DELTAS} deltas ${DELAY} ms apart; ${directSamples.length} turns per path`);
console.log("path | turn p50 / p99 ms | first token p50 / p99 ms");
console.log(
  `direct SDK | ${d.p50.toFixed(2)} / ${d.p99.toFixed(2)} | ${d.first50.toFixed(2)} / ${
    d.first99.toFixed(2)
  }`,
);
console.log(
  `through the room | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} | ${r.first50.toFixed(2)} / ${
    r.first99.toFixed(2)
  }`,
);
console.log(
  `ratio (room / direct, p50): ${(r.p50 / d.p50).toFixed(3)}x; first token later by ` +
    `${(r.first50 - d.first50).toFixed(2)} ms (p50)`,
);
for (const durable of [false, true]) {
  const c = await concurrent(THREADS, ROUNDS, durable);
  console.log(
    `${THREADS} threads × ${ROUNDS} rounds (${
      durable ? "threads in room documents" : "threads in memory"
    }): ` +
      `${c.turnsPerSecond.toFixed(1)} turns/s; RSS ${c.before.toFixed(0)} → ${
        c.after.toFixed(0)
      } MB`,
  );
}
await fake.close();
