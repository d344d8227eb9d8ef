import { ErrorCode, type JsonObject, RoomError } from "@meshagent/api";
import type { Participant } from "./participant.ts";

/**
 * Toolkit names a participant may never register: the built-in room toolkits of the protocol
 * (§6.1), whether or not this server runs them yet. An invoke without `participant_id` resolves
 * these to the server first (§6.6), so a registration under such a name could never be reached.
 */
export const RESERVED_TOOLKIT_NAMES: readonly string[] = [
  "messaging",
  "queues",
  "developer",
  "storage",
  "sync",
  "dataset",
  "sqlite",
  "memory",
  "containers",
  "services",
  "livekit",
  "mounts",
  "secrets",
];

/** The longest toolkit name accepted (it becomes part of a message type). */
const MAX_NAME_LENGTH = 256;

/** One toolkit registered by a participant (`room.register_toolkit`, protocol §7.1). */
export interface ToolkitRegistration {
  /** The opaque registration id returned to the host (`{"id": …}`). */
  readonly id: string;
  /** The toolkit name: the routing key of `room.invoke_tool`. */
  readonly name: string;
  /** The hosting participant. */
  readonly host: Participant;
  /** Whether other participants see it in an unfiltered listing and may call it. */
  readonly public: boolean;
  /** The title. */
  readonly title: string;
  /** The description. */
  readonly description: string;
  /** The tools as registered: tool name → `ToolDesc`, stored verbatim. */
  readonly tools: Readonly<Record<string, JsonObject>>;
  /** String annotations (Python hosts send them). */
  readonly annotations?: JsonObject;
  /** A thumbnail URL (npm 0.39.9 sends one). */
  readonly thumbnailUrl?: string;
  /** A counter value: later registrations have larger values. */
  readonly sequence: number;
}

/** Which toolkits {@linkcode ToolkitRegistry.list} returns. */
export interface ToolkitListFilter {
  /** Only the toolkits of this participant id (private ones included). */
  participantId?: string;
  /** Only the toolkits of participants whose `name` attribute (or token name) is this. */
  participantName?: string;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function invalid(text: string): RoomError {
  return new RoomError(text, ErrorCode.INVALID_REQUEST);
}

/** Reads `tools` of a registration: a map (both clients), or a list of `{name, …}` (tolerated). */
function readTools(value: unknown): Record<string, JsonObject> {
  // Object.fromEntries defines own properties, so a tool named `__proto__` stays a plain key.
  const tools: [string, JsonObject][] = [];
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) {
    for (const item of value) {
      if (!isObject(item) || typeof item.name !== "string" || item.name === "") {
        throw invalid("room.register_toolkit: each entry of a tools list needs a string name");
      }
      const { name, ...rest } = item;
      tools.push([name as string, rest]);
    }
    return Object.fromEntries(tools);
  }
  if (!isObject(value)) {
    throw invalid("room.register_toolkit: tools must be a map of tool name to tool description");
  }
  for (const [name, desc] of Object.entries(value)) {
    if (!isObject(desc)) {
      throw invalid(`room.register_toolkit: the description of tool ${name} must be an object`);
    }
    tools.push([name, desc]);
  }
  return Object.fromEntries(tools);
}

/**
 * The participant-hosted toolkits of one room (protocol §7.1, §7.2, §7.4): registration, listing
 * with public/private visibility, host resolution, and waiting for a toolkit to appear. All state
 * belongs to connections: a host's registrations end when it leaves.
 *
 * A second registration of the same name by the same participant is refused with 1004
 * ALREADY_EXISTS (unregister the first one, or host it once); several participants may register
 * the same name, and an unfiltered call or listing then picks the caller's own, else the most
 * recent public one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ToolkitRegistry, Participant } from "@meshagent/server";
 * import { Protocol } from "@meshagent/api";
 * const host = new Participant({
 *   id: "p-h", name: "host", role: "agent", scope: null,
 *   protocol: new Protocol({ send: () => {}, close: () => {} }),
 * });
 * const registry = new ToolkitRegistry();
 * const reg = registry.register(host, {
 *   name: "math", public: true, tools: { sum: { title: "Sum", description: "", input_spec: null } },
 * });
 * assert(registry.resolve("math", "p-c")?.id === reg.id);
 * const listed = registry.list("p-c") as { tools: Record<string, { participant_id: string }> };
 * assert(listed.tools.math.participant_id === "p-h");
 * ```
 */
export class ToolkitRegistry {
  readonly #byId = new Map<string, ToolkitRegistration>();
  readonly #waiters = new Set<() => void>();
  readonly #isBuiltIn: (name: string) => boolean;
  #sequence = 0;

  /**
   * Creates an empty registry.
   *
   * @param isBuiltIn Tells whether a name is one of the room's built-in toolkits (refused, like
   *   the {@linkcode RESERVED_TOOLKIT_NAMES}).
   */
  constructor(isBuiltIn: (name: string) => boolean = () => false) {
    this.#isBuiltIn = isBuiltIn;
  }

  /** How many registrations exist. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * Registers a toolkit (the header of `room.register_toolkit`).
   *
   * @param host The registering participant.
   * @param header `{name, title?, description?, tools, public?, annotations?, thumbnail_url?}`.
   * @returns The registration.
   * @throws {RoomError} 1002 for a malformed header, 1004 for a reserved name or a name this
   *   participant registered already.
   */
  register(host: Participant, header: JsonObject): ToolkitRegistration {
    const name = header.name;
    if (typeof name !== "string" || name.trim() === "") {
      throw invalid("room.register_toolkit needs a non-empty string name");
    }
    if (name.length > MAX_NAME_LENGTH) {
      throw invalid(`room.register_toolkit: the name is longer than ${MAX_NAME_LENGTH} characters`);
    }
    if (RESERVED_TOOLKIT_NAMES.includes(name) || this.#isBuiltIn(name)) {
      throw new RoomError(
        `toolkit name ${name} is reserved for a built-in room toolkit; choose another name`,
        ErrorCode.ALREADY_EXISTS,
      );
    }
    for (const existing of this.#byId.values()) {
      if (existing.host === host && existing.name === name) {
        throw new RoomError(
          `toolkit ${name} is already registered by this participant (registration ` +
            `${existing.id}); unregister it first`,
          ErrorCode.ALREADY_EXISTS,
        );
      }
    }
    const tools = readTools(header.tools);
    const registration: ToolkitRegistration = {
      id: crypto.randomUUID(),
      name,
      host,
      public: header.public === true,
      title: typeof header.title === "string" ? header.title : name,
      description: typeof header.description === "string" ? header.description : "",
      tools,
      ...(isObject(header.annotations) ? { annotations: header.annotations } : {}),
      ...(typeof header.thumbnail_url === "string" ? { thumbnailUrl: header.thumbnail_url } : {}),
      sequence: ++this.#sequence,
    };
    this.#byId.set(registration.id, registration);
    this.#changed();
    return registration;
  }

  /**
   * Removes a registration. Calls in flight are not affected (they finish).
   *
   * @param host The participant asking; only the owner may unregister.
   * @param id The registration id.
   * @returns The removed registration.
   * @throws {RoomError} 1003 for an unknown id, 1001 when another participant owns it.
   */
  unregister(host: Participant, id: string): ToolkitRegistration {
    const registration = this.#byId.get(id);
    if (!registration) {
      throw new RoomError(`toolkit registration ${id} was not found`, ErrorCode.NOT_FOUND);
    }
    if (registration.host !== host) {
      throw new RoomError(
        `permission denied: toolkit registration ${id} belongs to another participant`,
        ErrorCode.PERMISSION_DENIED,
      );
    }
    this.#byId.delete(id);
    this.#changed();
    return registration;
  }

  /**
   * Drops every registration of a participant that left.
   *
   * @param participant The participant.
   * @returns How many registrations were dropped.
   */
  participantLeft(participant: Participant): number {
    let dropped = 0;
    for (const [id, registration] of this.#byId) {
      if (registration.host === participant) {
        this.#byId.delete(id);
        dropped++;
      }
    }
    if (dropped > 0) this.#changed();
    return dropped;
  }

  /**
   * Finds the host of a toolkit for a call (protocol §7.4): with `participantId`, that
   * participant's registration (public or private); otherwise the caller's own registration,
   * else the most recent public one.
   *
   * @param name The toolkit name.
   * @param callerId The calling participant's id.
   * @param participantId The requested host, or null/undefined for any.
   * @returns The registration, or undefined when none fits.
   */
  resolve(
    name: string,
    callerId: string,
    participantId?: string | null,
  ): ToolkitRegistration | undefined {
    let best: ToolkitRegistration | undefined;
    for (const r of this.#byId.values()) {
      if (r.name !== name || r.host.closed) continue;
      if (participantId != null) {
        if (r.host.id === participantId) return r;
        continue;
      }
      if (r.host.id === callerId) return r;
      if (r.public && (!best || r.sequence > best.sequence)) best = r;
    }
    return best;
  }

  /**
   * The `json` result of `room.list_toolkits` (protocol §7.2): `{"tools": {<name>: {…}}}` with
   * `tools` as maps at both levels. Without a filter: every public toolkit plus the caller's
   * private ones (the caller's own wins a name clash, then the most recent). With a filter: the
   * matching participants' toolkits, private ones included.
   *
   * @param callerId The calling participant's id.
   * @param filter Which host(s).
   * @returns The listing.
   */
  list(callerId: string, filter: ToolkitListFilter = {}): JsonObject {
    const filtered = filter.participantId !== undefined || filter.participantName !== undefined;
    const chosen = new Map<string, ToolkitRegistration>();
    const rank = (r: ToolkitRegistration) => (r.host.id === callerId ? 1 : 0) * 1e15 + r.sequence;
    for (const r of this.#byId.values()) {
      if (r.host.closed) continue;
      if (filtered) {
        if (!matches(r.host, filter)) continue;
      } else if (!r.public && r.host.id !== callerId) {
        continue;
      }
      const current = chosen.get(r.name);
      if (!current || rank(r) > rank(current)) chosen.set(r.name, r);
    }
    const tools = Object.fromEntries([...chosen.values()].map((r) => [r.name, describe(r)]));
    return { tools };
  }

  /**
   * True when a filtered listing would find at least one toolkit.
   *
   * @param filter Which host(s).
   * @returns Whether a matching participant hosts a toolkit.
   */
  has(filter: ToolkitListFilter): boolean {
    for (const r of this.#byId.values()) {
      if (!r.host.closed && matches(r.host, filter)) return true;
    }
    return false;
  }

  /**
   * Waits until a filtered listing finds a toolkit (`room.list_toolkits` with `timeout`).
   *
   * @param filter Which host(s).
   * @param timeoutMs How long to wait at most.
   * @param signal Ends the wait early (e.g. the caller left).
   * @returns True when a toolkit appeared, false on timeout or abort.
   */
  waitFor(filter: ToolkitListFilter, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.has(filter)) return Promise.resolve(true);
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (found: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        signal?.removeEventListener("abort", onAbort);
        resolve(found);
      };
      const check = () => {
        if (this.has(filter)) done(true);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#waiters.add(check);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #changed(): void {
    for (const check of [...this.#waiters]) check();
  }
}

function matches(host: Participant, filter: ToolkitListFilter): boolean {
  if (filter.participantId !== undefined && host.id !== filter.participantId) return false;
  if (filter.participantName !== undefined) {
    const attr = host.attributes.name;
    if (attr !== filter.participantName && host.name !== filter.participantName) return false;
  }
  return true;
}

function describe(r: ToolkitRegistration): JsonObject {
  const out: JsonObject = {
    name: r.name,
    title: r.title,
    description: r.description,
    participant_id: r.host.id,
    public: r.public,
    tools: { ...r.tools },
  };
  if (r.annotations) out.annotations = r.annotations;
  if (r.thumbnailUrl !== undefined) out.thumbnail_url = r.thumbnailUrl;
  return out;
}
