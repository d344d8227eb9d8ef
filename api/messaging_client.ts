import { bytesToBase64 } from "./_base64.ts";
import { Waiters } from "./_waiters.ts";
import { ConnectionClosedError, ErrorCode, RoomError } from "./errors.ts";
import type { ProtocolMessage } from "./framing.ts";
import { type JsonObject, unpackMessage } from "./packing.ts";
import { type Participant, RemoteParticipant } from "./participant.ts";
import { participantState } from "./_participant_state.ts";
import type { RoomRequester } from "./room_requester.ts";

/** Options shared by the messaging requests. */
export interface MessagingRequestOptions {
  /** Fail with a `RequestTimeoutError` after this many ms. */
  timeout?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/** A direct message to one participant. */
export interface SendMessageOptions extends MessagingRequestOptions {
  /** The recipient, or its participant id. */
  to: Participant | string;
  /** The application message type. */
  type: string;
  /** The JSON message. */
  message: JsonObject;
  /** Bytes to attach; they arrive unchanged as the recipient's `attachment`. */
  attachment?: Uint8Array;
}

/** A message to every other messaging-enabled participant. */
export interface BroadcastMessageOptions extends MessagingRequestOptions {
  /** The application message type. */
  type: string;
  /** The JSON message. */
  message: JsonObject;
  /** Bytes to attach. */
  attachment?: Uint8Array;
}

const PRESENCE_TYPES = new Set([
  "messaging.enabled",
  "participant.enabled",
  "participant.disabled",
  "participant.attributes",
]);

function ignore(): void {}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Messaging and presence (the room's built-in `messaging` toolkit).
 *
 * After {@linkcode MessagingClient.enable}, this participant is visible to others and sees them:
 * the room sends a `messaging.enabled` snapshot of the other enabled participants, then
 * `participant.enabled` / `participant.disabled` / `participant.attributes` changes. Presence
 * counts only once the snapshot arrived. Messages from others are emitted on the room as
 * `message` events (presence updates are not), with the attachment bytes when there are any.
 *
 * Direct messages do not need messaging to be enabled on the sending side; a recipient that is
 * not in the room makes {@linkcode MessagingClient.sendMessage} reject with a
 * {@linkcode RoomError} of code 1003 (`the participant was not found`).
 *
 * @example Offline, the client starts with no presence
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomClient } from "@meshagent/api";
 * const room = new RoomClient({ url: "ws://127.0.0.1:9/rooms/demo", token: "<jwt>" });
 * assert(room.messaging.remoteParticipants.length === 0);
 * assert(!room.messaging.isEnabled && !room.messaging.online);
 * await room.dispose();
 * ```
 */
export class MessagingClient {
  readonly #room: RoomRequester;
  readonly #participants = new Map<string, RemoteParticipant>();
  #enabled = false;
  #online = false;
  readonly #onlineWaiters = new Waiters();

  /**
   * Creates the sub-client; a {@linkcode RoomClient} makes one for itself.
   *
   * @param room The room client this belongs to.
   */
  constructor(room: RoomRequester) {
    this.#room = room;
  }

  /** True after {@linkcode MessagingClient.enable} and until {@linkcode MessagingClient.disable}. */
  get isEnabled(): boolean {
    return this.#enabled;
  }

  /** True once the room's `messaging.enabled` snapshot arrived on the current connection. */
  get online(): boolean {
    return this.#online;
  }

  /** The other messaging-enabled participants. */
  get remoteParticipants(): RemoteParticipant[] {
    return [...this.#participants.values()];
  }

  /**
   * Finds a remote participant by id.
   *
   * @param id The participant id.
   * @returns The participant, or `undefined`.
   */
  getParticipant(id: string): RemoteParticipant | undefined {
    return this.#participants.get(id);
  }

  /**
   * Finds a remote participant by its `name` attribute.
   *
   * @param name The name.
   * @returns The first participant with that name, or `undefined`.
   */
  getParticipantByName(name: string): RemoteParticipant | undefined {
    for (const p of this.#participants.values()) if (p.name === name) return p;
    return undefined;
  }

  /**
   * Enables messaging: this participant becomes visible to others and receives presence. Resolves
   * once the room's presence snapshot arrived. After a reconnect, messaging is enabled again
   * automatically.
   *
   * @param options Timeout and cancellation.
   */
  async enable(options: MessagingRequestOptions = {}): Promise<void> {
    this.#enabled = true;
    const online = this.#waitOnline(options.signal);
    online.catch(() => {});
    try {
      await this.#invoke("enable", {}, options);
    } catch (e) {
      this.#dropWaiters(e);
      throw e;
    }
    if (options.timeout !== undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RoomError(
                `the room did not send messaging.enabled within ${options.timeout} ms`,
                ErrorCode.TIMEOUT,
              ),
            ),
          options.timeout,
        );
      });
      try {
        await Promise.race([online, timeout]);
      } finally {
        clearTimeout(timer);
      }
    } else {
      await online;
    }
  }

  /**
   * Disables messaging: this participant disappears from others' presence, and the local
   * presence list is cleared.
   *
   * @param options Timeout and cancellation.
   */
  async disable(options: MessagingRequestOptions = {}): Promise<void> {
    this.#enabled = false;
    this.#setOffline(true);
    await this.#invoke("disable", {}, options);
  }

  /**
   * Sends a message to one participant.
   *
   * @param options Recipient, type, message, optional attachment.
   * @throws {RoomError} Code 1003 when the recipient is not in the room.
   */
  sendMessage(options: SendMessageOptions): Promise<void> {
    let input: JsonObject;
    try {
      const to = typeof options.to === "string" ? options.to : options.to.id;
      input = {
        to_participant_id: to,
        type: options.type,
        message_json: JSON.stringify(options.message),
      };
      if (options.attachment && options.attachment.length > 0) {
        input.attachment_base64 = bytesToBase64(options.attachment);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#invoke("send", input, options);
  }

  /**
   * Sends a message to every other messaging-enabled participant.
   *
   * @param options Type, message, optional attachment.
   */
  broadcastMessage(options: BroadcastMessageOptions): Promise<void> {
    let input: JsonObject;
    try {
      input = { type: options.type, message_json: JSON.stringify(options.message) };
      if (options.attachment && options.attachment.length > 0) {
        input.attachment_base64 = bytesToBase64(options.attachment);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#invoke("broadcast", input, options);
  }

  #invoke(tool: string, input: JsonObject, options: MessagingRequestOptions): Promise<void> {
    return this.#room.invoke({
      toolkit: "messaging",
      tool,
      input,
      timeout: options.timeout,
      signal: options.signal,
    }).then(ignore);
  }

  #waitOnline(signal?: AbortSignal): Promise<void> {
    if (this.#online) return Promise.resolve();
    return this.#onlineWaiters.wait(signal);
  }

  #dropWaiters(error: unknown): void {
    this.#onlineWaiters.rejectAll(error);
  }

  #setOffline(emit: boolean): void {
    this.#online = false;
    const gone = [...this.#participants.values()];
    this.#participants.clear();
    if (emit) { for (const p of gone) this.#room.events.emit("participantRemoved", p); }
  }

  /** @internal Called by the room client for every `messaging.send` message. */
  _handleMessage(message: ProtocolMessage): void {
    const { header, payload } = unpackMessage(message.data);
    const type = typeof header.type === "string" ? header.type : "";
    const from = typeof header.from_participant_id === "string" ? header.from_participant_id : "";
    const body = isObject(header.message) ? header.message : {};
    if (!PRESENCE_TYPES.has(type)) {
      this.#room.events.emit(
        "message",
        payload.length > 0
          ? { fromParticipantId: from, type, message: body, attachment: payload.slice() }
          : { fromParticipantId: from, type, message: body },
      );
      return;
    }
    switch (type) {
      case "messaging.enabled":
        return this.#onSnapshot(body);
      case "participant.enabled":
        if (!this.#online) return;
        return this.#upsert(body, true);
      case "participant.disabled": {
        if (!this.#online) return;
        const id = typeof body.id === "string" ? body.id : from;
        const p = this.#participants.get(id);
        if (p) {
          this.#participants.delete(id);
          this.#room.events.emit("participantRemoved", p);
        }
        return;
      }
      case "participant.attributes": {
        if (!this.#online) return;
        const p = this.#participants.get(from);
        const attributes = isObject(body.attributes) ? body.attributes : {};
        if (p) {
          Object.assign(participantState(p).attributes, attributes);
          this.#room.events.emit("participantAttributesUpdated", { participant: p, attributes });
        }
        return;
      }
    }
  }

  #onSnapshot(body: JsonObject): void {
    if (!this.#enabled) return; // disabled meanwhile; a late snapshot does not count
    const list = Array.isArray(body.participants) ? body.participants : [];
    const seen = new Set<string>();
    for (const entry of list) {
      if (!isObject(entry) || typeof entry.id !== "string") continue;
      seen.add(entry.id);
      this.#upsert(entry, !this.#participants.has(entry.id));
    }
    for (const [id, p] of [...this.#participants]) {
      if (!seen.has(id)) {
        this.#participants.delete(id);
        this.#room.events.emit("participantRemoved", p);
      }
    }
    this.#online = true;
    this.#onlineWaiters.resolveAll();
  }

  #upsert(entry: JsonObject, announce: boolean): void {
    if (typeof entry.id !== "string") return;
    const attributes = isObject(entry.attributes) ? entry.attributes : {};
    const role = typeof entry.role === "string" ? entry.role : "";
    const existing = this.#participants.get(entry.id);
    if (existing && existing.role === role) {
      participantState(existing).attributes = { ...attributes };
      if (!announce) return;
    }
    const p = existing && existing.role === role
      ? existing
      : new RemoteParticipant(entry.id, role, attributes);
    this.#participants.set(entry.id, p);
    if (announce || p !== existing) this.#room.events.emit("participantAdded", p);
  }

  /** @internal The connection dropped: presence is stale until the next snapshot. */
  _onDisconnected(): void {
    this.#online = false;
  }

  /** @internal Connected again: enable messaging again if it was enabled. */
  _onReconnected(): void {
    if (!this.#enabled) return;
    this.#invoke("enable", {}, {}).catch((e) => {
      console.warn(`messaging: re-enabling after the reconnect failed: ${(e as Error).message}`);
    });
  }

  /** @internal The room closed for good. */
  _onClosed(): void {
    this.#online = false;
    this.#dropWaiters(new ConnectionClosedError("the room connection closed"));
  }
}
