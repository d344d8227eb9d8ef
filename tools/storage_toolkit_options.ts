import type { RoomClient } from "@meshagent/api";
import type { StorageMount } from "./storage_mount.ts";

/** Options of a {@linkcode StorageToolkit}. */
export interface StorageToolkitOptions {
  /**
   * The toolkit name (default `"storage"`). The room's own storage toolkit owns that name, so
   * pick another one (e.g. `"agent_storage"`) to host this toolkit in a room.
   */
  name?: string;
  /** Leave out `write_file` and `save_file_from_url` (default false). */
  readOnly?: boolean;
  /**
   * Room folders and host folders to expose under other paths; without mounts the whole room is
   * reachable. {@linkcode parseStorageMount} reads the `<src>:<mount>[:ro|rw]` string form.
   */
  mounts?: readonly StorageMount[];
  /** The room to use when a call's context has none (default: the context's room only). */
  room?: RoomClient | null;
  /** Whether the toolkit is public once hosted (default false). */
  public?: boolean;
  /** The largest file `read_file` returns, in bytes (default 4 MiB). */
  maxReadBytes?: number;
  /** The largest file `grep_file` searches, in bytes (default 16 MiB). */
  maxGrepBytes?: number;
  /** The largest download `save_file_from_url` stores, in bytes (default 64 MiB). */
  maxDownloadBytes?: number;
  /** How long `save_file_from_url` may take to fetch and store, in ms (default 60000). */
  fetchTimeout?: number;
  /** How long one storage operation may take, in ms (default 60000). */
  requestTimeout?: number;
  /**
   * Which non-public hosts `save_file_from_url` may fetch (default `false`: none).
   *
   * By default the tool fetches only URLs on the public internet: it refuses a URL whose host
   * is, or resolves (DNS A and AAAA) to, a loopback (`127.0.0.0/8`, `::1`, `localhost`),
   * private (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`), link-local (`169.254/16` with the
   * cloud metadata address `169.254.169.254`, `fe80::/10`), carrier-grade NAT (`100.64/10`),
   * unspecified (`0.0.0.0`, `::`), multicast or other reserved address, in any form `new URL`
   * accepts (`http://0x7f.1/`, `http://2130706433/`, `http://[::ffff:127.0.0.1]/`), and a name
   * that does not resolve. Every redirect (at most 5, followed by hand) is checked the same
   * way. A refused URL fails the call with code 1001 and a message naming the host and why;
   * nothing is fetched or stored.
   *
   * - `true` turns the check off (local development and tests; never for a model fed
   *   untrusted input on a server).
   * - A function is asked about each URL the check refuses (the one given and each redirect
   *   target); it returns `true` to fetch it anyway, e.g. to allow one local service.
   *
   * Where there is no `Deno.resolveDns` (browsers) only IP literals and `localhost` names are
   * checked. A host name is resolved for the check and again by `fetch`, so a DNS server that
   * changes its answer in between (DNS rebinding) is not caught; put the process behind an
   * egress firewall or proxy where that matters.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { StorageToolkit, ToolContext, ToolError } from "@meshagent/tools";
   *
   * // Allow one local development server, refuse every other non-public host.
   * const storage = new StorageToolkit({
   *   name: "agent_storage",
   *   allowPrivateNetworks: (url) => url.host === "127.0.0.1:8080",
   * });
   * // A refused URL fails before anything is fetched (or a room is needed).
   * const ctx = new ToolContext({ caller: { id: "p1", attributes: {} }, room: null });
   * await assert.rejects(
   *   storage.execute(ctx, "save_file_from_url", {
   *     url: "http://169.254.169.254/latest/meta-data/",
   *     path: "meta.txt",
   *     overwrite: null,
   *   }),
   *   (e: unknown) =>
   *     e instanceof ToolError && e.code === 1001 &&
   *     e.message.includes("169.254.169.254 is the cloud metadata address"),
   * );
   * ```
   */
  allowPrivateNetworks?: boolean | ((url: URL) => boolean | Promise<boolean>);
}
