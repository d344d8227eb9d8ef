// VoiceBot end to end with an in-memory call (no LiveKit server is installable here): a person in
// a real room sends voice_call; the bot gets the LiveKit connection info from the room and joins;
// speech made by espeak-ng goes in as 20 ms frames; OpenAISpeechToText uploads the utterance to
// the fake OpenAI server, OpenAIResponsesAdapter calls a tool and answers, OpenAITextToSpeech
// speaks it (espeak-ng again, behind the fake's /v1/audio/speech); the transcript document holds
// both sides. A failing speech endpoint leaves the answer in the transcript and the call going.
import assert from "node:assert/strict";
import { InMemoryVoiceTransport, pcmFromBytes, VoiceBot } from "@meshagent/agents";
import {
  OpenAIResponsesAdapter,
  OpenAISpeechToText,
  OpenAITextToSpeech,
} from "@meshagent/adapters/openai";
import { FakeOpenAIServer } from "@meshagent/adapters/openai/testing";
import { startTestServer } from "@meshagent/server/testing";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import { speech } from "./testdata/speech.ts";

const LIVEKIT = {
  url: "wss://media.example.test",
  apiKey: "APIdevkey",
  apiSecret: "a-secret-of-at-least-thirty-two-chars!",
};

const added: number[][] = [];
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
      run: (_ctx, { a, b }) => {
        added.push([a, b]);
        return { sum: a + b };
      },
    }),
  ],
});

async function until<T>(check: () => T | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("VoiceBot: spoken question in, a tool call, a spoken answer out, the transcript kept", async () => {
  const question = pcmFromBytes(await speech("what is two plus three"));
  const answerSpeech = await speech("Two plus three is five.");
  let speakCalls = 0;
  await using openai = await FakeOpenAIServer.start({
    replies: [
      { toolCalls: [{ namespace: "math", name: "add", arguments: { a: 2, b: 3 }, callId: "c1" }] },
      { text: "Two plus three is five." },
      { text: "You are welcome." },
    ],
    audio: {
      transcribe: (r) => {
        const samples = (r.file.length - 44) / 2;
        // The whole utterance arrives as one WAV: at least the speech, at most speech + a second.
        if (samples < question.samples.length || samples > question.samples.length + 24000) {
          return `unexpected upload of ${samples} samples`;
        }
        return openai.audioRequests.filter((a) => a.kind === "transcription").length === 1
          ? "what is two plus three"
          : "thank you";
      },
      speak: (r) =>
        ++speakCalls === 2
          ? { error: { status: 500, message: "speech is down" } }
          : r.input === "Two plus three is five."
          ? answerSpeech
          : new Uint8Array(480),
    },
  });
  const server = await startTestServer({ server: { livekit: LIVEKIT } });
  await using _closeServer = { [Symbol.asyncDispose]: () => server.close() };
  const agentRoom = await server.connect("office", "voice-agent");
  const user = await server.connect("office", "ada");
  const transport = new InMemoryVoiceTransport();
  const lines: string[] = [];
  const client = { baseURL: openai.baseURL, apiKey: "test-key" };
  const bot = new VoiceBot({
    name: "voice-agent",
    llmAdapter: new OpenAIResponsesAdapter(client),
    stt: new OpenAISpeechToText(client),
    tts: new OpenAITextToSpeech(client),
    transport,
    toolkits: [math],
    rules: ["Answer in one short sentence."],
    log: (line) => lines.push(line),
  });
  try {
    await bot.start({ room: agentRoom });
    await user.messaging.enable();
    const agent = await until(
      () => user.messaging.getParticipantByName("voice-agent"),
      "the agent online",
    );
    await user.messaging.sendMessage({
      to: agent,
      type: "voice_call",
      message: { breakout_room: "call-7", transcript_path: "calls/7.transcript" },
    });
    const call = await transport.waitForCall();
    const ada = { id: user.localParticipant!.id, name: "ada" };
    call.speak(question, ada);
    call.silence(800, ada);
    const [said] = await call.waitForPlayed(1);
    assert.deepEqual(said.samples, pcmFromBytes(answerSpeech).samples);
    assert.deepEqual(added, [[2, 3]]);

    // The second answer's speech fails: it stays in the transcript, the call goes on.
    call.speak(question, ada);
    call.silence(800, ada);
    await until(() => lines.some((l) => /speech is down/.test(l)), "the TTS failure reported");
    call.hangUp();
    await until(() => bot.activeCalls.length === 0, "the call to end");

    const speechRequests = openai.audioRequests.flatMap((a) => a.kind === "speech" ? [a] : []);
    assert.deepEqual(speechRequests.map((a) => a.request.voice), ["echo", "echo"]);
    const model = openai.requests.map((r) => r.body.instructions);
    assert.match(String(model[0]), /one short sentence/);

    const doc = await user.sync.open("calls/7.transcript", { create: false });
    try {
      await until(() => doc.root.children.length === 4, "four transcript lines");
      assert.deepEqual(
        doc.root.children.map((e) => [e.getAttribute("participant_name"), e.getAttribute("text")]),
        [
          ["ada", "what is two plus three"],
          ["voice-agent", "Two plus three is five."],
          ["ada", "thank you"],
          ["voice-agent", "You are welcome."],
        ],
      );
    } finally {
      await user.sync.close("calls/7.transcript");
    }
  } finally {
    await bot.stop();
    await user.dispose();
    await agentRoom.dispose();
  }
});
