/**
 * Agents, SingleRoomAgent, channels, per-thread processes and LLM adapter contracts.
 *
 * @module
 */
