/**
 * The official TypeScript SDK's (`@meshagent/meshagent`) names for things this package names
 * otherwise, so code written for it compiles against ours by changing the import. Each alias
 * says which of our names it stands for; our names stay the primary ones (they are the ones the
 * rest of the documentation uses). Some official names are classes where ours are plain
 * objects: those are exported here as types, and the JSDoc says so.
 * (`tests/official_sdk_names_test.ts` lists the official exports at run time and fails on any
 * name of a feature we have that is missing here or elsewhere in `api`, `tools` and `agents`.)
 *
 * @module
 */
import { ConnectionClosedError, RoomError } from "./errors.ts";
import { HandshakeRejectedError } from "./websocket_client_protocol.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import type { SimpleValueType } from "./element_type.ts";
import { type ApiKey, formatApiKey, parseApiKey } from "./api_key.ts";
import { DatabaseClient } from "./database_client.ts";
import type { QueueInfo } from "./queues_client.ts";
import type {
  StorageFileDeletedEvent,
  StorageFileMovedEvent,
  StorageFileUpdatedEvent,
} from "./storage_events.ts";
import type { RoomClientEvents, RoomMessage } from "./room_event.ts";
import type { JsonObject } from "./packing.ts";
import type { Listener } from "./event_emitter.ts";
import { ApiScope } from "./api_scope.ts";
import { ParticipantToken } from "./participant_token.ts";

// ------------------------------------------------------------------------------------- errors

/**
 * The official name of {@linkcode RoomError}: an error the room reported (or one raised locally
 * with a wire error code). `e instanceof RoomException` works for every room error of ours.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomError, RoomException } from "@meshagent/api";
 * assert(new RoomError("no") instanceof RoomException);
 * ```
 */
export const RoomException: typeof RoomError = RoomError;
/** The official name of {@linkcode RoomError} (the type). */
export type RoomException = RoomError;

/**
 * The official name of the room server's errors; here every one is a {@linkcode RoomError}
 * (`code` is the wire code; the official `statusCode` and `retryable` have no counterpart).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomServerException } from "@meshagent/api";
 * assert(new RoomServerException("refused", 1001).code === 1001);
 * ```
 */
export const RoomServerException: typeof RoomError = RoomError;
/** The official name of the room server's errors (the type): {@linkcode RoomError}. */
export type RoomServerException = RoomError;

/**
 * The official name of {@linkcode MeshSchemaValidationError}: a schema or document that does
 * not follow the MeshSchema rules.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MeshSchema, MeshSchemaValidationException } from "@meshagent/api";
 * assert.throws(() => MeshSchema.fromJson({}), MeshSchemaValidationException);
 * ```
 */
export const MeshSchemaValidationException: typeof MeshSchemaValidationError =
  MeshSchemaValidationError;
/** The official name of {@linkcode MeshSchemaValidationError} (the type). */
export type MeshSchemaValidationException = MeshSchemaValidationError;

/**
 * The official name of {@linkcode ConnectionClosedError}: the connection closed while something
 * waited on it (`closeCode` as in the official class).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionClosedError, ProtocolCloseException } from "@meshagent/api";
 * assert(new ConnectionClosedError("closed", 1006) instanceof ProtocolCloseException);
 * ```
 */
export const ProtocolCloseException: typeof ConnectionClosedError = ConnectionClosedError;
/** The official name of {@linkcode ConnectionClosedError} (the type). */
export type ProtocolCloseException = ConnectionClosedError;

/**
 * The official name of {@linkcode HandshakeRejectedError}: the server refused the WebSocket
 * handshake with a final status (403, 404, 423). The status is `status` here (the official
 * class calls it `statusCode`); the server's reason is in the message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HandshakeRejectedError, ProtocolHandshakeException } from "@meshagent/api";
 * const e = new HandshakeRejectedError(403, "forbidden: expired");
 * assert(e instanceof ProtocolHandshakeException && e.status === 403);
 * ```
 */
export const ProtocolHandshakeException: typeof HandshakeRejectedError = HandshakeRejectedError;
/** The official name of {@linkcode HandshakeRejectedError} (the type). */
export type ProtocolHandshakeException = HandshakeRejectedError;

// ----------------------------------------------------------------------------------- clients

/**
 * The official name of {@linkcode DatabaseClient}, the room's SQLite databases (`room.database`
 * here).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DatabaseClient, SqliteClient } from "@meshagent/api";
 * assert(SqliteClient === DatabaseClient);
 * ```
 */
export const SqliteClient: typeof DatabaseClient = DatabaseClient;
/** The official name of {@linkcode DatabaseClient} (the type). */
export type SqliteClient = DatabaseClient;

/**
 * The official name of {@linkcode formatApiKey}: an API key as its `ma-…` text.
 *
 * @param key The key's id, project and secret.
 * @returns The `ma-…` key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeApiKey, generateApiKey, parseApiKey } from "@meshagent/api";
 * const key = generateApiKey();
 * assert(parseApiKey(encodeApiKey(key)).secret === key.secret);
 * ```
 */
export function encodeApiKey(key: ApiKey): string {
  return formatApiKey(key);
}

/**
 * The official SDK's `participantToken` helper: a token for `participantName` in `roomName`,
 * with the agent's default API scope and, when given, a role grant; the project and key id
 * come from `apiKey` unless given.
 *
 * @param options The participant, room, role and key.
 * @returns The token (sign it with `toJwt`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatApiKey, generateApiKey, participantToken } from "@meshagent/api";
 * const apiKey = formatApiKey(generateApiKey());
 * const token = participantToken({ participantName: "bob", roomName: "demo", apiKey });
 * assert(token.canJoinRoom("demo") && token.name === "bob");
 * ```
 */
export function participantToken(options: {
  participantName: string;
  roomName: string;
  role?: string;
  projectId?: string;
  apiKeyId?: string;
  apiKey?: string;
}): ParticipantToken {
  const parsed = options.apiKey ? parseApiKey(options.apiKey) : undefined;
  const token = new ParticipantToken({
    name: options.participantName,
    projectId: options.projectId ?? parsed?.projectId,
    apiKeyId: options.apiKeyId ?? parsed?.id,
  });
  token.addRoomGrant(options.roomName);
  if (options.role) token.addRoleGrant(options.role);
  token.addApiGrant(ApiScope.agentDefault());
  return token;
}

// ------------------------------------------------------------------------------------- events

/** The official name of an event listener: {@linkcode Listener}. */
export type EventHandler<T> = Listener<T>;

/**
 * The official name of a queue in `queues.list()`: here a plain {@linkcode QueueInfo}
 * `{name, size}` (the official `Queue` is a class with those two fields).
 */
export type Queue = QueueInfo;

/**
 * The official `FileUpdatedEvent`: here the plain {@linkcode StorageFileUpdatedEvent} that
 * `room.storage.events` emits as `file.updated`.
 */
export type FileUpdatedEvent = StorageFileUpdatedEvent;
/** The official `FileDeletedEvent`: here the plain {@linkcode StorageFileDeletedEvent}. */
export type FileDeletedEvent = StorageFileDeletedEvent;
/** The official `FileMovedEvent`: here the plain {@linkcode StorageFileMovedEvent}. */
export type FileMovedEvent = StorageFileMovedEvent;
/**
 * The official `FileCreatedEvent`. Our server reports a new file as `file.updated` (an upload
 * creates or replaces), so this is the same shape as {@linkcode FileUpdatedEvent}.
 */
export type FileCreatedEvent = StorageFileUpdatedEvent;

/**
 * The official `RoomMessageEvent`, which wraps a message. Note that `room.on("message")` here
 * hands over the {@linkcode RoomMessage} itself, not this wrapper.
 */
export interface RoomMessageEvent {
  /** The message. */
  message: RoomMessage;
}

/**
 * The official `RoomEvent` (an abstract base class there): here any of the plain event objects
 * a room client emits ({@linkcode RoomClientEvents}) or its storage client emits.
 */
export type RoomEvent =
  | RoomClientEvents[keyof RoomClientEvents]
  | StorageFileUpdatedEvent
  | StorageFileDeletedEvent
  | StorageFileMovedEvent;

/**
 * The official `FileHandle` (`{id}`) of a storage upload or download. Nothing here hands one
 * out — uploads and downloads stream — so this exists for code that names the type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileHandle } from "@meshagent/api";
 * assert(new FileHandle({ id: 7 }).id === 7);
 * ```
 */
export class FileHandle {
  /** The handle's id. */
  readonly id: number;

  /**
   * Creates the value.
   *
   * @param init The id.
   */
  constructor(init: { id: number }) {
    this.id = init.id;
  }
}

// ------------------------------------------------------------------------------------- schemas

/**
 * The official `SimpleValue` enumeration of attribute value types; here the values are the
 * strings of {@linkcode SimpleValueType}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SimpleValue, ValueProperty } from "@meshagent/api";
 * const p = new ValueProperty({ name: "n", type: SimpleValue.number });
 * assert(p.type === "number" && SimpleValue.fromString("null") === SimpleValue.nullValue);
 * ```
 */
export const SimpleValue: {
  readonly number: "number";
  readonly string: "string";
  readonly nullValue: "null";
  readonly boolean: "boolean";
  /** The value type named by `value`, or null for another string. */
  fromString(value: string): SimpleValueType | null;
} = {
  number: "number",
  string: "string",
  nullValue: "null",
  boolean: "boolean",
  fromString(value: string): SimpleValueType | null {
    return ["number", "string", "null", "boolean"].includes(value)
      ? value as SimpleValueType
      : null;
  },
};
/** The official `SimpleValue` (the type): {@linkcode SimpleValueType}. */
export type SimpleValue = SimpleValueType;

function elementEntry(json: JsonObject): [string, unknown] {
  const keys = Object.keys(json);
  if (keys.length !== 1) {
    throw new MeshSchemaValidationError(
      `element JSON must have a single key, its tag: {"<tag>": {...}} (got ${keys.length} keys)`,
    );
  }
  return [keys[0], json[keys[0]]];
}

/**
 * The tag of element JSON `{"<tag>": {...}}` (the official helper).
 *
 * @param json The element JSON.
 * @returns The tag.
 * @throws {MeshSchemaValidationError} When the object does not have exactly one key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tagNameFromJson } from "@meshagent/api";
 * assert(tagNameFromJson({ body: { text: "hi" } }) === "body");
 * ```
 */
export function tagNameFromJson(json: JsonObject): string {
  return elementEntry(json)[0];
}

/**
 * The attributes (and child lists) of element JSON `{"<tag>": {...}}` (the official helper).
 *
 * @param json The element JSON.
 * @returns A copy of the element's object.
 * @throws {MeshSchemaValidationError} When the object does not have exactly one key, or its
 *   value is not an object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attributesFromJson } from "@meshagent/api";
 * assert.deepEqual(attributesFromJson({ body: { text: "hi" } }), { text: "hi" });
 * ```
 */
export function attributesFromJson(json: JsonObject): JsonObject {
  const [tag, value] = elementEntry(json);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new MeshSchemaValidationError(`the value of element "${tag}" must be an object`);
  }
  return { ...value as JsonObject };
}

// ------------------------------------------------------------------------------------- packing

function headerLength(packet: Uint8Array): number {
  if (packet.length < 8) {
    throw new RoomError(`packed message is ${packet.length} bytes; it needs at least 8`, 1002);
  }
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const length = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
  if (length > packet.length - 8) {
    throw new RoomError(`packed message header length ${length} exceeds the message`, 1002);
  }
  return length;
}

/**
 * The header JSON text of a packed message (the official helper; {@linkcode unpackMessage}
 * parses it too).
 *
 * @param packet A packed message.
 * @returns The header's JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packMessage, splitMessageHeader } from "@meshagent/api";
 * assert(splitMessageHeader(packMessage({ a: 1 })) === '{"a":1}');
 * ```
 */
export function splitMessageHeader(packet: Uint8Array): string {
  return new TextDecoder().decode(packet.subarray(8, 8 + headerLength(packet)));
}

/**
 * The payload bytes of a packed message (the official helper).
 *
 * @param packet A packed message.
 * @returns The bytes after the header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packMessage, splitMessagePayload } from "@meshagent/api";
 * assert.deepEqual(splitMessagePayload(packMessage({}, new Uint8Array([7]))), new Uint8Array([7]));
 * ```
 */
export function splitMessagePayload(packet: Uint8Array): Uint8Array {
  return packet.subarray(8 + headerLength(packet));
}
