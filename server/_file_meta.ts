// Private: the sidecar metadata of the local file store — one small JSON file per stored file
// (display name, MIME type, creation time) in a folder tree that mirrors the files. Metadata is
// advisory: a missing, torn or stale file (one that does not match the file's size, mtime and
// inode) is ignored, and the store falls back to the basename, the extension's MIME type and the
// file's own timestamps.
import { dirname, join } from "node:path";
import { RESERVED_STORAGE_NAME_PREFIX } from "./storage_path.ts";
import { lstatOrUndefined, parentOf, removeQuietly } from "./_local_fs.ts";

const META_TMP_PREFIX = `${RESERVED_STORAGE_NAME_PREFIX}meta-`;

/** The sidecar metadata of one file. `size`, `mtimeMs` and `ino` tie it to one version. */
export interface FileMeta {
  readonly v: 1;
  readonly name?: string;
  readonly mimeType?: string;
  readonly createdAt: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number | null;
}

/** The metadata files of one room, under `root`. */
export class FileMetaStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  /** Removes the metadata of `rel` (a folder's with `recursive`); never fails. */
  remove(rel: string, recursive: boolean): Promise<void> {
    return removeQuietly(join(this.#root, rel), recursive);
  }

  async read(rel: string, st: Deno.FileInfo): Promise<FileMeta | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(join(this.#root, rel));
    } catch {
      return undefined;
    }
    try {
      const meta = JSON.parse(text) as FileMeta;
      if (
        meta?.v === 1 && meta.size === st.size && meta.mtimeMs === st.mtime?.getTime() &&
        meta.ino === (st.ino ?? null) && typeof meta.createdAt === "number"
      ) {
        return meta;
      }
    } catch {
      // a torn or foreign metadata file: ignore it
    }
    return undefined;
  }

  async write(rel: string, meta: FileMeta): Promise<void> {
    const metaPath = join(this.#root, rel);
    const tmp = join(dirname(metaPath), `${META_TMP_PREFIX}${crypto.randomUUID()}`);
    try {
      await this.#mkdirs(parentOf(rel));
      const existing = await lstatOrUndefined(metaPath);
      if (existing?.isDirectory) await Deno.remove(metaPath, { recursive: true });
      await Deno.writeTextFile(tmp, JSON.stringify(meta));
      await Deno.rename(tmp, metaPath);
    } catch {
      // metadata is advisory: without it the store falls back to the basename, the
      // extension's MIME type and the file's own timestamps
      await removeQuietly(tmp, false);
    }
  }

  /** Creates a metadata folder, removing stale metadata files in the way. */
  async #mkdirs(relDir: string): Promise<void> {
    if (relDir === "") return;
    try {
      await Deno.mkdir(join(this.#root, relDir), { recursive: true });
      return;
    } catch {
      // fall through: remove what is in the way
    }
    let dir = relDir;
    const chain: string[] = [];
    while (dir !== "") {
      chain.unshift(dir);
      dir = parentOf(dir);
    }
    for (const d of chain) {
      const st = await lstatOrUndefined(join(this.#root, d));
      if (st !== undefined && !st.isDirectory) await Deno.remove(join(this.#root, d));
    }
    await Deno.mkdir(join(this.#root, relDir), { recursive: true });
  }

  async move(src: string, dst: string): Promise<void> {
    const from = join(this.#root, src);
    const to = join(this.#root, dst);
    await removeQuietly(to, true);
    if (await lstatOrUndefined(from) === undefined) return;
    try {
      await this.#mkdirs(parentOf(dst));
      await Deno.rename(from, to);
    } catch {
      await removeQuietly(from, true);
    }
    await this.#prune(parentOf(src));
  }

  async #prune(relDir: string): Promise<void> {
    let dir = relDir;
    while (dir !== "") {
      try {
        await Deno.remove(join(this.#root, dir));
      } catch {
        break;
      }
      dir = parentOf(dir);
    }
  }
}
