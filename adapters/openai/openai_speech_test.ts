// OpenAISpeechToText / OpenAITextToSpeech through the real `openai` client against the fake
// server's audio endpoints: a multipart WAV upload, PCM speech, errors as LLMErrors naming them.
import assert from "node:assert/strict";
import { LLMError, pcmToBytes } from "@meshagent/agents";
import { OpenAISpeechToText, OpenAITextToSpeech } from "./mod.ts";
import { FakeOpenAIServer } from "./testing.ts";

const audio = {
  samples: Int16Array.from({ length: 4800 }, (_, i) => (i * 37) % 2000 - 1000),
  sampleRate: 24000,
};

Deno.test("OpenAISpeechToText: uploads the utterance as a WAV file, reads the text", async () => {
  await using server = await FakeOpenAIServer.start({
    audio: { transcribe: (r) => (r.fileName === "speech.wav" ? "two plus three" : "wrong file") },
  });
  const stt = new OpenAISpeechToText({ baseURL: server.baseURL, apiKey: "k", language: "en" });
  assert.equal(await stt.transcribe(audio), "two plus three");
  const [got] = server.audioRequests;
  assert(got.kind === "transcription");
  assert.equal(got.request.model, "gpt-4o-mini-transcribe");
  assert.equal(got.request.language, "en");
  assert.equal(new TextDecoder().decode(got.request.file.subarray(0, 4)), "RIFF");
  assert.equal(new DataView(got.request.file.buffer).getUint32(24, true), 24000);
  assert.deepEqual(got.request.file.subarray(44), pcmToBytes(audio));
});

Deno.test("OpenAITextToSpeech: asks for PCM in the voice given, returns 24 kHz samples", async () => {
  const said = new Uint8Array([1, 0, 2, 0, 0xff, 0xff]);
  await using server = await FakeOpenAIServer.start({ audio: { speak: () => said } });
  const tts = new OpenAITextToSpeech({ baseURL: server.baseURL, apiKey: "k" });
  const out = await tts.synthesize("five", { voice: "alloy" });
  assert.deepEqual([...out.samples], [1, 2, -1]);
  assert.equal(out.sampleRate, 24000);
  const [got] = server.audioRequests;
  assert(got.kind === "speech");
  assert.deepEqual(
    [got.request.input, got.request.voice, got.request.responseFormat, got.request.model],
    ["five", "alloy", "pcm", "gpt-4o-mini-tts"],
  );
  // The default fake speech: 20 ms of tone per character.
  await using plain = await FakeOpenAIServer.start();
  const tone = await new OpenAITextToSpeech({ baseURL: plain.baseURL, apiKey: "k" }).synthesize(
    "abc",
  );
  assert.equal(tone.samples.length, 3 * 480);
  assert.equal(
    plain.audioRequests[0].kind === "speech" && plain.audioRequests[0].request.voice,
    "echo",
  );
});

Deno.test("speech providers: provider errors are LLMErrors naming the endpoint and status", async () => {
  await using server = await FakeOpenAIServer.start({
    audio: {
      transcribe: () => ({ error: { status: 500, message: "transcriber down" } }),
      speak: () => ({ error: { status: 429, message: "slow down" } }),
    },
  });
  const options = { baseURL: server.baseURL, apiKey: "k" };
  await assert.rejects(
    new OpenAISpeechToText(options).transcribe(audio),
    (e: unknown) =>
      e instanceof LLMError && e.status === 500 &&
      /OpenAI speech to text.*500.*transcriber down/.test(e.message),
  );
  await assert.rejects(
    new OpenAITextToSpeech(options).synthesize("x"),
    (e: unknown) =>
      e instanceof LLMError && e.code === "rate_limited" &&
      /OpenAI text to speech.*429.*slow down/.test(e.message),
  );
  await server.close();
  await assert.rejects(
    new OpenAITextToSpeech(options).synthesize("x"),
    (e: unknown) => e instanceof LLMError && /cannot reach the server/.test(e.message),
  );
});
