// Realtime voice without LiveKit: a person sends speech (made by espeak-ng) to an agent in a real
// room as `meshagent.agent.realtime_audio.chunk` messages (PCM in the attachment) and a commit; the
// agent's OpenAIRealtimeAdapter talks to the fake Realtime API on loopback, calls a tool, and
// answers with a transcript and audio; the turn is stored in the thread.
import assert from "node:assert/strict";
import {
  type AgentMessage,
  AgentSupervisor,
  MessagingChatChannel,
  MessagingChatClient,
} from "@meshagent/agents";
import { OpenAIRealtimeAdapter } from "@meshagent/adapters/openai";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer } from "@meshagent/server/testing";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import { speech } from "./testdata/speech.ts";

const math = new Toolkit({
  name: "math",
  tools: [
    new FunctionTool<{ a: number; b: number }>({
      name: "add",
      inputSchema: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number" } },
        required: ["a", "b"],
      },
      run: (_ctx, { a, b }) => ({ sum: a + b }),
    }),
  ],
});

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

Deno.test("realtime voice: spoken input in, transcript and audio out, the turn kept in the thread", async () => {
  const question = await speech("what is two plus three");
  const answer = await speech("five");
  const server = await startTestServer();
  await using _closeServer = { [Symbol.asyncDispose]: () => server.close() };
  await using openai = await FakeOpenAIServer.start({
    realtime: {
      transcribe: (audio) =>
        audio.length === question.length && audio.every((b, i) => b === question[i])
          ? "what is two plus three"
          : `unexpected audio (${audio.length} bytes)`,
      replies: [
        { toolCalls: [{ name: "add", arguments: { a: 2, b: 3 }, callId: "call_add" }] },
        { transcript: "Two plus three is five.", audio: answer, audioChunks: 4 },
      ],
    },
  });
  const agentRoom = await server.connect("voice", "voice-agent");
  const supervisor = new AgentSupervisor({
    agentName: "voice-agent",
    room: agentRoom,
    adapters: new OpenAIRealtimeAdapter({ baseURL: openai.baseURL, apiKey: "test-key" }),
    rules: ["Answer in one short sentence."],
    toolkits: [math],
    builtinTurnToolkits: false,
  });
  await supervisor.start([new MessagingChatChannel({ room: agentRoom })]);
  const user = await server.connect("voice", "ada");
  try {
    const chat = await MessagingChatClient.connect({ room: user, agentName: "voice-agent" });
    const thread = await chat.startThread("voice");
    const got: AgentMessage[] = [];
    const off = chat.listen((m) => got.push(m));
    // 100 ms of PCM per chunk, as a microphone would send it.
    for (let offset = 0; offset < question.length; offset += 4800) {
      await chat.send(
        "realtime_audio.chunk",
        { thread_id: thread, format: { type: "audio/pcm", sample_rate: 24000 } },
        question.subarray(offset, offset + 4800),
      );
    }
    await chat.send("realtime_audio.commit", { thread_id: thread });
    await until(() => got.some((m) => m.type === "meshagent.agent.turn.ended"), "the spoken turn");
    off();

    const [session] = openai.realtimeSessions;
    assert.equal(session.model, "gpt-realtime");
    assert.equal(session.headers.authorization, "Bearer test-key");
    const update = session.events.find((e) => e.type === "session.update")!;
    assert.equal(
      (update.session as Record<string, unknown>).instructions,
      "Answer in one short sentence.",
    );
    // The agent sent the speech exactly as spoken, then the tool's output back to the model.
    assert.equal(session.commits.length, 1);
    assert.deepEqual(session.commits[0], question);
    const output = session.events.find((e) =>
      e.type === "conversation.item.create" &&
      (e.item as Record<string, unknown>).type === "function_call_output"
    );
    assert.deepEqual(output?.item, {
      type: "function_call_output",
      call_id: "call_add",
      output: '{"sum":5}',
    });

    const kinds = got.map((m) => m.type.replace("meshagent.agent.", ""));
    const heard = got.find((m) => m.type.endsWith("audio_transcription.completed"))!;
    assert.equal(heard.role, "user");
    assert.equal(heard.text, "what is two plus three");
    assert.ok(kinds.includes("tool_call.ended"), kinds.join(" "));
    const said = got.filter((m) => m.type.endsWith("text_content.delta")).map((m) => m.text).join(
      "",
    );
    assert.equal(said, "Two plus three is five.");
    const audio = got.filter((m) => m.type.endsWith("audio_generation.delta"));
    assert.equal(audio.length, 4);
    assert.ok(audio.every((m) => m.data instanceof Uint8Array));
    assert.deepEqual(concat(audio.map((m) => m.data as Uint8Array)), answer);
    const ended = got.find((m) => m.type.endsWith("turn.ended"))!;
    assert.equal(ended.error, undefined);

    // The turn is in the thread: a late opener replays the transcripts, not the audio bytes.
    await supervisor.idle(thread);
    const replay = await chat.openThread(thread);
    const stored = replay.map((m) => m.type.replace("meshagent.agent.", ""));
    for (
      const kind of [
        "turn.start",
        "audio_transcription.completed",
        "tool_call.ended",
        "text_content.ended",
        "turn.ended",
      ]
    ) {
      assert.ok(stored.includes(kind), `${kind} not stored: ${stored.join(" ")}`);
    }
    assert.ok(!stored.includes("audio_generation.delta"));
    const text = replay.find((m) => m.type.endsWith("text_content.ended"));
    assert.equal(text?.text, "Two plus three is five.");
    chat.close();
  } finally {
    await supervisor.stop();
    await user.dispose();
    await agentRoom.dispose();
  }
});
