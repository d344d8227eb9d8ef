import type { MeshDocument, RoomClient } from "@meshagent/api";
import { transcriptSchema } from "./transcript_schema.ts";

/** One utterance of a call. */
export interface TranscriptSegment {
  /** The speaker's participant id. */
  participantId: string;
  /** The speaker's name. */
  participantName: string;
  /** `user` for a person, `agent` for the voice agent. */
  role: "user" | "agent";
  /** What was said. */
  text: string;
  /** When (default now). */
  time?: Date;
}

/** Options of {@linkcode Transcriber.open}. */
export interface TranscriberOptions {
  /** The room. */
  room: RoomClient;
  /** The transcript document's path (a new one is created with the `transcript` schema). */
  path: string;
  /** The call's breakout room (kept on the root). */
  breakoutRoom?: string;
  /** How long (ms) opening and flushing may take (default 10 000). */
  timeout?: number;
}

/**
 * Writes what is said in a call into a `transcript` MeshDocument (see
 * {@linkcode transcriptSchema}), which any participant can follow live through `room.sync`.
 *
 * @example Writing a transcript needs a room
 * ```ts
 * import assert from "node:assert/strict";
 * import { Transcriber } from "@meshagent/agents";
 * assert.equal(typeof Transcriber.open, "function");
 * // const transcriber = await Transcriber.open({ room, path: "calls/1.transcript" });
 * // await transcriber.add({ participantId: "p1", participantName: "ada", role: "user", text: "hi" });
 * // await transcriber.close();
 * ```
 */
export class Transcriber {
  /** The document's path. */
  readonly path: string;
  readonly #room: RoomClient;
  readonly #doc: MeshDocument;
  readonly #timeout: number;
  #closed = false;

  private constructor(room: RoomClient, path: string, doc: MeshDocument, timeout: number) {
    this.#room = room;
    this.path = path;
    this.#doc = doc;
    this.#timeout = timeout;
  }

  /**
   * Opens (or creates) the transcript document.
   *
   * @param options The room, the path, the breakout room.
   * @returns The transcriber.
   * @throws Error when the document exists with another schema.
   */
  static async open(options: TranscriberOptions): Promise<Transcriber> {
    const timeout = options.timeout ?? 10_000;
    const doc = await options.room.sync.open(options.path, {
      create: true,
      schema: transcriptSchema,
      initialJson: { transcript: {} },
      timeout,
    });
    if (doc.schema.rootTagName !== "transcript") {
      await options.room.sync.close(options.path, timeout).catch(() => {});
      throw new Error(
        `${options.path} is a "${doc.schema.rootTagName}" document, not a transcript; ` +
          `give a new path (e.g. calls/<id>.transcript)`,
      );
    }
    if (options.breakoutRoom && doc.root.getAttribute("breakout_room") == null) {
      doc.root.setAttribute("breakout_room", options.breakoutRoom);
      doc.root.setAttribute("started_at", new Date().toISOString());
    }
    return new Transcriber(options.room, options.path, doc, timeout);
  }

  /**
   * Appends an utterance and sends it to the room.
   *
   * @param segment Who said what.
   */
  async add(segment: TranscriptSegment): Promise<void> {
    if (this.#closed) throw new Error(`the transcript ${this.path} is closed`);
    this.#doc.root.createChildElement("segment", {
      participant_id: segment.participantId,
      participant_name: segment.participantName,
      role: segment.role,
      text: segment.text,
      time: (segment.time ?? new Date()).toISOString(),
    });
    await this.#room.sync.flush(this.path, this.#timeout);
  }

  /** Sends what is left and closes the document. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#room.sync.close(this.path, this.#timeout);
  }
}
