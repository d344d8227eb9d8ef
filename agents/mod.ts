/**
 * `@meshagent/agents`: agents that live in a room. An {@linkcode Agent} carries its metadata and
 * the {@linkcode Requirement}s it needs ({@linkcode RequiredToolkit}, {@linkcode RequiredSchema});
 * a {@linkcode SingleRoomAgent} connects to one room — from the environment `meshagent room
 * connect` sets, or a started `RoomClient` — installs those requirements, hosts its toolkits, and
 * runs until the room closes or the process is asked to stop.
 *
 * LLM agents: an {@linkcode LLMAdapter} runs a model's tool loop over an
 * {@linkcode AgentSessionContext}; the `meshagent.agent.*` messages ({@linkcode AgentMessage}) are
 * how people talk to an agent; {@linkcode ThreadStorage} keeps each thread.
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
export * from "./agent_message.ts";
export * from "./agent_session_context.ts";
export * from "./tool_response_adapter.ts";
export * from "./llm_adapter.ts";
export * from "./llm_adapter_base.ts";
export * from "./native_tool.ts";
export * from "./realtime_audio.ts";
export * from "./agent_event_reader.ts";
export * from "./scripted_llm_adapter.ts";
export * from "./thread_storage.ts";
export * from "./channel.ts";
export * from "./llm_agent_process.ts";
export * from "./agent_supervisor.ts";
export * from "./messaging_chat_channel.ts";
export * from "./messaging_chat_client.ts";
export * from "./thread_schema.ts";
export * from "./document_schema.ts";
export * from "./document_thread_storage.ts";
export * from "./dataset_thread_storage.ts";
export * from "./thread_search_toolkit.ts";
export * from "./chat_turn_toolkit.ts";
export * from "./queue_channel.ts";
export * from "./toolkit_channel.ts";
export * from "./mail_sender.ts";
export * from "./smtp_mail_sender.ts";
export * from "./mail_thread_index.ts";
export * from "./mail_channel.ts";
export * from "./task_runner.ts";
export * from "./llm_task_runner.ts";
export * from "./worker.ts";
export * from "./legacy_chat_channel.ts";
export * from "./chat_bot.ts";
export * from "./llm_agent.ts";
export * from "./pcm_audio.ts";
export * from "./energy_vad.ts";
export * from "./speech_to_text.ts";
export * from "./text_to_speech.ts";
export * from "./voice_transport.ts";
export * from "./in_memory_voice_transport.ts";
export * from "./transcript_schema.ts";
export * from "./transcriber.ts";
export * from "./voice_session.ts";
export * from "./voice_bot.ts";
