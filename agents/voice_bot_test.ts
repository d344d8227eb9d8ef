// VoiceBot in a real room with an in-memory call: voice_call → livekit connection info → join;
// utterances found by the energy endpointing go through STT → model (with a tool) → TTS; the
// transcript document holds both sides; bad calls and failing providers are answered or
// reported and the agent keeps working.
import assert from "node:assert/strict";
import { TokenVerifier } from "livekit-server-sdk";
import type { RoomClient, RoomMessage } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import { FunctionTool, Toolkit } from "@meshagent/tools";
import {
  EnergyVad,
  InMemoryVoiceTransport,
  type PcmAudio,
  ScriptedLLMAdapter,
  type SpeechToText,
  type TextToSpeech,
  VoiceBot,
} from "./mod.ts";
import { collectingLog, eventually } from "./testdata/eventually.ts";

const LIVEKIT = {
  url: "wss://media.example.test",
  apiKey: "APIdevkey",
  apiSecret: "a-secret-of-at-least-thirty-two-chars!",
};
const RATE = 24000;

/** A tone of `ms` (speech to the energy detector), its loudness tagging which "words" it says. */
function tone(ms: number, amplitude = 8000): PcmAudio {
  const samples = new Int16Array(Math.round(RATE * ms / 1000));
  for (let i = 0; i < samples.length; i++) {
    samples[i] = Math.round(amplitude * Math.sin(2 * Math.PI * 220 * i / RATE));
  }
  return { samples, sampleRate: RATE };
}

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

interface Setup {
  server: TestServer;
  agentRoom: RoomClient;
  user: RoomClient;
  transport: InMemoryVoiceTransport;
  bot: VoiceBot;
  received: RoomMessage[];
  log: ReturnType<typeof collectingLog>;
  close(): Promise<void>;
}

async function setup(options: {
  stt: SpeechToText;
  tts: TextToSpeech;
  llm?: ScriptedLLMAdapter;
  livekit?: boolean;
  autoGreetMessage?: string;
}): Promise<Setup> {
  const server = await startTestServer({
    server: { livekit: options.livekit === false ? { env: () => undefined } : LIVEKIT },
  });
  const agentRoom = await server.connect("office", "voice-agent");
  const user = await server.connect("office", "ada");
  const transport = new InMemoryVoiceTransport();
  const log = collectingLog();
  const bot = new VoiceBot({
    name: "voice-agent",
    llmAdapter: options.llm ?? new ScriptedLLMAdapter(() => ({ text: "fine" })),
    stt: options.stt,
    tts: options.tts,
    transport,
    toolkits: [math],
    rules: ["answer briefly"],
    autoGreetMessage: options.autoGreetMessage,
    log: log.log,
  });
  await bot.start({ room: agentRoom });
  const received: RoomMessage[] = [];
  user.on("message", (m) => received.push(m));
  await user.messaging.enable();
  await eventually(() => user.messaging.getParticipantByName("voice-agent"), "the agent online");
  return {
    server,
    agentRoom,
    user,
    transport,
    bot,
    received,
    log,
    async close() {
      await bot.stop();
      await user.dispose();
      await agentRoom.dispose();
      await server.close();
    },
  };
}

async function call(s: Setup, message: Record<string, string>): Promise<void> {
  const to = s.user.messaging.getParticipantByName("voice-agent")!;
  await s.user.messaging.sendMessage({ to, type: "voice_call", message });
}

const silentTts: TextToSpeech = {
  synthesize: (text) => Promise.resolve(tone(10 * text.length, 1000)),
};

Deno.test("EnergyVad: two phrases apart by silence are two utterances; a click is none", () => {
  const vad = new EnergyVad({ silenceMs: 300 });
  const out = [
    ...vad.push(tone(20)), // a click, too short to be speech
    ...vad.push(
      tone(0).samples.length ? tone(0) : { samples: new Int16Array(RATE), sampleRate: RATE },
    ),
    ...vad.push(tone(400)),
    ...vad.push({ samples: new Int16Array(RATE / 2), sampleRate: RATE }),
    ...vad.push(tone(300)),
  ];
  assert.equal(out.length, 1);
  assert(out[0].samples.length >= tone(400).samples.length);
  const last = vad.flush();
  assert(last && last.samples.length >= tone(300).samples.length);
  assert.equal(vad.flush(), null);
});

Deno.test("VoiceBot: answers a voice_call, hears, calls a tool, speaks, keeps the transcript", async () => {
  const heard: number[] = [];
  const llm = new ScriptedLLMAdapter((context) => {
    if ((context.items.at(-1) as { kind: string }).kind === "user") {
      return { toolCalls: [{ toolkit: "math", tool: "add", arguments: { a: 2, b: 3 } }] };
    }
    const last = JSON.stringify(context.items.at(-1));
    return { text: /sum[^0-9]+5/.test(last) ? "Two plus three is five." : `no sum in ${last}` };
  });
  const s = await setup({
    llm,
    stt: {
      transcribe: (audio) => {
        heard.push(audio.samples.length);
        return Promise.resolve("what is two plus three");
      },
    },
    tts: silentTts,
    autoGreetMessage: "Hello, how can I help?",
  });
  try {
    assert.equal(
      s.user.messaging.getParticipantByName("voice-agent")?.getAttribute("supports_voice"),
      true,
    );
    await call(s, { breakout_room: "call-1", transcript_path: "calls/1.transcript" });
    const phone = await s.transport.waitForCall();
    assert.equal(phone.request.url, LIVEKIT.url);
    assert.equal(phone.request.breakoutRoom, "call-1");
    const claims = await new TokenVerifier(LIVEKIT.apiKey, LIVEKIT.apiSecret).verify(
      phone.request.token,
    );
    assert.equal(claims.video?.room, "office--call-1");
    assert.equal(claims.name, "voice-agent");

    const ada = { id: s.user.localParticipant!.id };
    phone.speak(tone(600), ada);
    phone.silence(800, ada);
    const played = await phone.waitForPlayed(2); // the greeting, then the answer
    assert.equal(
      played[1].samples.length,
      tone(10 * "Two plus three is five.".length).samples.length,
    );
    assert.equal(heard.length, 1);
    assert(heard[0] >= tone(600).samples.length, `utterance of ${heard[0]} samples`);

    phone.hangUp();
    await eventually(() => s.bot.activeCalls.length === 0, "the call to end");
    assert.equal(phone.closed, true);
    const doc = await s.user.sync.open("calls/1.transcript", { create: false });
    await eventually(() => doc.root.children.length === 3, "three transcript lines");
    assert.equal(doc.root.getAttribute("breakout_room"), "call-1");
    assert.deepEqual(
      doc.root.children.map((
        e,
      ) => [e.getAttribute("role"), e.getAttribute("participant_name"), e.getAttribute("text")]),
      [
        ["agent", "voice-agent", "Hello, how can I help?"],
        ["user", "ada", "what is two plus three"],
        ["agent", "voice-agent", "Two plus three is five."],
      ],
    );
    await s.user.sync.close("calls/1.transcript");
  } finally {
    await s.close();
  }
});

Deno.test("VoiceBot: a voice_call without a breakout room, or without LiveKit, is answered voice_call_failed", async () => {
  const s = await setup({
    stt: { transcribe: () => Promise.resolve("x") },
    tts: silentTts,
    livekit: false,
  });
  try {
    await call(s, { transcript_path: "calls/x.transcript" });
    const first = await eventually(
      () => s.received.find((m) => m.type === "voice_call_failed"),
      "voice_call_failed",
    );
    assert.match(String(first.message.error), /breakout_room/);
    await call(s, { breakout_room: "call-2" });
    const second = await eventually(
      () => s.received.filter((m) => m.type === "voice_call_failed")[1],
      "a second voice_call_failed",
    );
    assert.equal(second.message.breakout_room, "call-2");
    assert.match(String(second.message.error), /LIVEKIT_URL/);
    assert.equal(s.transport.calls.length, 0);
    assert.equal(s.bot.isRunning, true);
  } finally {
    await s.close();
  }
});

Deno.test("VoiceBot: the media server down is answered voice_call_failed naming it", async () => {
  const s = await setup({ stt: { transcribe: () => Promise.resolve("x") }, tts: silentTts });
  try {
    s.transport.failJoin = new Error("could not reach wss://media.example.test");
    await call(s, { breakout_room: "call-3" });
    const failed = await eventually(
      () => s.received.find((m) => m.type === "voice_call_failed"),
      "voice_call_failed",
    );
    assert.match(String(failed.message.error), /call-3.*media\.example\.test/);
    await eventually(() => s.bot.activeCalls.length === 0, "no call left");
  } finally {
    await s.close();
  }
});

Deno.test("VoiceBot: failing STT skips an utterance, failing TTS keeps the answer in the transcript; the call goes on", async () => {
  let sttCalls = 0;
  let ttsCalls = 0;
  const s = await setup({
    stt: {
      transcribe: () => {
        sttCalls++;
        return sttCalls === 1
          ? Promise.reject(new Error("speech to text: the server answered 500"))
          : Promise.resolve(`utterance ${sttCalls}`);
      },
    },
    tts: {
      synthesize: (text) => {
        ttsCalls++;
        return ttsCalls === 1
          ? Promise.reject(new Error("text to speech: the server answered 429"))
          : silentTts.synthesize(text);
      },
    },
    llm: new ScriptedLLMAdapter((context) => ({
      text: `you said ${(context.items.at(-1) as { text: string }).text}`,
    })),
  });
  try {
    await call(s, { breakout_room: "call-4", transcript_path: "calls/4.transcript" });
    const phone = await s.transport.waitForCall();
    const ada = { id: s.user.localParticipant!.id, name: "ada" };
    for (let i = 0; i < 3; i++) {
      phone.speak(tone(300), ada);
      phone.silence(700, ada);
    }
    phone.hangUp();
    await eventually(() => s.bot.activeCalls.length === 0, "the call to end");
    assert.equal(sttCalls, 3);
    assert.equal(phone.played.length, 1); // the first answer failed TTS, the second was said
    assert(
      s.log.lines.some((l) => /call-4: speech to text failed.*500/.test(l)),
      s.log.lines.join("\n"),
    );
    assert(s.log.lines.some((l) => /call-4: could not say "you said utterance 2".*429/.test(l)));
    const doc = await s.user.sync.open("calls/4.transcript", { create: false });
    await eventually(() => doc.root.children.length === 4, "four transcript lines");
    assert.deepEqual(doc.root.children.map((e) => e.getAttribute("text")), [
      "utterance 2",
      "you said utterance 2",
      "utterance 3",
      "you said utterance 3",
    ]);
    await s.user.sync.close("calls/4.transcript");
  } finally {
    await s.close();
  }
});
