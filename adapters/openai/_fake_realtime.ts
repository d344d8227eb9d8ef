// The Realtime API side of FakeOpenAIServer: one websocket session on `/v1/realtime?model=…`
// speaking the GA event names (session.update → session.updated, input_audio_buffer.append /
// commit, conversation.item.create, response.create → response.created, output items,
// response.output_audio.delta, response.output_audio_transcript.delta, response.done).
import type { JsonObject } from "@meshagent/api";

/** What the fake realtime model answers to one `response.create`. */
export interface FakeRealtimeReply {
  /** The spoken answer's transcript (sent as transcript deltas, in words). */
  transcript?: string;
  /** The spoken answer's audio (PCM16), sent in `audioChunks` deltas (default 3). */
  audio?: Uint8Array;
  /** How many `response.output_audio.delta` events carry `audio`. */
  audioChunks?: number;
  /** Function calls the model makes instead of (or after) speaking. */
  toolCalls?: { name: string; arguments: unknown; callId?: string }[];
}

/** One realtime session the fake server held: what the client sent. */
export interface FakeRealtimeSession {
  /** The model of the connection URL. */
  model: string;
  /** The handshake headers (lower-case names). */
  headers: Record<string, string>;
  /** Every client event, in order (`input_audio_buffer.append` with its `audio` base64). */
  events: JsonObject[];
  /** Each committed input audio buffer, decoded. */
  commits: Uint8Array[];
}

/** Scripts a realtime session. */
export interface FakeRealtimeOptions {
  /** The transcript of a committed audio buffer (default: `"<n> bytes of audio"`). */
  transcribe?: (audio: Uint8Array, session: FakeRealtimeSession) => string;
  /**
   * The replies to `response.create`, in order over all sessions, or a function of the session
   * (past the end: a short spoken "ok").
   */
  replies?: FakeRealtimeReply[] | ((session: FakeRealtimeSession) => FakeRealtimeReply);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Serves one realtime websocket.
 *
 * @param socket The upgraded socket.
 * @param session The record of the session (filled as events arrive).
 * @param options The script.
 * @param next The next scripted reply over all sessions.
 */
export function serveRealtime(
  socket: WebSocket,
  session: FakeRealtimeSession,
  options: FakeRealtimeOptions,
  next: () => FakeRealtimeReply | undefined,
): void {
  let buffer: Uint8Array[] = [];
  let ids = 0;
  const id = (prefix: string) => `${prefix}_${++ids}`;
  const send = (event: JsonObject) => {
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ event_id: id("event"), ...event }));
    }
  };
  socket.onopen = () =>
    send({ type: "session.created", session: { type: "realtime", model: session.model } });
  socket.onerror = () => {};
  socket.onmessage = (message) => {
    let event: JsonObject;
    try {
      event = JSON.parse(String(message.data));
    } catch {
      return send({
        type: "error",
        error: { type: "invalid_request_error", message: "invalid JSON" },
      });
    }
    session.events.push(event);
    switch (event.type) {
      case "session.update":
        return send({
          type: "session.updated",
          session: { type: "realtime", ...(event.session as JsonObject) },
        });
      case "input_audio_buffer.append":
        buffer.push(fromBase64(String(event.audio ?? "")));
        return;
      case "input_audio_buffer.clear":
        buffer = [];
        return send({ type: "input_audio_buffer.cleared" });
      case "input_audio_buffer.commit": {
        const audio = concat(buffer);
        buffer = [];
        if (audio.length === 0) {
          return send({
            type: "error",
            error: {
              type: "invalid_request_error",
              code: "input_audio_buffer_commit_empty",
              message: "buffer too small",
            },
          });
        }
        session.commits.push(audio);
        const itemId = id("item");
        send({ type: "input_audio_buffer.committed", item_id: itemId, previous_item_id: null });
        send({
          type: "conversation.item.added",
          item: {
            id: itemId,
            type: "message",
            role: "user",
            content: [{ type: "input_audio", transcript: null }],
          },
        });
        const transcript = options.transcribe?.(audio, session) ?? `${audio.length} bytes of audio`;
        send({
          type: "conversation.item.input_audio_transcription.delta",
          item_id: itemId,
          content_index: 0,
          delta: transcript,
        });
        return send({
          type: "conversation.item.input_audio_transcription.completed",
          item_id: itemId,
          content_index: 0,
          transcript,
        });
      }
      case "conversation.item.create":
        return send({
          type: "conversation.item.added",
          item: { id: id("item"), ...(event.item as JsonObject) },
        });
      case "response.cancel":
        return;
      case "response.create":
        return respond(next() ?? { transcript: "ok" });
    }
  };

  function respond(reply: FakeRealtimeReply) {
    const responseId = id("resp");
    send({
      type: "response.created",
      response: { id: responseId, status: "in_progress", output: [] },
    });
    const output: JsonObject[] = [];
    if (reply.transcript !== undefined || reply.audio) {
      const itemId = id("item");
      send({
        type: "response.output_item.added",
        response_id: responseId,
        output_index: output.length,
        item: {
          id: itemId,
          type: "message",
          role: "assistant",
          status: "in_progress",
          content: [],
        },
      });
      const audio = reply.audio ?? new Uint8Array(480);
      const chunks = Math.max(1, reply.audioChunks ?? 3);
      const size = Math.ceil(audio.length / chunks / 2) * 2;
      for (let offset = 0; offset < audio.length; offset += size) {
        send({
          type: "response.output_audio.delta",
          response_id: responseId,
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          delta: toBase64(audio.subarray(offset, offset + size)),
        });
      }
      const words = (reply.transcript ?? "").split(/(?<= )/);
      for (const word of words) {
        if (word === "") continue;
        send({
          type: "response.output_audio_transcript.delta",
          response_id: responseId,
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          delta: word,
        });
      }
      send({ type: "response.output_audio.done", response_id: responseId, item_id: itemId });
      send({
        type: "response.output_audio_transcript.done",
        response_id: responseId,
        item_id: itemId,
        transcript: reply.transcript ?? "",
      });
      const item = {
        id: itemId,
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_audio", transcript: reply.transcript ?? "" }],
      };
      send({
        type: "response.output_item.done",
        response_id: responseId,
        output_index: output.length,
        item,
      });
      output.push(item);
    }
    for (const [n, call] of (reply.toolCalls ?? []).entries()) {
      const args = typeof call.arguments === "string"
        ? call.arguments
        : JSON.stringify(call.arguments);
      const item = {
        id: id("item"),
        type: "function_call",
        status: "completed",
        name: call.name,
        call_id: call.callId ?? `call_${responseId}_${n}`,
        arguments: args,
      };
      send({
        type: "response.output_item.added",
        response_id: responseId,
        output_index: output.length,
        item,
      });
      send({
        type: "response.function_call_arguments.done",
        response_id: responseId,
        item_id: item.id,
        arguments: args,
      });
      send({
        type: "response.output_item.done",
        response_id: responseId,
        output_index: output.length,
        item,
      });
      output.push(item);
    }
    send({
      type: "response.done",
      response: {
        id: responseId,
        status: "completed",
        output,
        usage: { input_tokens: 10, output_tokens: 20, total_tokens: 30 },
      },
    });
  }
}
