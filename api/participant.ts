import type { JsonObject } from "./packing.ts";
import { participantState, registerParticipantState } from "./_participant_state.ts";

/**
 * A participant of a room: an id and a map of attributes (`name` among them).
 *
 * The room keeps these objects up to date: attribute updates from the room are merged in, and a
 * participant id may change after a reconnect (for the local participant).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RemoteParticipant } from "@meshagent/api";
 * const p = new RemoteParticipant("p-1", "user", { name: "alice" });
 * assert(p.name === "alice" && p.getAttribute("name") === "alice");
 * ```
 */
export abstract class Participant {
  /**
   * Creates a participant.
   *
   * @param id The participant id.
   * @param attributes The initial attributes (copied).
   */
  constructor(id: string, attributes: JsonObject = {}) {
    registerParticipantState(this, { id, attributes: { ...attributes } });
  }

  /** The participant id assigned by the room. */
  get id(): string {
    return participantState(this).id;
  }

  /** The `name` attribute, when it is a string. */
  get name(): string | undefined {
    const name = participantState(this).attributes.name;
    return typeof name === "string" ? name : undefined;
  }

  /** A copy of all attributes. */
  get attributes(): JsonObject {
    return { ...participantState(this).attributes };
  }

  /**
   * Reads one attribute.
   *
   * @param name The attribute name.
   * @returns The value, or `undefined` when it is not set.
   */
  getAttribute(name: string): unknown {
    return participantState(this).attributes[name];
  }
}

/**
 * Another participant of the room, as seen through messaging presence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RemoteParticipant } from "@meshagent/api";
 * const p = new RemoteParticipant("p-2", "agent", { name: "bot" });
 * assert(p.role === "agent");
 * ```
 */
export class RemoteParticipant extends Participant {
  /** The participant's role (for example `user` or `agent`). */
  readonly role: string;

  /**
   * Creates a remote participant (the messaging client does this from presence events).
   *
   * @param id The participant id.
   * @param role The role.
   * @param attributes The attributes.
   */
  constructor(id: string, role: string, attributes: JsonObject = {}) {
    super(id, attributes);
    this.role = role;
  }
}

/** Sends a partial attribute map to the room (`set_attributes`). */
export type AttributeSender = (attributes: JsonObject) => void;

/**
 * This connection's own participant. Attribute changes are applied locally at once and sent to the
 * room with `set_attributes`; after a reconnect the room client re-sends the whole set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalParticipant } from "@meshagent/api";
 * const sent: unknown[] = [];
 * const me = new LocalParticipant("p-1", { name: "me" }, (attrs) => sent.push(attrs));
 * me.setAttribute("status", "ready");
 * assert(me.getAttribute("status") === "ready" && sent.length === 1);
 * ```
 */
export class LocalParticipant extends Participant {
  readonly #send: AttributeSender;

  /**
   * Creates the local participant (the room client does this when the room is ready).
   *
   * @param id The participant id.
   * @param attributes The attributes the room reported.
   * @param send Sends partial attribute maps to the room.
   */
  constructor(id: string, attributes: JsonObject, send: AttributeSender) {
    super(id, attributes);
    this.#send = send;
  }

  /**
   * Sets one attribute and tells the room (fire-and-forget).
   *
   * @param name The attribute name.
   * @param value A JSON value.
   */
  setAttribute(name: string, value: unknown): void {
    this.setAttributes({ [name]: value });
  }

  /**
   * Sets several attributes at once and tells the room with one `set_attributes`
   * (fire-and-forget). When the connection is down, the change is kept and sent after the
   * reconnect.
   *
   * @param attributes The attributes to merge in.
   */
  setAttributes(attributes: JsonObject): void {
    Object.assign(participantState(this).attributes, attributes);
    this.#send({ ...attributes });
  }
}
