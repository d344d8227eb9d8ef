// The fake OpenAI server's audio endpoints, in their real wire formats:
// `POST /v1/audio/transcriptions` (a multipart upload; answers json, text or verbose_json) and
// `POST /v1/audio/speech` (JSON in; raw PCM16 24 kHz mono or WAV bytes out).

/** An upload to the fake transcription endpoint. */
export interface FakeTranscriptionRequest {
  /** The `model` field. */
  model: string;
  /** The uploaded file's name. */
  fileName: string;
  /** The uploaded file's bytes. */
  file: Uint8Array;
  /** The `language` field, if sent. */
  language?: string;
  /** The `response_format` field (default `json`). */
  responseFormat: string;
}

/** A request to the fake speech endpoint. */
export interface FakeSpeechRequest {
  /** The model. */
  model: string;
  /** The text to say. */
  input: string;
  /** The voice. */
  voice: string;
  /** `pcm` or `wav` (the only formats the fake makes; default `mp3` is refused with 400). */
  responseFormat: string;
  /** The instructions, if sent. */
  instructions?: string;
}

/** An error answer of an audio endpoint. */
export interface FakeAudioError {
  /** The HTTP status, message and code. */
  error: { status: number; message?: string; code?: string | null };
}

/** Options of the fake audio endpoints. */
export interface FakeAudioOptions {
  /**
   * What an upload "says" (default: `fake transcription of N bytes`), or an error to answer.
   */
  transcribe?: (
    request: FakeTranscriptionRequest,
  ) => string | FakeAudioError | Promise<string | FakeAudioError>;
  /**
   * The PCM16 24 kHz mono bytes of a speech request (default: a deterministic 440 Hz tone of
   * 20 ms per character), or an error to answer.
   */
  speak?: (
    request: FakeSpeechRequest,
  ) => Uint8Array | FakeAudioError | Promise<Uint8Array | FakeAudioError>;
}

/** A request one of the audio endpoints received. */
export type FakeAudioRequest =
  | { kind: "transcription"; request: FakeTranscriptionRequest }
  | { kind: "speech"; request: FakeSpeechRequest };

const RATE = 24000;

/**
 * The default speech: a 440 Hz tone, 20 ms per character of the input, as PCM16 LE bytes.
 *
 * @param input The text.
 * @returns The bytes.
 */
function fakeSpeechTone(input: string): Uint8Array {
  const count = Math.round(RATE * 0.02 * Math.max(1, input.length));
  const bytes = new Uint8Array(count * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    view.setInt16(i * 2, Math.round(6000 * Math.sin(2 * Math.PI * 440 * i / RATE)), true);
  }
  return bytes;
}

function wav(pcm: Uint8Array): Uint8Array {
  const out = new Uint8Array(44 + pcm.length);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + pcm.length, true);
  ascii(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, RATE, true);
  view.setUint32(28, RATE * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, pcm.length, true);
  out.set(pcm, 44);
  return out;
}

type Fail = (status: number, message: string, code?: string | null) => Response;

/**
 * Answers an audio request, or returns null when the path is not an audio endpoint.
 *
 * @param http The request.
 * @param path Its path without a trailing slash.
 * @param options The scripted answers.
 * @param record Keeps the request.
 * @param fail Makes an OpenAI-shaped error response.
 * @returns The response, or null.
 */
export async function serveAudio(
  http: Request,
  path: string,
  options: FakeAudioOptions,
  record: (request: FakeAudioRequest) => void,
  fail: Fail,
): Promise<Response | null> {
  if (http.method !== "POST") return null;
  if (path === "/v1/audio/transcriptions") return await transcription(http, options, record, fail);
  if (path === "/v1/audio/speech") return await speech(http, options, record, fail);
  return null;
}

async function transcription(
  http: Request,
  options: FakeAudioOptions,
  record: (request: FakeAudioRequest) => void,
  fail: Fail,
): Promise<Response> {
  if (!http.headers.get("content-type")?.startsWith("multipart/form-data")) {
    return fail(400, "Transcriptions take a multipart/form-data upload.");
  }
  let form: FormData;
  try {
    form = await http.formData();
  } catch {
    return fail(400, "We could not parse the multipart body of your request.");
  }
  const file = form.get("file");
  const model = form.get("model");
  if (!(file instanceof File)) return fail(400, "Missing required parameter: 'file'.");
  if (typeof model !== "string") return fail(400, "Missing required parameter: 'model'.");
  const language = form.get("language");
  const request: FakeTranscriptionRequest = {
    model,
    fileName: file.name,
    file: new Uint8Array(await file.arrayBuffer()),
    responseFormat: String(form.get("response_format") ?? "json"),
    ...(typeof language === "string" ? { language } : {}),
  };
  record({ kind: "transcription", request });
  const answer = options.transcribe
    ? await options.transcribe(request)
    : `fake transcription of ${request.file.length} bytes`;
  if (typeof answer !== "string") {
    return fail(answer.error.status, answer.error.message ?? `fake error ${answer.error.status}`);
  }
  if (request.responseFormat === "text") {
    return new Response(answer, { headers: { "content-type": "text/plain" } });
  }
  const body = request.responseFormat === "verbose_json"
    ? { task: "transcribe", language: request.language ?? "english", duration: 0, text: answer }
    : { text: answer };
  return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
}

async function speech(
  http: Request,
  options: FakeAudioOptions,
  record: (request: FakeAudioRequest) => void,
  fail: Fail,
): Promise<Response> {
  let body: Record<string, unknown>;
  try {
    body = await http.json();
  } catch {
    return fail(400, "We could not parse the JSON body of your request.");
  }
  if (typeof body.input !== "string") return fail(400, "Missing required parameter: 'input'.");
  if (typeof body.voice !== "string") return fail(400, "Missing required parameter: 'voice'.");
  const request: FakeSpeechRequest = {
    model: String(body.model ?? ""),
    input: body.input,
    voice: body.voice,
    responseFormat: String(body.response_format ?? "mp3"),
    ...(typeof body.instructions === "string" ? { instructions: body.instructions } : {}),
  };
  record({ kind: "speech", request });
  if (request.responseFormat !== "pcm" && request.responseFormat !== "wav") {
    return fail(
      400,
      `fake server: response_format ${request.responseFormat} is not made here (pcm, wav)`,
    );
  }
  const answer = options.speak ? await options.speak(request) : fakeSpeechTone(request.input);
  if (!(answer instanceof Uint8Array)) {
    return fail(answer.error.status, answer.error.message ?? `fake error ${answer.error.status}`);
  }
  const pcm = request.responseFormat === "pcm";
  return new Response((pcm ? answer : wav(answer)) as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": pcm ? "audio/pcm" : "audio/wav" },
  });
}
