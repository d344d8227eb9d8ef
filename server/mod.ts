/**
 * The self-hostable MeshAgent room server: rooms and participants over the MeshAgent wire
 * protocol, with the built-in `messaging`, `queues` and `developer` toolkits and pluggable stores.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RoomServer } from "@meshagent/server";
 * import { generateApiKey } from "@meshagent/api";
 * const dataDir = await Deno.makeTempDir();
 * const server = await RoomServer.listen({ port: 0, dataDir, keys: [generateApiKey()] });
 * assert(server.url.startsWith("http://127.0.0.1:"));
 * await server.shutdown();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./room_server.ts";
export * from "./room.ts";
export * from "./participant.ts";
export * from "./toolkit_room.ts";
export * from "./room_toolkit.ts";
export * from "./room_name.ts";
export * from "./messaging_toolkit.ts";
export * from "./queues_toolkit.ts";
export * from "./queue_store.ts";
export * from "./sqlite_queue_store.ts";
export * from "./developer_toolkit.ts";
export * from "./storage_path.ts";
export * from "./file_store.ts";
export * from "./local_file_store.ts";
export * from "./download_url.ts";
export * from "./arrow_codec.ts";
export * from "./room_database_requests.ts";
export * from "./room_database.ts";
export * from "./sqlite_result_cursor.ts";
export * from "./sqlite_table_writer.ts";
export * from "./sqlite_grants.ts";
export * from "./sqlite_toolkit.ts";
export * from "./dataset_store.ts";
export * from "./lance_dataset_store.ts";
export * from "./dataset_grants.ts";
export * from "./dataset_toolkit.ts";
export * from "./dataset_sql_limits.ts";
export * from "./parquet_reader.ts";
export * from "./toolkit_registry.ts";
export * from "./storage_toolkit.ts";
export * from "./sync_toolkit_options.ts";
export * from "./sync_toolkit.ts";
export * from "./livekit_toolkit.ts";
export * from "./admin_store.ts";
export * from "./admin_api.ts";
export * from "./webhook_outbox.ts";
export * from "./services_toolkit.ts";
