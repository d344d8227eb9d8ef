/**
 * `@meshagent/agents`: agents that live in a room. An {@linkcode Agent} carries its metadata and
 * the {@linkcode Requirement}s it needs ({@linkcode RequiredToolkit}, {@linkcode RequiredSchema});
 * a {@linkcode SingleRoomAgent} connects to one room — from the environment `meshagent room
 * connect` sets, or a started `RoomClient` — installs those requirements, hosts its toolkits, and
 * runs until the room closes or the process is asked to stop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Agent, RequiredToolkit } from "@meshagent/agents";
 * const agent = new Agent({ name: "helper", requires: [new RequiredToolkit({ name: "math-toolkit" })] });
 * assert(agent.toJson().requires.length === 1);
 * ```
 *
 * @module
 */
export * from "./requirement_error.ts";
export * from "./requirement.ts";
export * from "./agent.ts";
export * from "./single_room_agent.ts";
