/**
 * `@meshagent/cli`: the `meshagent` command — `server`, `token`, `rooms list`,
 * `room messaging|queue|storage|sync|sqlite|dataset|agents|developer`, `room connect`,
 * `mcp stdio|http|sse`, `process join|run|use|threads|messages`, `chat` —
 * and the functions behind each command, for use from scripts.
 *
 * @example
 * ```ts
 * import { runCli } from "@meshagent/cli";
 * await runCli(["--help"], { out: () => {}, err: () => {} });
 * ```
 *
 * @module
 */
export * from "./cli.ts";
export * from "./output.ts";
export * from "./server_credentials.ts";
export * from "./server_command.ts";
export * from "./token_command.ts";
export * from "./room_connection.ts";
export * from "./room_messaging_command.ts";
export * from "./room_queue_command.ts";
export * from "./room_agents_command.ts";
export * from "./room_storage_command.ts";
export * from "./room_db_command.ts";
export * from "./room_dataset_command.ts";
export * from "./room_sync_command.ts";
export * from "./builtin_schemas.ts";
export * from "./room_developer_command.ts";
export * from "./rooms_command.ts";
export * from "./mcp_command.ts";
export * from "./auth_profiles.ts";
export * from "./auth_command.ts";
export * from "./admin_connection.ts";
export * from "./call_command.ts";
export * from "./service_run_command.ts";
export * from "./webhook_listen_command.ts";
