/**
 * The MeshSchemas of document-backed threads (agents.md §2.6, agents-sources.md "Thread document
 * schema", official `thread_schema.py`): a `.thread` document holds one conversation, an
 * `index.threadl` document lists the threads of an agent. Any participant can open either through
 * `room.sync` and read (or render) the conversation.
 *
 * Both schemas are described as data ({@linkcode THREAD_ELEMENTS}, {@linkcode THREAD_LIST_ELEMENTS}):
 * each element's attributes (all optional strings unless said) and its child property.
 *
 * @module
 */
import {
  ChildProperty,
  ElementType,
  MeshSchema,
  type SimpleValueType,
  ValueProperty,
} from "@meshagent/api";

/** One element of a schema table: its description, attributes and (optional) child property. */
export interface SchemaElementSpec {
  /** What the element is. */
  description: string;
  /** Attribute name → `[type, description]` (every attribute may be null, as in the sources). */
  attributes: Readonly<Record<string, readonly [SimpleValueType, string]>>;
  /** The child property: its name, the tags it allows, and whether it is ordered. */
  children?: {
    name: string;
    tags: readonly string[];
    description: string;
    ordered?: boolean;
  };
  /** Where the child property sits among the attributes (the sources put `logs` before `data`). */
  childAfter?: string;
}

const s = (description: string): readonly [SimpleValueType, string] => ["string", description];
const n = (description: string): readonly [SimpleValueType, string] => ["number", description];

/**
 * The `thread` schema's elements, in the order of the official sources. The root `thread` has a
 * `name` and the ordered children `members` and `messages`; `messages` holds the conversation as
 * `message`, `exec`, `ui`, `reasoning` and `event` items.
 */
export const THREAD_ELEMENTS: Readonly<Record<string, SchemaElementSpec>> = {
  thread: {
    description: "a thread of messages",
    attributes: { name: s("name of the tread") },
    children: {
      name: "properties",
      tags: ["members", "messages"],
      description: "the messages in the thread",
      ordered: true,
    },
  },
  members: {
    description: "the members of this thread",
    attributes: {},
    children: { name: "items", tags: ["member"], description: "the messages in this thread" },
  },
  messages: {
    description: "the messages of this thread",
    attributes: {
      external_thread_id: s("optional external backend thread id used for resume"),
    },
    children: {
      name: "items",
      tags: ["message", "exec", "ui", "reasoning", "event"],
      description: "the messages in this thread",
    },
  },
  member: {
    description: "a member of this thread",
    attributes: { name: s("the name of the member") },
  },
  file: {
    description: "a file attachment",
    attributes: { path: s("the path of the file in the room") },
  },
  image: {
    description: "an image attachment stored in the images database",
    attributes: {
      status: s("the image generation status (for example generating/completed/failed)"),
      width: n("the pixel width of the generated image when known"),
      height: n("the pixel height of the generated image when known"),
      id: s("the image id in the room images table"),
      mime_type: s("the image mime type"),
      created_at: s("the date that the image was generated in ISO format"),
      created_by: s("the participant who generated the image"),
    },
  },
  reasoning: {
    description: "a reasoning trace",
    attributes: {
      turn_id: s("the agent turn id associated with this reasoning trace"),
      summary: s("a summary of the reasoning"),
      created_at: s("the time that the reasoning started"),
    },
  },
  exec: {
    description: "a command execution",
    attributes: {
      turn_id: s("the agent turn id associated with this command execution"),
      command: s("a command that was executed"),
      result: s("the result of the command"),
      outcome: s("the outcome of the command"),
      stderr: s("the standard error text of the command"),
      stdout: s("the standard output text of the command"),
      exit_code: n("the exit code of the command"),
      pwd: s("the working directory the command was executed in"),
      created_at: s("the time that the reasoning started"),
    },
  },
  ui: {
    description: "custom user interface data",
    attributes: {
      turn_id: s("the agent turn id associated with this UI payload"),
      data: s("raw data to be renderered, usually in JSON format"),
      renderer: s("the renderer to use"),
      widget: s("the type of widget"),
      width: n("the width of widget"),
      height: n("the height of widget"),
      created_at: s("the time that the reasoning started"),
    },
  },
  event: {
    description: "a structured event emitted by an agent backend",
    attributes: {
      turn_id: s("the agent turn id associated with this event"),
      id: s("a unique id for this event"),
      source: s("backend source, for example codex/openai/anthropic/chatkit"),
      name: s("normalized event name"),
      kind: s("high-level event category, for example turn/item/plan/diff/exec"),
      state: s(
        "lifecycle state, for example queued/in_progress/completed/failed/cancelled/info",
      ),
      method: s("source event or rpc method"),
      item_id: s("item id for this event, when available"),
      item_type: s("item type for this event, when available"),
      path: s("optional path associated with the event, typically a file path"),
      summary: s("short human readable summary"),
      headline: s("primary event headline for compact rendering"),
      details: s("optional newline-delimited detail lines for structured rendering"),
      preview: s(
        "optional structured preview body for compact rendering, for example file contents",
      ),
      data: s("serialized backend payload"),
      created_at: s("the date this event was emitted in ISO format"),
      updated_at: s("the date this event was last updated in ISO format"),
    },
    children: { name: "logs", tags: ["log"], description: "bounded rolling logs for this event" },
    childAfter: "preview",
  },
  log: {
    description: "a single stdout or stderr log line emitted by an event",
    attributes: {
      source: s("the source stream for this log line"),
      text: s("the log line text"),
      created_at: s("the date this log line was recorded in ISO format"),
    },
  },
  reaction: {
    description: "a unicode reaction from a user on a message or specific attachment",
    attributes: {
      user_name: s("the display name of the user who reacted"),
      value: s("the reaction as a single unicode character"),
      target: s("reaction target type (message or attachment)"),
      attachment_ref: s("the attachment element id when target is attachment"),
      created_at: s("the date that the reaction was added in ISO format"),
    },
  },
  message: {
    description: "a message sent in the conversation",
    attributes: {
      id: s("the id of the message"),
      turn_id: s("the agent turn id associated with this message"),
      text: s("the text of the message"),
      created_at: s("the date that the message was sent in ISO format"),
      author_name: s("the name of the author of the post"),
      role: s("the role of the message author, such as user, agent, or tool"),
      author_ref: s("a reference to author identity in another system"),
    },
    children: {
      name: "attachments",
      tags: ["file", "image", "reaction"],
      description: "a list of message attachments",
    },
  },
};

/** The `thread_list` schema's elements: the root lists `thread{name,path,created_at,modified_at}`. */
export const THREAD_LIST_ELEMENTS: Readonly<Record<string, SchemaElementSpec>> = {
  thread_list: {
    description: "an index of chat threads",
    attributes: {},
    children: { name: "threads", tags: ["thread"], description: "threads known to this chatbot" },
  },
  thread: {
    description: "a thread entry in the index",
    attributes: {
      name: s("a readable name for the thread"),
      path: s("the sync path to the thread document"),
      created_at: s("the date the thread was created in ISO format"),
      modified_at: s("the date the thread was last modified in ISO format"),
    },
  },
};

/**
 * Builds a MeshSchema from a schema table.
 *
 * @param rootTagName The root element's tag.
 * @param elements The elements, by tag.
 * @returns The schema.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schemaFromTable } from "@meshagent/agents";
 * const schema = schemaFromTable("list", {
 *   list: {
 *     description: "a list",
 *     attributes: {},
 *     children: { name: "items", tags: ["item"], description: "the items" },
 *   },
 *   item: { description: "an item", attributes: { label: ["string", "the label"] } },
 * });
 * assert.equal(schema.root.childProperty?.name, "items");
 * ```
 */
export function schemaFromTable(
  rootTagName: string,
  elements: Readonly<Record<string, SchemaElementSpec>>,
): MeshSchema {
  return new MeshSchema({
    rootTagName,
    elements: Object.entries(elements).map(([tagName, spec]) => {
      const properties: (ValueProperty | ChildProperty)[] = Object.entries(spec.attributes).map(
        ([name, [type, description]]) => new ValueProperty({ name, type, description }),
      );
      if (spec.children) {
        const child = new ChildProperty({
          name: spec.children.name,
          description: spec.children.description,
          childTagNames: spec.children.tags,
          ordered: spec.children.ordered ?? false,
        });
        const at = spec.childAfter === undefined
          ? properties.length
          : properties.findIndex((p) => p.name === spec.childAfter) + 1;
        properties.splice(at, 0, child);
      }
      return new ElementType({ tagName, description: spec.description, properties });
    }),
  });
}

/**
 * The `thread` schema: one conversation in a `.thread` MeshDocument.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshDocument } from "@meshagent/api";
 * import { threadSchema } from "@meshagent/agents";
 * const doc = new MeshDocument(threadSchema);
 * const messages = doc.root.createChildElement("messages", {});
 * messages.createChildElement("message", { text: "hello", role: "user", author_name: "ada" });
 * assert.equal(threadSchema.root.childProperty?.name, "properties");
 * assert.equal(doc.root.children[0].children[0].getAttribute("text"), "hello");
 * ```
 */
export const threadSchema: MeshSchema = schemaFromTable("thread", THREAD_ELEMENTS);

/**
 * The `thread_list` schema: the index of an agent's threads (`index.threadl`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshDocument } from "@meshagent/api";
 * import { threadListSchema } from "@meshagent/agents";
 * const doc = new MeshDocument(threadListSchema);
 * doc.root.createChildElement("thread", { name: "Plans", path: ".threads/bot/a.thread" });
 * assert.equal(doc.root.children[0].getAttribute("path"), ".threads/bot/a.thread");
 * ```
 */
export const threadListSchema: MeshSchema = schemaFromTable("thread_list", THREAD_LIST_ELEMENTS);
