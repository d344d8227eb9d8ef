import { Requirement, type RequirementJson } from "./requirement.ts";

/** The options of an {@linkcode Agent}. */
export interface AgentOptions {
  /**
   * The agent's name. A {@linkcode SingleRoomAgent} also uses it as the participant name when it
   * mints its own token; by default its name is the participant's `name` once connected.
   */
  name?: string;
  /** A human-readable title (default: the name). */
  title?: string;
  /** What the agent does (default `""`). */
  description?: string;
  /** What the agent needs in its room (toolkits, schemas). */
  requires?: readonly Requirement[];
  /** Free-form labels, e.g. for grouping agents in a UI. */
  labels?: readonly string[];
  /** String annotations, e.g. `{"meshagent.agent.type": "Tools"}`. */
  annotations?: Readonly<Record<string, string>>;
}

/**
 * The metadata of an agent, as the official SDKs write it (`to_json()` of an agent):
 * `{"name", "title", "description", "requires": [...], "labels": [...], "annotations": {...}}`.
 */
export interface AgentJson {
  /** The name, or null when it is not known yet. */
  name: string | null;
  /** The title. */
  title: string;
  /** The description. */
  description: string;
  /** The requirements' JSON. */
  requires: RequirementJson[];
  /** The labels. */
  labels: string[];
  /** The annotations. */
  annotations: Record<string, string>;
}

/**
 * An agent: a named participant with a description and the requirements it needs in a room.
 * This base class holds the metadata; {@linkcode SingleRoomAgent} connects it to a room.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Agent, RequiredToolkit } from "@meshagent/agents";
 * const agent = new Agent({
 *   name: "helper",
 *   description: "answers questions",
 *   requires: [new RequiredToolkit({ name: "math-toolkit" })],
 *   labels: ["demo"],
 * });
 * const json = agent.toJson();
 * assert(json.title === "helper" && json.requires[0] && "toolkit" in json.requires[0]);
 * ```
 */
export class Agent {
  readonly #name?: string;
  readonly #title?: string;
  /** What the agent does. */
  readonly description: string;
  /** What the agent needs in its room. */
  readonly requires: readonly Requirement[];
  /** Free-form labels. */
  readonly labels: readonly string[];
  /** String annotations. */
  readonly annotations: Readonly<Record<string, string>>;

  /**
   * Creates the value.
   *
   * @param options Name, title, description, requirements, labels and annotations.
   */
  constructor(options: AgentOptions = {}) {
    if (options.name !== undefined) this.#name = options.name;
    if (options.title !== undefined) this.#title = options.title;
    this.description = options.description ?? "";
    this.requires = Object.freeze([...(options.requires ?? [])]);
    this.labels = Object.freeze([...(options.labels ?? [])]);
    this.annotations = Object.freeze({ ...(options.annotations ?? {}) });
  }

  /** The agent's name, when known (given, or learned from the room by a subclass). */
  get name(): string | undefined {
    return this.#name;
  }

  /** The title: the one given, else the name, else `""`. */
  get title(): string {
    return this.#title ?? this.name ?? "";
  }

  /**
   * The agent's metadata JSON.
   *
   * @returns `{"name", "title", "description", "requires", "labels", "annotations"}`.
   */
  toJson(): AgentJson {
    return {
      name: this.name ?? null,
      title: this.title,
      description: this.description,
      requires: this.requires.map((r) => r.toJson()),
      labels: [...this.labels],
      annotations: { ...this.annotations },
    };
  }

  /**
   * Reads agent metadata JSON (unknown keys are ignored; missing ones take their defaults).
   *
   * @param json The metadata, as written by {@linkcode Agent.toJson} or the official SDKs.
   * @returns The agent.
   * @throws {RequirementError} (1002) When a requirement does not parse.
   * @throws {TypeError} When the JSON is not an object.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Agent } from "@meshagent/agents";
   * const agent = Agent.fromJson({ name: "a", requires: [{ schema: "doc" }], labels: ["x"] });
   * assert(agent.requires.length === 1 && agent.title === "a");
   * ```
   */
  static fromJson(json: unknown): Agent {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new TypeError("agent metadata must be a JSON object");
    }
    const j = json as Record<string, unknown>;
    const str = (v: unknown) => typeof v === "string" ? v : undefined;
    const options: AgentOptions = {
      requires: Array.isArray(j.requires) ? j.requires.map((r) => Requirement.fromJson(r)) : [],
      labels: Array.isArray(j.labels) ? j.labels.filter((l) => typeof l === "string") : [],
    };
    const name = str(j.name);
    const title = str(j.title);
    const description = str(j.description);
    if (name !== undefined) options.name = name;
    if (title !== undefined) options.title = title;
    if (description !== undefined) options.description = description;
    if (j.annotations !== null && typeof j.annotations === "object") {
      options.annotations = Object.fromEntries(
        Object.entries(j.annotations as Record<string, unknown>).filter(([, v]) =>
          typeof v === "string"
        ),
      ) as Record<string, string>;
    }
    return new Agent(options);
  }
}
