/**
 * `@meshagent/cli`: the `meshagent` command — `server`, `token`, `room messaging|queue|storage|sync|db|agents`,
 * `room connect`, `mcp stdio|http|sse` —
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
export * from "./mcp_command.ts";
