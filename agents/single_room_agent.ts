import {
  ConnectionClosedError,
  type EnvSource,
  ErrorCode,
  type JsonObject,
  RoomClient,
  RoomConfigError,
  roomConnectionFromEnv,
  RoomError,
  type ToolkitDescription,
} from "@meshagent/api";
import {
  type HostedToolkit,
  RemoteToolkit,
  startHostedToolkit,
  type Toolkit,
} from "@meshagent/tools";
import { Agent, type AgentOptions } from "./agent.ts";
import { RequiredSchema, RequiredToolkit, type Requirement } from "./requirement.ts";
import { RequirementError } from "./requirement_error.ts";
import { listenForTermination } from "./_termination_signal.ts";

/** The options of a {@linkcode SingleRoomAgent}. */
export interface SingleRoomAgentOptions extends AgentOptions {
  /**
   * Toolkits to host in the room (what the default {@linkcode SingleRoomAgent.getExposedToolkits}
   * returns). Each is registered as public or private according to its own `public` flag.
   */
  toolkits?: readonly Toolkit[];
  /**
   * Participant attributes to set once connected, on top of the defaults (`title` and
   * `description`, when they are not empty).
   */
  attributes?: JsonObject;
  /**
   * How long (ms) {@linkcode SingleRoomAgent.start} waits for every required toolkit to appear
   * (default 30 000).
   */
  requirementTimeout?: number;
  /** How long (ms) connecting from the environment may take (default 30 000). */
  connectTimeout?: number;
  /**
   * How long (ms) the agent's own connection keeps reconnecting after it is lost; `0` disables
   * reconnecting, `null` retries forever (default 300 000, as `RoomClient`). Not used for a room
   * passed to `start`.
   */
  reconnectTimeout?: number | null;
  /** The role grant of a token the agent mints for itself (default `"agent"`). */
  role?: string;
  /** Where the agent reports what it skipped or waits for (default `console.warn`). */
  log?: (message: string) => void;
}

/** The options of {@linkcode SingleRoomAgent.start}. */
export interface SingleRoomAgentStartOptions {
  /**
   * A started room client to use (the agent neither starts nor disposes it). Default: connect
   * from the environment — `MESHAGENT_ROOM`, `MESHAGENT_TOKEN` (or a token minted for the agent's
   * name with `MESHAGENT_API_KEY`/`MESHAGENT_SECRET`), and `MESHAGENT_API_URL` or
   * `MESHAGENT_ROOM_URL` — as `meshagent room connect` sets them.
   */
  room?: RoomClient;
  /** Where to read the environment (default: the process environment). */
  env?: EnvSource;
  /** Cancels the start (the agent is then stopped). */
  signal?: AbortSignal;
}

/** The options of {@linkcode SingleRoomAgent.run}. */
export interface SingleRoomAgentRunOptions extends SingleRoomAgentStartOptions {
  /** Stop on SIGTERM or SIGINT (default true; Deno only, ignored elsewhere). */
  handleSignals?: boolean;
}

/** The options of {@linkcode SingleRoomAgent.wait}. */
export interface SingleRoomAgentWaitOptions {
  /** Ends the wait early (the agent keeps running). */
  signal?: AbortSignal;
}

type State = "idle" | "starting" | "running" | "stopped";

const DEFAULT_REQUIREMENT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * An agent that lives in one room: it connects (or uses a room client you give it), installs its
 * requirements — writes required schemas to room storage, waits for required toolkits and wraps
 * them as {@linkcode RemoteToolkit}s — and hosts the toolkits returned by
 * {@linkcode SingleRoomAgent.getExposedToolkits}, until the room closes or it is stopped.
 *
 * Subclass it and override `getExposedToolkits()`, or pass `toolkits`. `run()` is the whole life
 * of a program started with `meshagent room connect … -- deno run -A agent.ts`: connect from the
 * environment, start, wait for the room to close or for SIGTERM/SIGINT, stop.
 *
 * @example A toolkit agent (connecting needs a room; `start({ room })` takes a started client)
 * ```ts
 * import assert from "node:assert/strict";
 * import { SingleRoomAgent } from "@meshagent/agents";
 * import { FunctionTool, Toolkit } from "@meshagent/tools";
 *
 * const agent = new SingleRoomAgent({
 *   name: "math-tools",
 *   description: "adds numbers",
 *   toolkits: [
 *     new Toolkit({
 *       name: "math-toolkit",
 *       public: true,
 *       tools: [
 *         new FunctionTool<{ a: number; b: number }>({
 *           name: "add",
 *           inputSchema: {
 *             type: "object",
 *             properties: { a: { type: "number" }, b: { type: "number" } },
 *             required: ["a", "b"],
 *             additionalProperties: false,
 *           },
 *           run: (_ctx, { a, b }) => ({ result: a + b }),
 *         }),
 *       ],
 *     }),
 *   ],
 * });
 * assert(agent.toJson().name === "math-tools");
 * // In a program run by `meshagent room connect`: await agent.run();
 * ```
 */
export class SingleRoomAgent extends Agent {
  readonly #toolkits: readonly Toolkit[];
  readonly #attributes: JsonObject;
  readonly #requirementTimeout: number;
  readonly #connectTimeout: number;
  readonly #reconnectTimeout?: number | null;
  readonly #role: string;
  readonly #log: (message: string) => void;
  readonly #lifetime = new AbortController();
  readonly #hosted: HostedToolkit[] = [];
  readonly #required = new Map<string, RemoteToolkit>();
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  #state: State = "idle";
  #room?: RoomClient;
  #ownsRoom = false;
  #offClosed?: () => void;
  #starting?: Promise<void>;
  #cleaning?: Promise<void>;

  /**
   * Creates the agent (nothing connects until {@linkcode SingleRoomAgent.start}).
   *
   * @param options Metadata, requirements, toolkits to host, attributes and timeouts.
   */
  constructor(options: SingleRoomAgentOptions = {}) {
    super(options);
    this.#toolkits = Object.freeze([...(options.toolkits ?? [])]);
    this.#attributes = { ...(options.attributes ?? {}) };
    this.#requirementTimeout = options.requirementTimeout ?? DEFAULT_REQUIREMENT_TIMEOUT_MS;
    this.#connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (options.reconnectTimeout !== undefined) this.#reconnectTimeout = options.reconnectTimeout;
    this.#role = options.role ?? "agent";
    this.#log = options.log ?? ((m) => console.warn(m));
    this.#done = new Promise<void>((resolve) => this.#resolveDone = resolve);
  }

  /** The name given, else the participant's `name` in the room once connected. */
  override get name(): string | undefined {
    const given = super.name;
    if (given !== undefined) return given;
    const name = this.#room?.localParticipant?.getAttribute("name");
    return typeof name === "string" ? name : undefined;
  }

  /**
   * The room client, once {@linkcode SingleRoomAgent.start} connected it.
   *
   * @throws {RoomError} (1006) Before `start`.
   */
  get room(): RoomClient {
    if (!this.#room) {
      throw new RoomError("the agent is not started: call start() first", ErrorCode.INVALID_STATE);
    }
    return this.#room;
  }

  /** True between a successful start and the stop (or the room closing). */
  get isRunning(): boolean {
    return this.#state === "running" && !this.#lifetime.signal.aborted;
  }

  /** The toolkits this agent hosts in the room now. */
  get hostedToolkits(): readonly HostedToolkit[] {
    return [...this.#hosted];
  }

  /** The required toolkits, resolved by `start`, as remote toolkits (in `requires` order). */
  get requiredToolkits(): readonly RemoteToolkit[] {
    return [...this.#required.values()];
  }

  /**
   * A resolved required toolkit by name.
   *
   * @param name The toolkit name.
   * @returns The remote toolkit, or undefined when it was not required (or not resolved yet).
   */
  getRequiredToolkit(name: string): RemoteToolkit | undefined {
    return this.#required.get(name);
  }

  /**
   * The toolkits to host in the room; override it to build them (it runs after the requirements
   * are installed, so it may use {@linkcode SingleRoomAgent.requiredToolkits}). By default, the
   * `toolkits` option.
   *
   * @returns The toolkits.
   */
  getExposedToolkits(): readonly Toolkit[] | Promise<readonly Toolkit[]> {
    return this.#toolkits;
  }

  /**
   * The participant attributes the agent sets when it connects: `title` and `description` when
   * they are not empty, then the `attributes` option. Override to change them.
   *
   * @returns The attributes.
   */
  getParticipantAttributes(): JsonObject {
    const attributes: JsonObject = {};
    if (this.title !== "") attributes.title = this.title;
    if (this.description !== "") attributes.description = this.description;
    return { ...attributes, ...this.#attributes };
  }

  /**
   * Connects (or takes the given room client), sets the participant attributes, installs the
   * requirements and hosts the exposed toolkits. On any failure everything done so far is undone
   * (toolkits unregistered, an own connection closed) before the error is thrown.
   *
   * @param options A started room client, or where to read the environment; a cancel signal.
   * @throws {RequirementError} When a requirement cannot be met (e.g. a required toolkit did not
   *   appear within `requirementTimeout`).
   * @throws {RoomConfigError} When connecting from an environment that names no room or token.
   * @throws {RoomError} When the room refuses a registration, or `start` was called before.
   */
  start(options: SingleRoomAgentStartOptions = {}): Promise<void> {
    if (this.#state !== "idle") {
      return Promise.reject(
        new RoomError(
          "start() was called already: an agent starts once; make a new one to start again",
          ErrorCode.INVALID_STATE,
        ),
      );
    }
    this.#state = "starting";
    this.#starting = this.#start(options);
    return this.#starting;
  }

  async #start(options: SingleRoomAgentStartOptions): Promise<void> {
    const lifetime = this.#lifetime.signal;
    const signal = options.signal ? AbortSignal.any([options.signal, lifetime]) : lifetime;
    try {
      signal.throwIfAborted();
      let room: RoomClient;
      if (options.room) {
        room = options.room;
        this.#room = room;
        if (!room.isConnected) {
          throw new RoomError(
            "the room client given to start() is not connected: await room.start() first",
            ErrorCode.INVALID_STATE,
          );
        }
      } else {
        room = await this.#connect(options.env, signal);
      }
      this.#offClosed = room.on("closed", () => this.#onRoomClosed());
      if (room.isClosed) throw new ConnectionClosedError("the room connection closed");

      const attributes = this.getParticipantAttributes();
      if (Object.keys(attributes).length > 0) room.localParticipant!.setAttributes(attributes);

      await this.installRequirements({ signal });

      for (const toolkit of await this.getExposedToolkits()) {
        signal.throwIfAborted();
        const hosted = await startHostedToolkit(room, toolkit);
        this.#hosted.push(hosted);
      }
      signal.throwIfAborted();
      this.#state = "running";
    } catch (e) {
      await this.#cleanup();
      throw e;
    }
  }

  async #connect(env: EnvSource | undefined, signal: AbortSignal): Promise<RoomClient> {
    let url: string;
    let token: string;
    try {
      ({ url, token } = await roomConnectionFromEnv({
        participantName: super.name,
        role: this.#role,
        env,
      }));
    } catch (e) {
      if (e instanceof RoomConfigError) {
        throw new RoomConfigError(
          e.code,
          `the agent cannot connect: ${e.message}. Run it with ` +
            "`meshagent room connect --room ROOM --identity NAME -- <command>`, or pass a started " +
            "RoomClient to start({ room })",
        );
      }
      throw e;
    }
    const room = new RoomClient({
      url,
      token,
      ...(this.#reconnectTimeout !== undefined ? { reconnectTimeout: this.#reconnectTimeout } : {}),
    });
    this.#room = room;
    this.#ownsRoom = true;
    // start() disposes the client when it fails.
    await room.start({ signal, timeout: this.#connectTimeout });
    return room;
  }

  /**
   * Installs every requirement (`start` calls it): a {@linkcode RequiredSchema} with `json` is
   * written to room storage as `.schemas/<name>.json`; one without must be there already; a
   * {@linkcode RequiredToolkit} is waited for (up to `requirementTimeout`, all toolkits at the
   * same time) and resolved as a {@linkcode RemoteToolkit}.
   *
   * @param options A cancel signal.
   * @throws {RequirementError} When one cannot be met.
   */
  async installRequirements(options: { signal?: AbortSignal } = {}): Promise<void> {
    const room = this.room;
    const signal = options.signal ?? this.#lifetime.signal;
    const deadline = Date.now() + this.#requirementTimeout;
    const jobs: Promise<void>[] = [];
    for (const requirement of this.requires) {
      jobs.push(this.#install(room, requirement, deadline, signal));
    }
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  async #install(
    room: RoomClient,
    requirement: Requirement,
    deadline: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (requirement instanceof RequiredToolkit) {
      const toolkit = await this.#resolveToolkit(room, requirement, deadline, signal);
      this.#required.set(requirement.name, toolkit);
    } else if (requirement instanceof RequiredSchema) {
      await this.#installSchema(room, requirement, signal);
    } else {
      this.#log(
        `agent ${this.name ?? ""}: skipping requirement ${requirement.name}: this agent does not ` +
          "know how to install a requirement of this kind",
      );
    }
  }

  async #resolveToolkit(
    room: RoomClient,
    requirement: RequiredToolkit,
    deadline: number,
    signal: AbortSignal,
  ): Promise<RemoteToolkit> {
    const host = requirement.participantName ?? undefined;
    let delay = 100;
    let listed: ToolkitDescription[] = [];
    let missingTools: string[] = [];
    while (true) {
      signal.throwIfAborted();
      const remaining = Math.max(0, deadline - Date.now());
      listed = await room.agents.listToolkits({
        ...(host !== undefined ? { participantName: host, timeout: remaining / 1000 } : {}),
        signal,
      });
      const found = listed.find((t) => t.name === requirement.name);
      if (found) {
        const have = new Set(found.tools.map((t) => t.name));
        missingTools = (requirement.tools ?? []).filter((t) => !have.has(t));
        if (missingTools.length === 0) {
          const wanted = requirement.tools === null ? null : new Set(requirement.tools);
          const description: ToolkitDescription = wanted === null
            ? found
            : { ...found, tools: found.tools.filter((t) => wanted.has(t.name)) };
          return new RemoteToolkit(room, description);
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(delay, left), signal);
      delay = Math.min(delay * 2, 1000);
    }
    const where = host !== undefined ? ` hosted by participant "${host}"` : "";
    const waited = seconds(this.#requirementTimeout);
    if (missingTools.length > 0) {
      throw new RequirementError(
        `required toolkit "${requirement.name}"${where} is in the room but lacks the tools ` +
          `${missingTools.join(", ")} (waited ${waited}); it has ` +
          `${listed.find((t) => t.name === requirement.name)?.tools.map((t) => t.name).join(", ")}`,
        ErrorCode.NOT_FOUND,
        requirement.name,
      );
    }
    const visible = listed.map((t) => t.name).join(", ") || "none";
    throw new RequirementError(
      `required toolkit "${requirement.name}"${where} did not appear in room ` +
        `${room.roomName ?? ""} within ${waited} (toolkits visible: ${visible}). Start the ` +
        `participant that hosts it${
          host !== undefined ? ` (e.g. meshagent room connect --identity ${host} -- <command>)` : ""
        }, make sure it registers the toolkit as public${
          host !== undefined ? " or names this host" : ""
        }, or raise requirementTimeout`,
      ErrorCode.NOT_FOUND,
      requirement.name,
    );
  }

  async #installSchema(
    room: RoomClient,
    requirement: RequiredSchema,
    signal: AbortSignal,
  ): Promise<void> {
    const path = requirement.path;
    if (requirement.json === null) {
      let present: boolean;
      try {
        present = await room.storage.exists(path, { signal });
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        throw new RequirementError(
          `cannot check required schema "${requirement.name}" (${path}) in room storage: ` +
            message(e),
          e instanceof RoomError && e.code !== undefined ? e.code : ErrorCode.OPERATION_FAILED,
          requirement.name,
          { cause: e },
        );
      }
      if (!present) {
        throw new RequirementError(
          `required schema "${requirement.name}" is not in the room: ${path} is missing. Give ` +
            "the RequiredSchema its json so the agent installs it, or upload the file " +
            `(meshagent room storage cp ${requirement.name}.json room://${path})`,
          ErrorCode.NOT_FOUND,
          requirement.name,
        );
      }
      return;
    }
    const bytes = new TextEncoder().encode(JSON.stringify(requirement.json, null, 2));
    try {
      await room.storage.upload(path, bytes, {
        overwrite: true,
        mimeType: "application/json",
        signal,
      });
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw new RequirementError(
        `cannot install required schema "${requirement.name}" to ${path} in room storage: ` +
          `${message(e)}. The agent's token needs write access to room storage`,
        e instanceof RoomError && e.code !== undefined ? e.code : ErrorCode.OPERATION_FAILED,
        requirement.name,
        { cause: e },
      );
    }
  }

  /**
   * Waits until the agent is done: the room closed (for good) or {@linkcode SingleRoomAgent.stop}
   * was called, or the signal aborted.
   *
   * @param options A signal that ends the wait early.
   * @throws {RoomError} (1006) When the agent was never started.
   */
  async wait(options: SingleRoomAgentWaitOptions = {}): Promise<void> {
    if (this.#state === "idle") {
      throw new RoomError(
        "the agent is not started: call start() before wait()",
        ErrorCode.INVALID_STATE,
      );
    }
    const signal = options.signal;
    if (!signal) return await this.#done;
    if (signal.aborted) return;
    let onAbort!: () => void;
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([this.#done, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * The whole life of an agent program: {@linkcode SingleRoomAgent.start} (from the environment
   * unless a room is given), {@linkcode SingleRoomAgent.wait} until the room closes, SIGTERM or
   * SIGINT arrives (Deno) or the signal aborts, then {@linkcode SingleRoomAgent.stop}. A stop
   * requested by a signal is a normal end, even during the start.
   *
   * @param options The room or environment, a stop signal, and whether to handle OS signals.
   * @throws {RequirementError} When a requirement cannot be met.
   * @throws {RoomConfigError} When the environment names no room or token.
   */
  async run(options: SingleRoomAgentRunOptions = {}): Promise<void> {
    const termination = options.handleSignals === false ? undefined : listenForTermination();
    const signals = [options.signal, termination?.signal].filter((s): s is AbortSignal =>
      s !== undefined
    );
    const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
    try {
      try {
        await this.start({ room: options.room, env: options.env, signal });
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      await this.wait({ signal });
    } finally {
      termination?.dispose();
      await this.stop();
    }
  }

  /**
   * Stops the agent: unregisters its toolkits (calls still running are cancelled), and closes
   * the connection it opened itself (a room client given to `start` is left open). Safe to call
   * more than once, and during `start` (which then fails).
   */
  async stop(): Promise<void> {
    if (this.#state === "idle") {
      this.#state = "stopped";
      this.#lifetime.abort(new ConnectionClosedError("the agent was stopped"));
      this.#resolveDone();
      return;
    }
    this.#lifetime.abort(new ConnectionClosedError("the agent was stopped"));
    await this.#starting?.catch(() => {});
    await this.#cleanup();
  }

  /** `await using agent = …` stops the agent at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #onRoomClosed(): void {
    this.#lifetime.abort(new ConnectionClosedError("the room connection closed"));
    this.#resolveDone();
  }

  #cleanup(): Promise<void> {
    this.#cleaning ??= (async () => {
      this.#state = "stopped";
      const errors: unknown[] = [];
      for (const hosted of this.#hosted.splice(0).reverse()) {
        try {
          await hosted.stop();
        } catch (e) {
          errors.push(e);
        }
      }
      this.#offClosed?.();
      this.#offClosed = undefined;
      if (this.#ownsRoom && this.#room) await this.#room.dispose();
      this.#resolveDone();
      if (errors.length > 0) {
        this.#log(`agent ${this.name ?? ""}: unregistering toolkits failed: ${message(errors[0])}`);
      }
    })();
    return this.#cleaning;
  }
}
