// The official TypeScript SDK's names: every name `@meshagent/meshagent` 0.39.9 exports (read at
// run time: the installed package's runtime exports, and its type declarations for the names
// that only exist as types) must be exported by `@meshagent/api`, `@meshagent/tools` or
// `@meshagent/agents` too — under the same name — unless it belongs to a feature we have not
// built, listed below with the reason. Code written for the official SDK then compiles against
// ours by changing the import.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { exportedNames } from "./_exported_names.ts";

const require = createRequire(import.meta.url);
const OFFICIAL_ENTRY = require.resolve("@meshagent/meshagent");
const PACKAGES = ["api", "tools", "agents"] as const;

/**
 * Whole areas of the official SDK we do not mirror: the names declared in these files of its
 * package that we do not export. (A name of such a file that we do export is fine.)
 */
const LEFT_OUT_FILES: Readonly<Record<string, string>> = {
  "containers-client.d.ts": "containers (images, builds, exec, logs): not built; it needs a room " +
    "server with a container runtime",
  "memory-client.d.ts": "the room memory graph (MemoryClient): not built",
  "secrets-client.d.ts": "the room secrets client (secret and OAuth token requests): not built",
  "meshagent-client.d.ts": "the REST admin client's platform types: Meshagent (ours) covers " +
    "projects, API keys, secrets, rooms, webhooks and services with types of its own; the " +
    "official platform-only types (mailboxes, feeds, billing, OAuth clients, container and " +
    "mount specs…) are not mirrored",
  "services-client.d.ts": "the runtime state of container services (ServiceRuntimeState, " +
    "ListServicesResult): ServicesClient is ours (call, list, restart), container services " +
    "are not built",
  "datasets-client.d.ts": "datasets (issue 13): the official DatasetsClient's typed value " +
    "wrappers (DatasetExpression, DatasetDate, DatasetUuid, DatasetJson, DatasetStruct) and " +
    "result types; ours takes plain values and SQL text and returns rows",
  "document.d.ts": "the official client's own JavaScript document runtime (RuntimeDocument, " +
    "Node, TextElement and their events); ours is MeshDocument over Yjs, where text is an Element",
  "client.d.ts": "the same runtime's XML document classes (ClientXmlDocument, XmlElement, XmlText)",
  "runtime.d.ts": "the entry points the official runtime gives its CRDT backend (applyChanges, " +
    "registerDocument, getState…); ours applies updates on MeshDocument itself",
};

/** Single names left out, each with the reason. */
const LEFT_OUT_NAMES: Readonly<Record<string, string>> = {
  RemoteTaskRunner: "a stub in 0.39.9 (start() does nothing) for the retired agent.ask " +
    "protocol; TaskRunner (agents) is the working counterpart",
  base36Encode: "API-key text encoding internals; ours: parseApiKey and formatApiKey/encodeApiKey",
  base36Decode: "API-key text encoding internals (see base36Encode)",
  compressUuid: "API-key text encoding internals (see base36Encode)",
  decompressUuid: "API-key text encoding internals (see base36Encode)",
  base64CompressUuid: "API-key text encoding internals (see base36Encode)",
  base64DecompressUuid: "API-key text encoding internals (see base36Encode)",
  Completer: "a promise helper of the official client, no MeshAgent feature " +
    "(Promise.withResolvers does it)",
  RefCount: "a reference-count helper of the official client, no MeshAgent feature",
  mergeUint8Arrays: "a byte helper of the official client, no MeshAgent feature",
  encoder: "a shared TextEncoder of the official client (use new TextEncoder())",
  decoder: "a shared TextDecoder of the official client (use new TextDecoder())",
  __version__: "the official package's own version",
  EventName: "our EventEmitter's event names are the keys of its typed event map, not any " +
    "string or symbol",
  StringList: "a plain string[] here",
  Uint8List: "a plain Uint8Array here",
  websocketProtocol: "protocol factories: ours connects with new RoomClient({ url, token }) " +
    "(or roomConnectionFromEnv), not a ProtocolFactory",
  ProtocolFactory: "protocol factories (see websocketProtocol)",
  ProtocolCloseKind: "ours reports how a connection ended in the `closed` event " +
    "({code, reason, error})",
  ProtocolReconnectUnsupportedException: "never thrown here: every protocol of ours can reconnect",
  StreamProtocolChannel: "the official client's channel plumbing; ours implements ProtocolChannel",
  WebSocketProtocolChannel: "the official client's channel plumbing; ours is inside " +
    "WebSocketClientProtocol",
  ProtocolMessageStream: "the official client's channel plumbing (ours uses web streams)",
  RoomProtocolProxy: "the official RoomClient's internal protocol proxy",
  SyncClientEvent: "ours emits typed events by name (SyncClientEvents), not {type, doc}",
};

/**
 * Official runtime exports (classes, enums) that are plain objects here, so we export the name
 * as a type only: code that names the type compiles; `new X(...)`/`instanceof X` does not.
 */
const TYPE_ONLY: Readonly<Record<string, string>> = {
  RoomMessage: "room messages are plain {fromParticipantId, type, message, attachment} objects",
  RoomStatusEvent: "room.status events are plain {status, message} objects",
  RoomLogEvent: "developer log events are plain {type, data} objects",
  RoomEvent: "room events are plain objects, each typed by its name (RoomClientEvents)",
  RoomMessageEvent: "room.on('message') hands over the RoomMessage itself; the wrapper type " +
    "exists for code that names it",
  FileCreatedEvent: "storage events are plain objects (a new file is a file.updated here)",
  FileUpdatedEvent: "storage events are plain {path, participantId} objects",
  FileDeletedEvent: "storage events are plain {path, participantId} objects",
  FileMovedEvent: "storage events are plain {sourcePath, destinationPath, participantId} objects",
  StorageEntry: "storage.list()/stat() return plain {name, isFolder, size, …} objects",
  Queue: "queues.list() returns plain {name, size} objects (QueueInfo)",
  ToolDescription: "toolkit descriptions are plain objects parsed from the room's JSON",
  ToolkitDescription: "toolkit descriptions are plain objects parsed from the room's JSON",
  ElementProperty: "the union ValueProperty | ChildProperty (there is no common base class)",
};

/**
 * Names from the official SDKs' documentation (the Python SDK and the spec) that the TypeScript
 * package 0.39.9 does not export; ours must still have them, unless listed with a reason.
 */
const SPEC_NAMES: readonly string[] = ["ContentTool", "RoomToolContext", "SqliteClient"];
const SPEC_LEFT_OUT: Readonly<Record<string, string>> = {
  RequiredTable: "agent requirements on dataset tables: not built (RequiredToolkit and " +
    "RequiredSchema are)",
};

interface Names {
  /** Runtime (value) exports. */
  values: Set<string>;
  /** Every export, values and types, with the file that declares it. */
  all: Map<string, string>;
}

async function official(): Promise<Names> {
  const values = new Set(Object.keys(require("@meshagent/meshagent")));
  const all = await exportedNames(`${dirname(OFFICIAL_ENTRY)}/index.d.ts`);
  return { values, all };
}

async function ours(): Promise<Names> {
  const values = new Set<string>();
  const all = new Map<string, string>();
  const modules = [
    await import("@meshagent/api"),
    await import("@meshagent/tools"),
    await import("@meshagent/agents"),
  ];
  for (const module of modules) for (const name of Object.keys(module)) values.add(name);
  for (const pkg of PACKAGES) {
    const entry = fileURLToPath(new URL(`../${pkg}/mod.ts`, import.meta.url));
    for (const [name, file] of await exportedNames(entry)) all.set(name, `${pkg}/${file}`);
  }
  for (const name of values) if (!all.has(name)) all.set(name, "?");
  return { values, all };
}

function leftOut(name: string, file: string | undefined): string | undefined {
  return LEFT_OUT_NAMES[name] ?? (file ? LEFT_OUT_FILES[file] : undefined);
}

Deno.test("the official SDK's exports are read from the installed package", async () => {
  const { values, all } = await official();
  // The official package is the one the interop tests use; its exports must really be there.
  assert.ok(values.size > 100, `only ${values.size} runtime exports found`);
  assert.ok(values.has("RoomClient") && values.has("ParticipantToken"));
  for (const name of values) assert.ok(all.has(name), `${name} has no type declaration`);
});

Deno.test("every official name of a feature we have is exported by api, tools or agents", async () => {
  const theirs = await official();
  const mine = await ours();
  const missing: string[] = [];
  const notValues: string[] = [];
  for (const [name, file] of theirs.all) {
    if (mine.all.has(name)) {
      // An official runtime export must be a runtime export here too, or be listed as type-only.
      if (theirs.values.has(name) && !mine.values.has(name) && !(name in TYPE_ONLY)) {
        notValues.push(`${name} (${mine.all.get(name)})`);
      }
      continue;
    }
    if (leftOut(name, file) === undefined) missing.push(`${name} (official ${file})`);
  }
  for (const name of SPEC_NAMES) {
    if (!mine.values.has(name)) missing.push(`${name} (the official SDKs' docs)`);
  }
  assert.deepEqual(
    missing,
    [],
    "export these under the official names (an alias in the package of the feature, with a " +
      "JSDoc that says what it stands for), or list the feature in tests/official_sdk_names_" +
      "test.ts as not built, with the reason",
  );
  assert.deepEqual(
    notValues,
    [],
    "the official SDK exports these as values (classes, functions): export a value alias, or " +
      "list the name in TYPE_ONLY with the reason",
  );
});

Deno.test("the lists of names left out are current", async () => {
  const theirs = await official();
  const mine = await ours();
  const stale: string[] = [];
  for (const name of Object.keys(LEFT_OUT_NAMES)) {
    if (!theirs.all.has(name)) stale.push(`${name}: not an official export`);
    else if (mine.all.has(name)) stale.push(`${name}: exported now (${mine.all.get(name)})`);
  }
  for (const file of Object.keys(LEFT_OUT_FILES)) {
    const names = [...theirs.all].filter(([, f]) => f === file).map(([n]) => n);
    if (names.length === 0) stale.push(`${file}: no official exports come from it`);
    else if (names.every((n) => mine.all.has(n))) stale.push(`${file}: every name is exported now`);
  }
  for (const name of Object.keys(TYPE_ONLY)) {
    if (!theirs.values.has(name)) stale.push(`${name}: not an official runtime export`);
    else if (mine.values.has(name)) stale.push(`${name}: a value here now`);
    else if (!mine.all.has(name)) stale.push(`${name}: not exported here at all`);
  }
  for (const name of Object.keys(SPEC_LEFT_OUT)) {
    if (mine.all.has(name)) stale.push(`${name}: exported now`);
  }
  assert.deepEqual(stale, [], "remove these entries from tests/official_sdk_names_test.ts");
});
