/**
 * LiveKit for MeshAgent voice agents: {@linkcode LivekitVoiceTransport} joins a call's LiveKit
 * room (npm `@livekit/rtc-node`, a native addon loaded on the first join) for a `VoiceBot`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LivekitVoiceTransport } from "@meshagent/adapters/livekit";
 * assert.ok(new LivekitVoiceTransport());
 * ```
 *
 * @module
 */
export * from "./livekit_voice_transport.ts";
