import { ApiGrant, type GrantOptions } from "./api_grant.ts";
import { describeGrant, entries, flag, text } from "./_grant_fields.ts";

/**
 * A path entry of {@linkcode SyncGrant} or {@linkcode StorageGrant}.
 *
 * JSON: `{ path, read_only?: boolean (false) }` (`readOnly` accepted on input).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PathGrant } from "@meshagent/api";
 *
 * const grant = PathGrant.fromJson({ path: "docs/", readOnly: true });
 * assert.equal(grant.readOnly, true);
 * assert.deepEqual(grant.toJson(), { path: "docs/", read_only: true });
 * ```
 */
export class PathGrant extends ApiGrant {
  static {
    describeGrant(this, "paths[]", {
      path: text("path"),
      readOnly: flag("read_only", false, ["readOnly"]),
    });
  }

  /** Path or path pattern. */
  declare readonly path: string;
  /** Read only (default false). */
  declare readonly readOnly: boolean;

  /**
   * Creates the entry.
   *
   * @param options The path and `readOnly` (default false).
   */
  constructor(options: GrantOptions<PathGrant, "path">) {
    super(options);
  }
}

/**
 * The grants of the path-addressed surfaces ({@linkcode SyncGrant}, {@linkcode StorageGrant}):
 * path entries that allow reading, and writing unless the first entry that matches is
 * read-only. Each surface matches paths its own way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PathsGrant, StorageGrant } from "@meshagent/api";
 *
 * const grant: PathsGrant = StorageGrant.fromJson({ paths: [{ path: "a/", read_only: true }] });
 * assert.equal(grant.canRead("a/b.txt"), true);
 * assert.equal(grant.canWrite("a/b.txt"), false);
 * ```
 */
export abstract class PathsGrant extends ApiGrant {
  /** Path grants; null = every path, read and write. */
  declare readonly paths: readonly PathGrant[] | null;

  /**
   * Whether entry `grant` covers `path`.
   *
   * @param grant A path entry.
   * @param path The path, already normalised by the caller.
   * @returns The decision.
   */
  protected abstract covers(grant: PathGrant, path: string): boolean;

  /**
   * Whether `path` may be read.
   *
   * @param path The path, already normalised by the caller (no `..`, no leading `/`).
   * @returns true when `paths` is unset or any entry covers it.
   */
  canRead(path: string): boolean {
    return this.paths === null || this.paths.some((grant) => this.covers(grant, path));
  }

  /**
   * Whether `path` may be written: the first entry that covers it must not be read-only (as in
   * the official TS client).
   *
   * @param path The path, already normalised by the caller.
   * @returns The decision.
   */
  canWrite(path: string): boolean {
    if (this.paths === null) return true;
    const first = this.paths.find((grant) => this.covers(grant, path));
    return first !== undefined && !first.readOnly;
  }
}

/**
 * `sync` grant: which documents may be opened through `sync.*`.
 *
 * JSON: `{ paths?: [{path, read_only?}] }`. A `path` ending in `*` matches by prefix; any other
 * path must match exactly. For writes, the first matching entry decides.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SyncGrant } from "@meshagent/api";
 *
 * const grant = SyncGrant.fromJson({
 *   paths: [{ path: "notes/*" }, { path: "readme.md", read_only: true }],
 * });
 * assert.equal(grant.canWrite("notes/a.doc"), true);
 * assert.equal(grant.canRead("readme.md"), true);
 * assert.equal(grant.canWrite("readme.md"), false);
 * assert.equal(grant.canRead("readme.md.bak"), false);
 * ```
 */
export class SyncGrant extends PathsGrant {
  static {
    describeGrant(this, "sync", { paths: entries("paths", PathGrant) });
  }

  /**
   * Creates the grant.
   *
   * @param options `paths` (null = every path).
   */
  constructor(options: GrantOptions<SyncGrant> = {}) {
    super(options);
  }

  /**
   * An entry covers its exact path, or with a trailing `*` every path it prefixes.
   *
   * @param grant A path entry.
   * @param path The document path.
   * @returns The decision.
   */
  protected override covers(grant: PathGrant, path: string): boolean {
    return grant.path === path ||
      (grant.path.endsWith("*") && path.startsWith(grant.path.slice(0, -1)));
  }
}

/**
 * `storage` grant: which room files may be read and written.
 *
 * JSON: `{ paths?: [{path, read_only?}] }`. Matching is a plain prefix match
 * (`path.startsWith(grant.path)`), so grant `"docs/"` rather than `"docs"` to avoid also granting
 * `"docs-private/"`. Normalise the requested path (strip `/`, resolve `..`) before checking. For
 * writes, the first matching entry decides.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StorageGrant } from "@meshagent/api";
 *
 * const grant = StorageGrant.fromJson({ paths: [{ path: "public/", read_only: true }] });
 * assert.equal(grant.canRead("public/a.txt"), true);
 * assert.equal(grant.canWrite("public/a.txt"), false);
 * assert.equal(grant.canRead("private/a.txt"), false);
 * assert.equal(new StorageGrant().canWrite("anything"), true);
 * ```
 */
export class StorageGrant extends PathsGrant {
  static {
    describeGrant(this, "storage", { paths: entries("paths", PathGrant) });
  }

  /**
   * Creates the grant.
   *
   * @param options `paths` (null = every path).
   */
  constructor(options: GrantOptions<StorageGrant> = {}) {
    super(options);
  }

  /**
   * An entry covers every path it is a prefix of.
   *
   * @param grant A path entry.
   * @param path The file path.
   * @returns The decision.
   */
  protected override covers(grant: PathGrant, path: string): boolean {
    return path.startsWith(grant.path);
  }
}
