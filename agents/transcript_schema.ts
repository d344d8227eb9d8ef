/**
 * The `transcript` MeshSchema (agents.md §1.2 names it among the built-in schemas, without its
 * fields): what a {@linkcode Transcriber} writes during a voice call. [impl] A root `transcript`
 * (the call's breakout room, when it started) whose ordered `segments` hold one `segment` per
 * utterance: who said it (participant id and name, role `user` or `agent`), the text, and when
 * (ISO 8601).
 *
 * @module
 */
import type { MeshSchema } from "@meshagent/api";
import { type SchemaElementSpec, schemaFromTable } from "./thread_schema.ts";

/** The `transcript` schema's elements, by tag. */
export const TRANSCRIPT_ELEMENTS: Readonly<Record<string, SchemaElementSpec>> = {
  transcript: {
    description: "the transcript of a call",
    attributes: {
      breakout_room: ["string", "the call's breakout room"],
      started_at: ["string", "when the call started (ISO 8601)"],
    },
    children: {
      name: "segments",
      tags: ["segment"],
      description: "what was said, in order",
      ordered: true,
    },
  },
  segment: {
    description: "one utterance",
    attributes: {
      participant_id: ["string", "who said it: their participant id"],
      participant_name: ["string", "who said it: their name"],
      role: ["string", "user (a person) or agent"],
      text: ["string", "what was said"],
      time: ["string", "when it was said (ISO 8601)"],
    },
  },
};

/**
 * The `transcript` schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshDocument } from "@meshagent/api";
 * import { transcriptSchema } from "@meshagent/agents";
 * const doc = new MeshDocument(transcriptSchema);
 * doc.root.createChildElement("segment", { participant_name: "ada", role: "user", text: "hi" });
 * assert.equal(doc.root.children[0].getAttribute("text"), "hi");
 * ```
 */
export const transcriptSchema: MeshSchema = schemaFromTable("transcript", TRANSCRIPT_ELEMENTS);
