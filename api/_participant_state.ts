// Private: the mutable state behind Participant objects. Only the room client and the messaging
// client change it (a new id after a reconnect, attribute updates from the room); users read it
// through the Participant getters.
import type { JsonObject } from "./packing.ts";

/** The mutable state of one participant. */
export interface ParticipantState {
  id: string;
  attributes: JsonObject;
}

const states = new WeakMap<object, ParticipantState>();

/** Registers the state object of a participant (called by its constructor). */
export function registerParticipantState(participant: object, state: ParticipantState): void {
  states.set(participant, state);
}

/** The state object of a participant. */
export function participantState(participant: object): ParticipantState {
  const state = states.get(participant);
  if (!state) throw new Error("not a participant created by this library");
  return state;
}
