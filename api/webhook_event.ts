// The events a room server delivers to webhooks (protocol-data §4.1), parsed and checked.
import type { JsonObject } from "./packing.ts";
import { WebhookError } from "./webhook_signature.ts";

/** `room.started`: a room session started. */
export interface RoomStartedEvent {
  /** The event type. */
  readonly event: "room.started";
  /** The room name. */
  readonly roomName: string;
  /** The room's WebSocket URL. */
  readonly roomUrl: string;
  /** The `data` object as received (extra keys included). */
  readonly data: JsonObject;
}

/** `room.ended`: a room session ended. */
export interface RoomEndedEvent {
  /** The event type. */
  readonly event: "room.ended";
  /** The room name. */
  readonly roomName: string;
  /** The `data` object as received. */
  readonly data: JsonObject;
}

/** `room.call`: the receiver is asked to join a room with the given token (§5.3). */
export interface RoomCallEvent {
  /** The event type. */
  readonly event: "room.call";
  /** The room name. */
  readonly roomName: string;
  /** The room's WebSocket URL to connect to. */
  readonly roomUrl: string;
  /** The participant token to connect with. */
  readonly token: string;
  /** The caller's arguments (null when none). */
  readonly arguments: JsonObject | null;
  /** The `data` object as received. */
  readonly data: JsonObject;
}

/**
 * `participant.joined` / `participant.left`: a participant connected to, or left, a room.
 * [impl] Not in the official event list; the data is `{room_name, participant_id,
 * participant_name, role}`.
 */
export interface ParticipantWebhookEvent {
  /** The event type. */
  readonly event: "participant.joined" | "participant.left";
  /** The room name. */
  readonly roomName: string;
  /** The participant id (one connection). */
  readonly participantId: string;
  /** The participant's name (its token's `name`). */
  readonly participantName: string;
  /** The participant's role. */
  readonly role: string;
  /** The `data` object as received. */
  readonly data: JsonObject;
}

/** Every webhook event, by type. */
export interface WebhookEvents {
  /** A room session started. */
  "room.started": RoomStartedEvent;
  /** A room session ended. */
  "room.ended": RoomEndedEvent;
  /** A request to join a room. */
  "room.call": RoomCallEvent;
  /** A participant connected. */
  "participant.joined": ParticipantWebhookEvent;
  /** A participant left. */
  "participant.left": ParticipantWebhookEvent;
}

/** The type of a webhook event: `room.started`, `room.ended`, `room.call`, `participant.*`. */
export type WebhookEventType = keyof WebhookEvents;

/** One parsed webhook event. */
export type WebhookEvent = WebhookEvents[WebhookEventType];

/** The event types, in the order they are documented. */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = Object.freeze([
  "room.started",
  "room.ended",
  "room.call",
  "participant.joined",
  "participant.left",
]);

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(data: JsonObject, key: string, event: string): string {
  const value = data[key];
  if (typeof value !== "string") {
    throw new WebhookError(
      "invalid_payload",
      `a ${event} webhook needs a string data.${key}, got ${JSON.stringify(value) ?? "nothing"}`,
    );
  }
  return value;
}

/** How each event type is read from its `data` (one table, one reader). */
const READERS: { readonly [K in WebhookEventType]: (data: JsonObject) => WebhookEvents[K] } = {
  "room.started": (data) => ({
    event: "room.started",
    roomName: str(data, "room_name", "room.started"),
    roomUrl: str(data, "room_url", "room.started"),
    data,
  }),
  "room.ended": (data) => ({
    event: "room.ended",
    roomName: str(data, "room_name", "room.ended"),
    data,
  }),
  "room.call": (data) => {
    const args = data.arguments;
    if (args !== undefined && args !== null && !isObject(args)) {
      throw new WebhookError(
        "invalid_payload",
        "a room.call webhook's data.arguments must be an object or null",
      );
    }
    return {
      event: "room.call",
      roomName: str(data, "room_name", "room.call"),
      roomUrl: str(data, "room_url", "room.call"),
      token: str(data, "token", "room.call"),
      arguments: isObject(args) ? args : null,
      data,
    };
  },
  "participant.joined": (data) => participantEvent("participant.joined", data),
  "participant.left": (data) => participantEvent("participant.left", data),
};

function participantEvent(
  event: "participant.joined" | "participant.left",
  data: JsonObject,
): ParticipantWebhookEvent {
  return {
    event,
    roomName: str(data, "room_name", event),
    participantId: str(data, "participant_id", event),
    participantName: str(data, "participant_name", event),
    role: str(data, "role", event),
    data,
  };
}

/**
 * Reads a webhook payload `{"event": …, "data": {…}}` into a typed event.
 *
 * @param payload The parsed JSON payload.
 * @returns The event.
 * @throws {WebhookError} (`invalid_payload`, HTTP 400) When it is not a known, well-formed event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const event = parseWebhookEvent({
 *   event: "room.started",
 *   data: { room_name: "demo", room_url: "ws://127.0.0.1:8080/rooms/demo" },
 * });
 * assert(event.event === "room.started" && event.roomName === "demo");
 * ```
 */
export function parseWebhookEvent(payload: unknown): WebhookEvent {
  if (!isObject(payload)) {
    throw new WebhookError("invalid_payload", "a webhook payload must be a JSON object");
  }
  const type = payload.event;
  if (typeof type !== "string" || !Object.hasOwn(READERS, type)) {
    throw new WebhookError(
      "invalid_payload",
      `unknown webhook event ${JSON.stringify(type)}; expected one of ` +
        WEBHOOK_EVENT_TYPES.join(", "),
    );
  }
  const data = payload.data;
  if (!isObject(data)) {
    throw new WebhookError("invalid_payload", `a ${type} webhook needs a data object`);
  }
  return READERS[type as WebhookEventType](data);
}
