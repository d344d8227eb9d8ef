// Private: the admin API's errors and its readers of request bodies, each with a message that
// names the field and what it must be.
import type { JsonObject } from "@meshagent/api";

/** An admin API failure: the HTTP status, a stable code and a message a user can act on. */
export class AdminApiError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** A stable code (`not_found`, `forbidden`, …). */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "AdminApiError";
    this.status = status;
    this.code = code;
  }
}

/** The standard failures, by status. */
export const fail = {
  badRequest: (message: string) => new AdminApiError(400, "invalid_request", message),
  unauthorized: (message: string) => new AdminApiError(401, "unauthorized", message),
  forbidden: (message: string) => new AdminApiError(403, "forbidden", message),
  notFound: (message: string) => new AdminApiError(404, "not_found", message),
  conflict: (message: string) => new AdminApiError(409, "already_exists", message),
  tooLarge: (message: string) => new AdminApiError(413, "too_large", message),
};

/** The JSON error reply: `{"error": {"status", "code", "message"}}`. */
export function errorResponse(error: AdminApiError, headers?: HeadersInit): Response {
  return Response.json(
    { error: { status: error.status, code: error.code, message: error.message } },
    { status: error.status, headers },
  );
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Reads fields of one request body; every reader throws a 400 that names the field. */
export class Body {
  readonly json: JsonObject;
  readonly #what: string;

  constructor(json: unknown, what: string) {
    if (!isObject(json)) throw fail.badRequest(`${what}: the body must be a JSON object`);
    this.json = json;
    this.#what = what;
  }

  #bad(field: string, must: string): never {
    throw fail.badRequest(`${this.#what}: ${field} must be ${must}`);
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  string(field: string): string {
    const value = this.json[field];
    if (typeof value !== "string" || value.trim() === "") this.#bad(field, "a non-empty string");
    return value;
  }

  optionalString(field: string, fallback: string): string;
  optionalString(field: string): string | undefined;
  optionalString(field: string, fallback?: string): string | undefined {
    const value = this.json[field];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string") this.#bad(field, "a string");
    return value;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.json[field];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") this.#bad(field, "true or false");
    return value;
  }

  object(field: string): JsonObject | undefined {
    const value = this.json[field];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) this.#bad(field, "a JSON object");
    return value;
  }

  /** A `{string: string}` map (annotations). */
  annotations(field: string): Record<string, string> | undefined {
    const value = this.object(field);
    if (value === undefined) return undefined;
    for (const v of Object.values(value)) {
      if (typeof v !== "string") this.#bad(field, "an object of strings");
    }
    return value as Record<string, string>;
  }

  strings(field: string): string[] {
    const value = this.json[field];
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
      this.#bad(field, "an array of strings");
    }
    return value as string[];
  }

  url(field: string): string {
    const value = this.string(field);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.#bad(field, "an absolute http(s) URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      this.#bad(field, "an http(s) URL");
    }
    return value;
  }

  base64(field: string): Uint8Array {
    const value = this.string(field);
    try {
      return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    } catch {
      return this.#bad(field, "base64");
    }
  }
}

/** The most bytes a request body may have. [impl] Specs and secrets are small. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a request's JSON body (empty → `{}`), refusing non-JSON and bodies over the limit. */
export async function readJson(request: Request): Promise<unknown> {
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_BODY_BYTES) {
    throw fail.tooLarge(`the request body is over ${MAX_BODY_BYTES} bytes`);
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > MAX_BODY_BYTES) {
    throw fail.tooLarge(`the request body is over ${MAX_BODY_BYTES} bytes`);
  }
  const text = new TextDecoder().decode(bytes).trim();
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw fail.badRequest("the request body is not valid JSON");
  }
}
