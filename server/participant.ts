import type { ApiScope, JsonObject, Protocol } from "@meshagent/api";

/** What a {@linkcode Participant} is made from. */
export interface ParticipantInit {
  /** The participant id (opaque; a UUID). */
  id: string;
  /** The token's `name` claim. */
  name: string;
  /** The token's role (`user` when the token has none). */
  role: string;
  /** The token's API scope; null when the token has no `api` grant. */
  scope: ApiScope | null;
  /** The protocol over this participant's socket. */
  protocol: Protocol;
}

/**
 * One connected participant: one WebSocket connection in a room. All of its state (attributes,
 * the messaging flag, open tool calls) dies with the connection; a reconnect is a new participant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Participant } from "@meshagent/server";
 * import { Protocol } from "@meshagent/api";
 * const protocol = new Protocol({ send: () => {}, close: () => {} });
 * const p = new Participant({ id: "p1", name: "alice", role: "user", scope: null, protocol });
 * assert(p.attributes.name === "alice" && p.attributes.role === "user");
 * p.close(1000, "bye");
 * assert(p.closed && p.signal.aborted);
 * ```
 */
export class Participant {
  /** The participant id. */
  readonly id: string;
  /** The token's `name` claim. */
  readonly name: string;
  /** The participant's role (`user`, `agent`, `tool`, …). */
  readonly role: string;
  /** The API scope of its token; null means every room API call is denied. */
  readonly scope: ApiScope | null;
  /** The protocol over its socket. */
  readonly protocol: Protocol;
  /** Its attributes, seeded with `name` and `role` [inferred] and merged by `set_attributes`. */
  readonly attributes: JsonObject;
  /** True while it has messaging enabled (it is visible in presence). */
  messagingEnabled = false;
  readonly #abort = new AbortController();

  /**
   * Creates the participant of one connection.
   *
   * @param init Identity, scope and protocol.
   */
  constructor(init: ParticipantInit) {
    this.id = init.id;
    this.name = init.name;
    this.role = init.role;
    this.scope = init.scope;
    this.protocol = init.protocol;
    this.attributes = { name: init.name, role: init.role };
    // Whatever way the protocol ends (socket close, oversize, shutdown), the participant is over.
    this.protocol.onClose(() => this.#ended());
  }

  /** Aborted when the connection ends. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** True once the connection ended. */
  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /**
   * Sends an event (a message that expects no answer). Does nothing once the connection is closed.
   *
   * @param type The message type.
   * @param data The data bytes (usually a packed message).
   * @returns True when it was sent.
   */
  sendEvent(type: string, data: Uint8Array): boolean {
    if (this.protocol.isClosed) return false;
    this.protocol.send(type, data);
    return true;
  }

  /**
   * Closes the connection.
   *
   * @param code The WebSocket close code.
   * @param reason The close reason (sent to the client).
   */
  close(code: number, reason: string): void {
    this.protocol.close(code, reason);
    this.#ended();
  }

  #ended(): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
  }
}
