/**
 * Short-lived signed download URLs for room files (`storage.download_url`, protocol-data §1.2),
 * and the HTTP handler that serves them without the room WebSocket.
 *
 * The URL shape (mount the handler at the server root; a reverse proxy must strip any prefix):
 *
 * ```text
 * GET {baseUrl}/rooms/{room}/storage/download?path=…&expires=…&download=0|1&sig=…
 * ```
 *
 * `sig` is the base64url HMAC-SHA256, under a server secret, of the version, the room, the
 * normalised path, the expiry (Unix seconds) and the download flag, so none can be changed.
 *
 * @module
 */
import { ErrorCode, RoomError } from "@meshagent/api";
import type { FileStore } from "./file_store.ts";
import { StorageError } from "./file_store.ts";
import { normalizeStoragePath } from "./storage_path.ts";
import { isValidRoomName } from "./room_name.ts";

/** The default lifetime of a download URL: one hour. */
export const DEFAULT_DOWNLOAD_URL_TTL_SECONDS = 3600;

/** The shortest secret accepted, in bytes. */
const MIN_SECRET_BYTES = 16;
const SIGNATURE_VERSION = "mdl1";
const ROUTE = /^\/rooms\/([^/]+)\/storage\/download$/;

/** Options of {@linkcode DownloadUrlSigner.create}. */
export interface DownloadUrlSignerOptions {
  /** How long URLs stay valid by default, in seconds. Default one hour. */
  readonly ttlSeconds?: number;
}

/** Options of {@linkcode DownloadUrlSigner.sign}. */
export interface SignDownloadUrlOptions {
  /** The server's public base URL (`http://127.0.0.1:8080`), without the `/rooms/…` part. */
  readonly baseUrl: string;
  /** The room name. */
  readonly room: string;
  /** The file's storage path (normalised before signing). */
  readonly path: string;
  /**
   * True serves the file with `Content-Disposition: attachment` (a browser saves it); false or
   * absent shows it inline.
   */
  readonly download?: boolean;
  /** The lifetime of this URL in seconds; default the signer's `ttlSeconds`. */
  readonly expiresInSeconds?: number;
  /** The current time in milliseconds (for tests); default `Date.now()`. */
  readonly now?: number;
}

/** What a valid download URL grants. */
export interface VerifiedDownload {
  /** The room. */
  readonly room: string;
  /** The normalised storage path. */
  readonly path: string;
  /** True for `Content-Disposition: attachment`. */
  readonly download: boolean;
  /** When the URL stops working. */
  readonly expiresAt: Date;
}

/**
 * A download URL that is malformed, tampered with or expired. Code
 * {@linkcode ErrorCode.PERMISSION_DENIED} (1001); the handler answers 403.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DownloadUrlError } from "./download_url.ts";
 * const err = new DownloadUrlError("the download link expired; ask for a new one");
 * assert(err.code === 1001);
 * ```
 */
export class DownloadUrlError extends RoomError {
  /**
   * Creates the value.
   * @param message Why the URL was refused.
   */
  constructor(message: string) {
    super(message, ErrorCode.PERMISSION_DENIED);
    this.name = "DownloadUrlError";
  }
}

/**
 * Signs and verifies download URLs with HMAC-SHA256 (Web Crypto) under one server secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DownloadUrlSigner } from "./download_url.ts";
 * const signer = await DownloadUrlSigner.create("a server secret of at least 16 bytes");
 * const url = await signer.sign({
 *   baseUrl: "http://127.0.0.1:8080",
 *   room: "demo",
 *   path: "docs/a.txt",
 * });
 * const granted = await signer.verify(url);
 * assert(granted.room === "demo" && granted.path === "docs/a.txt");
 * ```
 */
export class DownloadUrlSigner {
  readonly #key: CryptoKey;
  readonly #ttlSeconds: number;

  private constructor(key: CryptoKey, ttlSeconds: number) {
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * Imports the secret.
   *
   * @param secret The server secret (text is UTF-8 encoded): at least 16 bytes, ideally 32
   *   random bytes kept in the server's configuration so URLs survive a restart.
   * @param options The default URL lifetime.
   * @returns The signer.
   * @throws {RoomError} 1002 when the secret is too short or the lifetime invalid.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DownloadUrlSigner } from "./download_url.ts";
   * const secret = crypto.getRandomValues(new Uint8Array(32));
   * const signer = await DownloadUrlSigner.create(secret, { ttlSeconds: 300 });
   * assert(signer instanceof DownloadUrlSigner);
   * ```
   */
  static async create(
    secret: string | Uint8Array,
    options: DownloadUrlSignerOptions = {},
  ): Promise<DownloadUrlSigner> {
    const bytes = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new RoomError(
        `the download URL secret must have at least ${MIN_SECRET_BYTES} bytes; ` +
          `use 32 random bytes`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const ttl = options.ttlSeconds ?? DEFAULT_DOWNLOAD_URL_TTL_SECONDS;
    checkTtl(ttl);
    const key = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(bytes),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return new DownloadUrlSigner(key, ttl);
  }

  /**
   * Makes a signed download URL.
   *
   * @param options The base URL, room, path, disposition and lifetime.
   * @returns The absolute URL.
   * @throws {StoragePathError} 3004 when the path is not allowed.
   * @throws {RoomError} 1002 when the room name, base URL or lifetime is invalid.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DownloadUrlSigner } from "./download_url.ts";
   * const signer = await DownloadUrlSigner.create("a server secret of at least 16 bytes");
   * const url = await signer.sign({
   *   baseUrl: "https://rooms.example.com",
   *   room: "demo",
   *   path: "/report.pdf",
   *   download: true,
   * });
   * assert(url.startsWith("https://rooms.example.com/rooms/demo/storage/download?"));
   * ```
   */
  async sign(options: SignDownloadUrlOptions): Promise<string> {
    const { room } = options;
    if (!isValidRoomName(room)) {
      throw new RoomError(`invalid room name ${JSON.stringify(room)}`, ErrorCode.INVALID_REQUEST);
    }
    const path = normalizeStoragePath(options.path);
    const ttl = options.expiresInSeconds ?? this.#ttlSeconds;
    checkTtl(ttl);
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new RoomError(
        `the base URL ${JSON.stringify(options.baseUrl)} is not an absolute URL`,
        ErrorCode.INVALID_REQUEST,
      );
    }
    const expires = Math.floor((options.now ?? Date.now()) / 1000) + Math.ceil(ttl);
    const download = options.download === true;
    const sig = await this.#signature(room, path, expires, download);
    const prefix = base.pathname.replace(/\/+$/, "");
    const url = new URL(`${prefix}/rooms/${room}/storage/download`, base.origin);
    url.searchParams.set("path", path);
    url.searchParams.set("expires", String(expires));
    url.searchParams.set("download", download ? "1" : "0");
    url.searchParams.set("sig", sig);
    return url.href;
  }

  /**
   * Checks a download URL: its route, signature (compared in constant time) and expiry.
   *
   * @param url The URL as requested (absolute, or a `Request.url`).
   * @param now The current time in milliseconds (for tests); default `Date.now()`.
   * @returns What the URL grants.
   * @throws {DownloadUrlError} 1001 when the URL is malformed, tampered with or expired.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DownloadUrlError, DownloadUrlSigner } from "./download_url.ts";
   * const signer = await DownloadUrlSigner.create("a server secret of at least 16 bytes");
   * const url = await signer.sign({ baseUrl: "http://localhost", room: "demo", path: "a.txt" });
   * const tampered = url.replace("a.txt", "b.txt");
   * await signer.verify(tampered).then(
   *   () => assert(false),
   *   (e) => assert(e instanceof DownloadUrlError),
   * );
   * ```
   */
  async verify(url: string | URL, now: number = Date.now()): Promise<VerifiedDownload> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DownloadUrlError("the download link is not a URL");
    }
    const match = ROUTE.exec(parsed.pathname);
    if (match === null) throw new DownloadUrlError("this is not a download link");
    const room = decodeURIComponentOr(match[1]);
    const q = parsed.searchParams;
    const path = q.get("path");
    const expiresText = q.get("expires");
    const downloadText = q.get("download");
    const sig = q.get("sig");
    if (
      room === undefined || path === null || expiresText === null || sig === null ||
      (downloadText !== "0" && downloadText !== "1") || !/^[0-9]{1,15}$/.test(expiresText)
    ) {
      throw new DownloadUrlError(
        "the download link is incomplete (it needs path, expires, download and sig)",
      );
    }
    const expires = Number(expiresText);
    const download = downloadText === "1";
    const given = fromBase64Url(sig);
    const expected = await this.#signatureBytes(room, path, expires, download);
    if (given === undefined || !timingSafeEqual(given, expected)) {
      throw new DownloadUrlError("the download link's signature is not valid");
    }
    if (now >= expires * 1000) {
      throw new DownloadUrlError("the download link expired; ask for a new one");
    }
    return { room, path, download, expiresAt: new Date(expires * 1000) };
  }

  async #signatureBytes(
    room: string,
    path: string,
    expires: number,
    download: boolean,
  ): Promise<Uint8Array> {
    const data = JSON.stringify([SIGNATURE_VERSION, room, path, expires, download ? 1 : 0]);
    const mac = await crypto.subtle.sign("HMAC", this.#key, new TextEncoder().encode(data));
    return new Uint8Array(mac);
  }

  async #signature(room: string, path: string, expires: number, download: boolean) {
    return toBase64Url(await this.#signatureBytes(room, path, expires, download));
  }
}

/** Finds a room's file store; `undefined` when the room has none (the handler answers 404). */
export type ResolveFileStore = (
  room: string,
) => FileStore | undefined | Promise<FileStore | undefined>;

/**
 * Serves one HTTP request when it is a download URL, else returns `null` so the router can try
 * its other routes.
 */
export type DownloadHandler = (
  req: Request,
  resolveStore: ResolveFileStore,
) => Promise<Response | null>;

/**
 * Makes the handler for `GET|HEAD /rooms/{room}/storage/download?…` (made by
 * {@linkcode DownloadUrlSigner.sign}). It streams the file with `Content-Type` (the MIME type
 * stored at upload), `Content-Length`, `Content-Disposition` (inline, or attachment for
 * `download=1`, with the stored display name), `Last-Modified` and single byte ranges
 * (`Range: bytes=…` → 206, unsatisfiable → 416). Answers: 403 for a bad or expired signature,
 * 404 for a missing room or file, 405 for other methods, 500 when the store fails. Files are
 * served with `Content-Security-Policy: sandbox` and `nosniff`, so an uploaded HTML page cannot
 * run scripts on the server's origin.
 *
 * @param signer The signer whose secret signed the URLs.
 * @returns The handler.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createDownloadHandler, DownloadUrlSigner } from "./download_url.ts";
 * import { LocalFileStore } from "./local_file_store.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const store = await LocalFileStore.open({ dataDir, room: "demo" });
 * await store.writeFile("hello.txt", new TextEncoder().encode("hello"));
 * const signer = await DownloadUrlSigner.create("a server secret of at least 16 bytes");
 * const handle = createDownloadHandler(signer);
 * const url = await signer.sign({ baseUrl: "http://localhost", room: "demo", path: "hello.txt" });
 * const res = await handle(new Request(url), (room) => room === "demo" ? store : undefined);
 * assert(res?.status === 200 && (await res.text()) === "hello");
 * assert((await handle(new Request("http://localhost/other"), () => store)) === null);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export function createDownloadHandler(signer: DownloadUrlSigner): DownloadHandler {
  return async (req, resolveStore) => {
    const url = new URL(req.url);
    if (!ROUTE.test(url.pathname)) return null;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "only GET and HEAD are allowed on download links", { Allow: "GET, HEAD" });
    }
    let granted: VerifiedDownload;
    try {
      granted = await signer.verify(url);
    } catch (e) {
      if (e instanceof DownloadUrlError) return text(403, e.message);
      throw e;
    }
    try {
      const store = await resolveStore(granted.room);
      if (store === undefined) return text(404, `no room ${granted.room}`);
      const info = await store.stat(granted.path);
      if (info === undefined || info.isFolder) return text(404, `no file at '${granted.path}'`);
      const total = info.size ?? 0;
      const range = parseRange(req.headers.get("range"), total);
      if (range === "unsatisfiable") {
        return text(416, `the requested range is outside the file (${total} bytes)`, {
          "Content-Range": `bytes */${total}`,
        });
      }
      const headers = new Headers({
        "Content-Type": info.mimeType ?? "application/octet-stream",
        "Content-Disposition": contentDisposition(
          granted.download ? "attachment" : "inline",
          info.displayName ?? info.name,
        ),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
      });
      if (info.updatedAt !== undefined) headers.set("Last-Modified", info.updatedAt.toUTCString());
      if (req.method === "HEAD") {
        headers.set("Content-Length", String(range ? range.length : total));
        if (range) headers.set("Content-Range", `bytes ${range.start}-${range.end}/${total}`);
        return new Response(null, { status: range ? 206 : 200, headers });
      }
      const reader = await store.openRead(
        granted.path,
        range ? { offset: range.start, length: range.length } : {},
      );
      const size = reader.info.size ?? reader.size;
      headers.set("Content-Length", String(reader.size));
      if (range) {
        headers.set(
          "Content-Range",
          `bytes ${range.start}-${range.start + reader.size - 1}/${size}`,
        );
      }
      return new Response(reader.stream, { status: range ? 206 : 200, headers });
    } catch (e) {
      if (e instanceof RoomError) {
        if (e.code === ErrorCode.STORAGE_NOT_FOUND) return text(404, e.message);
        if (e.code === ErrorCode.STORAGE_INVALID_PATH) return text(400, e.message);
        if (e instanceof StorageError && e.code === ErrorCode.INVALID_REQUEST) {
          return text(416, e.message);
        }
      }
      return text(500, `the download failed: ${(e as Error)?.message ?? String(e)}`);
    }
  };
}

interface ByteRange {
  readonly start: number;
  readonly end: number;
  readonly length: number;
}

/**
 * Parses a single `bytes=` range. Returns `undefined` to serve the whole file (no header, a
 * malformed one or several ranges, as RFC 9110 allows) and `"unsatisfiable"` for 416.
 */
function parseRange(
  header: string | null,
  size: number,
): ByteRange | undefined | "unsatisfiable" {
  if (header === null) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return undefined;
  }
  if (start >= size || !Number.isSafeInteger(start)) return "unsatisfiable";
  return { start, end, length: end - start + 1 };
}

function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

function text(status: number, message: string, extra: Record<string, string> = {}): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...extra },
  });
}

function checkTtl(ttl: number): void {
  if (!(Number.isFinite(ttl) && ttl > 0)) {
    throw new RoomError(
      `a download URL lifetime must be a positive number of seconds, got ${ttl}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
}

function decodeURIComponentOr(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}
