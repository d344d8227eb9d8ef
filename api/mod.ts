/**
 * `@meshagent/api`: the MeshAgent wire protocol (framing, packed messages, contents, the
 * request/response {@linkcode Protocol}), participant tokens and API keys, and the
 * {@linkcode RoomClient} with its sub-clients.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packMessage, unpackMessage } from "@meshagent/api";
 * const { header } = unpackMessage(packMessage({ hello: "room" }));
 * assert(header.hello === "room");
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./packing.ts";
export * from "./framing.ts";
export * from "./content.ts";
export * from "./event_emitter.ts";
export * from "./protocol.ts";
export * from "./websocket_client_protocol.ts";
export * from "./api_scope_error.ts";
export * from "./api_grant.ts";
export * from "./livekit_grant.ts";
export * from "./queues_grant.ts";
export * from "./messaging_grant.ts";
export * from "./dataset_grant.ts";
export * from "./sqlite_grant.ts";
export * from "./memory_grant.ts";
export * from "./path_grant.ts";
export * from "./containers_grant.ts";
export * from "./developer_grant.ts";
export * from "./agents_grant.ts";
export * from "./llm_grant.ts";
export * from "./admin_grant.ts";
export * from "./secrets_grant.ts";
export * from "./tunnels_grant.ts";
export * from "./services_grant.ts";
export * from "./api_scope.ts";
export * from "./participant_token.ts";
export * from "./api_key.ts";
export * from "./room_url.ts";
export * from "./mesh_schema_error.ts";
export * from "./element_type.ts";
export * from "./mesh_schema.ts";
export * from "./mesh_document_error.ts";
export * from "./mesh_document.ts";
export * from "./wire_update.ts";
export * from "./participant.ts";
export * from "./room_event.ts";
export * from "./tool_call_streams.ts";
export * from "./toolkit_description.ts";
export * from "./room_requester.ts";
export * from "./room_client.ts";
export * from "./messaging_client.ts";
export * from "./queues_client.ts";
export * from "./developer_client.ts";
export * from "./livekit_client.ts";
export * from "./agents_client.ts";
export * from "./arrow_rows.ts";
export * from "./storage_events.ts";
export * from "./storage_client.ts";
export * from "./storage_files.ts";
export * from "./storage_name_policy.ts";
export * from "./database_client.ts";
export * from "./dataset_rows.ts";
export * from "./datasets_client.ts";
export * from "./sync_client.ts";
export * from "./mime_type.ts";
export * from "./python_json.ts";
export * from "./webhook_signature.ts";
export * from "./webhook_event.ts";
export * from "./webhook_server.ts";
export * from "./service_host.ts";
export * from "./services_client.ts";
export * from "./admin_routes.ts";
export * from "./meshagent_client.ts";
export * from "./stream_controller.ts";
export * from "./deploy_schema.ts";
export * from "./official_names.ts";
export * from "./grant_aliases.ts";
