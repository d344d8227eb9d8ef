// Private: how a StorageToolkit maps tool paths to room paths or local folders through its mounts
// (the whole room without mounts), and the one rule for tool paths.
import { ErrorCode, storageNameViolation } from "@meshagent/api";
import { localDiskAvailable, LocalFolder } from "./_local_mount.ts";
import type { StorageMount } from "./storage_mount.ts";
import { ToolError } from "./tool_error.ts";

/**
 * Normalises a tool path: accepts `room:///a/b`, `/a/b`, `./a/b` and `a//b/`, gives `a/b`.
 *
 * @throws {ToolError} 3004 for `..` segments, NUL bytes and the characters of the storage name
 *   policy (`storageNameViolation`: control and bidirectional formatting characters), the same
 *   rule as the server's, so local mounts hold no names the room would refuse.
 */
export function normalizePath(path: string): string {
  if (path.includes("\0")) {
    throw new ToolError(
      `the path ${JSON.stringify(path)} contains a NUL byte`,
      ErrorCode.STORAGE_INVALID_PATH,
    );
  }
  let p = path.trim(); // (a model's stray newline around a path is forgiven; inside, never)
  const violation = storageNameViolation(p);
  if (violation) throw new ToolError(violation.message, ErrorCode.STORAGE_INVALID_PATH);
  if (p.startsWith("room://")) p = p.slice("room://".length);
  const segments = p.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw new ToolError(
      `the path ${JSON.stringify(path)} contains "..": give a path from the top of the room`,
      ErrorCode.STORAGE_INVALID_PATH,
    );
  }
  return segments.join("/");
}

function under(path: string, folder: string): string | undefined {
  if (folder === "") return path;
  if (path === folder) return "";
  if (path.startsWith(folder + "/")) return path.slice(folder.length + 1);
  return undefined;
}

function join(a: string, b: string): string {
  return a === "" ? b : b === "" ? a : `${a}/${b}`;
}

/** Where a tool path lands: in room storage, or in a local folder. */
export type Resolved =
  | { kind: "room"; roomPath: string; readOnly: boolean }
  | { kind: "local"; folder: LocalFolder; segments: string[]; readOnly: boolean };

type Mount =
  & { mountPath: string; readOnly: boolean }
  & ({ kind: "room"; roomPath: string } | { kind: "local"; folder: LocalFolder });

/** Maps tool paths to room paths or local folders through the mounts (the room without mounts). */
export class MountTable {
  readonly #mounts: Mount[] | null;

  constructor(mounts: readonly StorageMount[] | undefined) {
    if (!mounts || mounts.length === 0) {
      this.#mounts = null;
      return;
    }
    this.#mounts = mounts.map((m): Mount => {
      const mountPath = normalizePath(m.mountPath);
      const readOnly = m.readOnly ?? false;
      if (typeof m.localPath === "string") {
        if (!localDiskAvailable()) {
          throw new ToolError(
            `storage mount ${JSON.stringify(mountPath)} is a local folder, and this runtime ` +
              "has no Deno file system APIs (a browser?): mount room folders only",
            ErrorCode.DEPENDENCY_MISSING,
          );
        }
        return {
          kind: "local",
          folder: new LocalFolder(m.localPath, mountPath),
          mountPath,
          readOnly,
        };
      }
      if (typeof m.roomPath !== "string") {
        throw new ToolError(
          `storage mount ${JSON.stringify(mountPath)} needs a roomPath or a localPath`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      return { kind: "room", roomPath: normalizePath(m.roomPath), mountPath, readOnly };
    });
    const seen = new Set<string>();
    for (const m of this.#mounts) {
      if (seen.has(m.mountPath)) {
        throw new ToolError(
          `two storage mounts use the mount path ${JSON.stringify(m.mountPath)}`,
          ErrorCode.INVALID_REQUEST,
        );
      }
      seen.add(m.mountPath);
    }
    // The most specific mount wins.
    this.#mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  }

  /** The resolution of a normalised tool path, or undefined when no mount covers it. */
  resolve(path: string): Resolved | undefined {
    if (this.#mounts === null) return { kind: "room", roomPath: path, readOnly: false };
    for (const m of this.#mounts) {
      const rest = under(path, m.mountPath);
      if (rest === undefined) continue;
      if (m.kind === "room") {
        return { kind: "room", roomPath: join(m.roomPath, rest), readOnly: m.readOnly };
      }
      return {
        kind: "local",
        folder: m.folder,
        segments: rest === "" ? [] : rest.split("/"),
        readOnly: m.readOnly,
      };
    }
    return undefined;
  }

  /** The next path segments of mount points below a folder that no mount covers. */
  virtualChildren(path: string): string[] {
    const out = new Set<string>();
    for (const m of this.#mounts ?? []) {
      const rest = under(m.mountPath, path);
      if (rest !== undefined && rest !== "") out.add(rest.split("/")[0]);
    }
    return [...out].sort();
  }

  describe(): string {
    return (this.#mounts ?? []).map((m) => JSON.stringify(m.mountPath)).join(", ");
  }
}
