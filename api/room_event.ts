import type { JsonObject } from "./packing.ts";
import type { RemoteParticipant } from "./participant.ts";

/** A `room.status` notification from the server, e.g. `{status: "starting", message: "…"}`. */
export interface RoomStatusEvent {
  /** The status word. */
  status: string;
  /** A human-readable explanation. */
  message: string;
}

/** A message from another participant (`messaging.send` of a non-presence type). */
export interface RoomMessage {
  /** The sender's participant id. */
  fromParticipantId: string;
  /** The application message type. */
  type: string;
  /** The JSON message. */
  message: JsonObject;
  /** The attachment bytes, when the sender attached any. */
  attachment?: Uint8Array;
}

/** Attributes of a remote participant changed. */
export interface ParticipantAttributesEvent {
  /** The participant, with the new attributes already merged in. */
  participant: RemoteParticipant;
  /** The partial attribute map that changed. */
  attributes: JsonObject;
}

/** A developer log event. */
export interface RoomLogEvent {
  /** The log type (for example `info` or an application-defined word). */
  type: string;
  /** The log data. */
  data: JsonObject;
}

/** The room connection was lost; the client reconnects. */
export interface RoomDisconnectedEvent {
  /** The WebSocket close code, when known. */
  code?: number;
  /** The close reason, when known. */
  reason?: string;
}

/** The room client is connected again and has restored its state. */
export interface RoomReconnectedEvent {
  /** The local participant id now. */
  participantId: string;
  /** The local participant id before the reconnect (equal when the room kept it). */
  previousParticipantId: string;
}

/** The room client is closed for good. */
export interface RoomClosedEvent {
  /** The WebSocket close code, when known. */
  code?: number;
  /** The close reason, when known. */
  reason?: string;
  /** Why the client gave up, when it was not a clean close. */
  error?: Error;
}

/** Every event a `RoomClient` emits, by name. */
export interface RoomClientEvents {
  /** A `room.status` notification. */
  status: RoomStatusEvent;
  /** A message from another participant. */
  message: RoomMessage;
  /** A participant enabled messaging (became visible). */
  participantAdded: RemoteParticipant;
  /** A participant disabled messaging or left. */
  participantRemoved: RemoteParticipant;
  /** A participant's attributes changed. */
  participantAttributesUpdated: ParticipantAttributesEvent;
  /** A developer log pushed by the room (`developer.log`). */
  log: RoomLogEvent;
  /** The connection was lost; reconnecting. */
  disconnected: RoomDisconnectedEvent;
  /** Connected again, state restored. */
  reconnected: RoomReconnectedEvent;
  /** Closed for good. */
  closed: RoomClosedEvent;
}
