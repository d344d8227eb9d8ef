import type { JsonObject } from "@meshagent/api";
import { strictObject } from "./_tool_room.ts";
import {
  DEFAULT_MATCHES,
  type GrepArgs,
  MAX_MATCHES,
  type PathArgs,
  type SaveUrlArgs,
  StorageOps,
  type WriteArgs,
} from "./_storage_ops.ts";
import type { StorageToolkitOptions } from "./storage_toolkit_options.ts";
import { FunctionTool, type Tool } from "./tool.ts";
import { Toolkit } from "./toolkit.ts";

const PATH_PROPERTY: JsonObject = {
  type: "string",
  description: 'A path in room storage, e.g. "docs/notes.txt" ("" is the top level)',
};

function makeTools(ops: StorageOps, readOnly: boolean): Tool[] {
  const tools: Tool[] = [
    new FunctionTool<PathArgs>({
      name: "list_files_in_room",
      title: "list files",
      description: "Lists the files and folders in a folder of room storage",
      strict: true,
      inputSchema: strictObject({ path: PATH_PROPERTY }),
      run: (ctx, args) => ops.list(ctx, args),
    }),
    new FunctionTool<PathArgs>({
      name: "read_file",
      title: "read file",
      description: "Reads a file from room storage: text files come back as text, others " +
        `as a file (at most ${ops.limits.maxRead} bytes)`,
      strict: true,
      inputSchema: strictObject({ path: PATH_PROPERTY }),
      outputSpec: { types: ["text", "file"] },
      run: (ctx, args) => ops.read(ctx, args),
    }),
    new FunctionTool<GrepArgs>({
      name: "grep_file",
      title: "search file",
      description: "Searches a text file in room storage for a regular expression and " +
        "returns the matching lines with their line numbers",
      strict: true,
      inputSchema: strictObject({
        path: PATH_PROPERTY,
        pattern: { type: "string", description: "A JavaScript regular expression" },
        ignore_case: {
          type: ["boolean", "null"],
          description: "Match regardless of case (default false)",
        },
        max_matches: {
          type: ["integer", "null"],
          description: `The most matching lines to return (default ${DEFAULT_MATCHES}, ` +
            `at most ${MAX_MATCHES})`,
        },
      }),
      run: (ctx, args) => ops.grep(ctx, args),
    }),
  ];
  if (!readOnly) {
    tools.push(
      new FunctionTool<WriteArgs>({
        name: "write_file",
        title: "write file",
        description: "Writes a text file to room storage",
        strict: true,
        inputSchema: strictObject({
          path: PATH_PROPERTY,
          text: { type: "string", description: "The file's content" },
          overwrite: {
            type: ["boolean", "null"],
            description: "Replace an existing file (default false)",
          },
        }),
        run: (ctx, args) => ops.write(ctx, args),
      }),
      new FunctionTool<SaveUrlArgs>({
        name: "save_file_from_url",
        title: "save file from URL",
        description: "Downloads a public http or https URL and saves it as a file in room " +
          `storage (at most ${ops.limits.maxDownload} bytes)`,
        strict: true,
        inputSchema: strictObject({
          url: { type: "string", description: "An http or https URL" },
          path: PATH_PROPERTY,
          overwrite: {
            type: ["boolean", "null"],
            description: "Replace an existing file (default false)",
          },
        }),
        run: (ctx, args) => ops.saveFromUrl(ctx, args),
      }),
    );
  }
  tools.push(
    new FunctionTool<PathArgs>({
      name: "get_file_download_url",
      title: "get download URL",
      description: "Gets a short-lived HTTP URL from which a file in room storage can be " +
        "downloaded",
      strict: true,
      inputSchema: strictObject({ path: PATH_PROPERTY }),
      run: (ctx, args) => ops.downloadUrl(ctx, args),
    }),
  );
  return tools;
}

/**
 * The storage tools an agent uses on room storage (agents.md §3, toolkit `storage`):
 *
 * - `list_files_in_room {path}` → `{path, files: [{name, is_folder, size}]}`
 * - `read_file {path}` → the text of a text file, or the file (a `file` content); larger files
 *   than `maxReadBytes` are refused with a hint to use `grep_file`
 * - `grep_file {path, pattern, ignore_case, max_matches}` → `{path, pattern, matches: [{line,
 *   text}], match_count, truncated}` (a JavaScript regular expression, line by line)
 * - `write_file {path, text, overwrite}` → `{path, size}` (not in read-only mode)
 * - `save_file_from_url {url, path, overwrite}` → `{path, size, mime_type}`: fetches an http(s)
 *   URL with a timeout and a size limit and stores it (not in read-only mode); hosts that are
 *   not on the public internet (loopback, private, link-local and cloud metadata, reserved)
 *   are refused, also after a redirect, unless
 *   {@linkcode StorageToolkitOptions.allowPrivateNetworks} allows them
 * - `get_file_download_url {path}` → `{url}`: a short-lived HTTP URL of the file
 *
 * Every tool has a strict input schema (all properties required, optional ones nullable, no
 * others). Calls use the room of the {@linkcode ToolContext} (the hosting connection), and act
 * with that participant's grants. With {@linkcode StorageToolkitOptions.mounts}, tool paths map
 * to room folders ({@linkcode RoomStorageMount}) or folders of the host's disk
 * ({@linkcode LocalStorageMount}, Deno only; these need no room) and only mounted folders are
 * reachable; a read-only mount refuses writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageToolkit } from "@meshagent/tools";
 *
 * const storage = new StorageToolkit({ readOnly: true });
 * assert(storage.name === "storage");
 * assert(
 *   storage.tools.map((t) => t.name).join() ===
 *     "list_files_in_room,read_file,grep_file,get_file_download_url",
 * );
 * // Hosted in a room it needs another name (the room's own toolkit is "storage"):
 * const hostable = new StorageToolkit({ name: "agent_storage" });
 * assert(hostable.tools.some((t) => t.name === "write_file"));
 * ```
 */
export class StorageToolkit extends Toolkit {
  /** Whether the write tools were left out. */
  readonly readOnly: boolean;

  /**
   * Creates the toolkit.
   *
   * @param options Name, read-only mode, mounts, room, limits and which non-public hosts
   *   `save_file_from_url` may fetch.
   * @throws {ToolError} 1002 for a non-positive limit or two mounts on one path; 3004 for a
   *   mount path with `..`; 1007 for a local mount where there is no Deno (a browser).
   */
  constructor(options: StorageToolkitOptions = {}) {
    const readOnly = options.readOnly ?? false;
    const name = options.name ?? "storage";
    super({
      name,
      title: "storage",
      description: "List, read and search files in room storage" +
        (readOnly ? "" : ", write files and save files from URLs"),
      public: options.public ?? false,
      tools: makeTools(new StorageOps(name, options), readOnly),
    });
    this.readOnly = readOnly;
  }
}
