// How the OpenAI adapters judge a failed model request: retry or give up, and what to say.
import { APIConnectionError, APIError, APIUserAbortError } from "openai";
import type { LLMErrorClass } from "@meshagent/agents";
import { OpenAITimeoutError } from "./_stream_watch.ts";

/** The server reported a failure inside the stream (`response.failed`, or an `error` event). */
export class OpenAIStreamError extends Error {
  /** The provider's error code (`server_error`, `rate_limit_exceeded`, …), if any. */
  readonly code: string | null;
  /** The HTTP status the event carried (the websocket mode sends one), if any. */
  readonly status?: number;
  /** Headers the event carried (`retry-after`), if any. */
  readonly headers: Record<string, string>;

  /**
   * @param message The provider's message.
   * @param code The provider's code.
   * @param status The status, if any.
   * @param headers Headers, if any.
   */
  constructor(
    message: string,
    code: string | null,
    status?: number,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "OpenAIStreamError";
    this.code = code;
    if (status !== undefined) this.status = status;
    this.headers = headers;
  }
}

/** The stream ended before the response did (the connection dropped). Retryable. */
export class OpenAIIncompleteStreamError extends Error {
  /** @param message What was missing. */
  constructor(message: string) {
    super(message);
    this.name = "OpenAIIncompleteStreamError";
  }
}

/** The connection failed (refused, reset, a websocket handshake the server turned down). */
export class OpenAIConnectionError extends Error {
  /** The HTTP status of a refused websocket handshake, if any. */
  readonly status?: number;

  /**
   * @param message What failed.
   * @param status The handshake's status, if any.
   */
  constructor(message: string, status?: number) {
    super(message);
    this.name = "OpenAIConnectionError";
    if (status !== undefined) this.status = status;
  }
}

/** Codes of errors that a retry cannot fix (the official adapter's list, abridged). */
const FINAL_CODES = new Set([
  "insufficient_quota",
  "invalid_api_key",
  "invalid_request_error",
  "context_length_exceeded",
  "invalid_prompt",
  "model_not_found",
  "unsupported_parameter",
  "unsupported_value",
  "invalid_value",
  "out_of_credits",
]);

const STATUS_CODES: Record<number, string> = {
  400: "invalid_request",
  401: "unauthorized",
  402: "payment_required",
  403: "forbidden",
  404: "not_found",
  408: "timeout",
  413: "invalid_request",
  422: "invalid_request",
  429: "rate_limited",
};

/**
 * The server's wish for the next attempt, in ms: `retry-after-ms`, else `retry-after` (seconds or
 * an HTTP date).
 *
 * @param get Reads a header.
 * @returns The delay, or undefined.
 */
export function retryAfterMs(get: (name: string) => string | null | undefined): number | undefined {
  const ms = Number.parseFloat(get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const header = get("retry-after");
  if (!header) return undefined;
  const seconds = Number.parseFloat(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function byStatus(
  status: number,
  code: string | null | undefined,
  message: string,
  retryAfter?: number,
): LLMErrorClass {
  if (status === 402 || (code && FINAL_CODES.has(code))) {
    return {
      retryable: false,
      status,
      code: code === "insufficient_quota"
        ? "insufficient_quota"
        : STATUS_CODES[status] ?? "provider_error",
      message,
    };
  }
  const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
  return {
    retryable,
    status,
    code: STATUS_CODES[status] ?? "provider_error",
    message,
    ...(retryable && retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  };
}

/**
 * Classifies what a model request threw: retry on 408/409/429/≥500, network errors, timeouts,
 * dropped streams and in-stream server errors; never on 402, `insufficient_quota` or other 4xx.
 * `retry-after` / `retry-after-ms` are honoured.
 *
 * @param error What the request threw.
 * @param what Names the request in messages (`OpenAI Responses`).
 * @returns The class.
 */
export function classifyOpenAIError(error: unknown, what: string): LLMErrorClass {
  if (error instanceof OpenAITimeoutError) {
    return { retryable: true, code: "timeout", message: `${what}: ${error.message}` };
  }
  if (error instanceof OpenAIIncompleteStreamError) {
    return { retryable: true, code: "incomplete_stream", message: `${what}: ${error.message}` };
  }
  if (error instanceof OpenAIConnectionError) {
    const message = `${what}: cannot reach the server (${error.message})`;
    if (error.status !== undefined) return byStatus(error.status, null, message);
    return { retryable: true, code: "network", message };
  }
  if (error instanceof OpenAIStreamError) {
    const message = `${what} failed${error.code ? ` (${error.code})` : ""}: ${error.message}`;
    const after = retryAfterMs((name) => error.headers[name]);
    if (error.status !== undefined) return byStatus(error.status, error.code, message, after);
    if (error.code === "rate_limit_exceeded") {
      return { retryable: true, code: "rate_limited", message, retryAfterMs: after };
    }
    const retryable = !(error.code && FINAL_CODES.has(error.code)) &&
      (error.code === null || error.code === "server_error" ||
        /error|overloaded|unavailable/.test(error.code));
    return { retryable, code: error.code ?? "provider_error", message };
  }
  if (error instanceof APIUserAbortError) {
    return { retryable: false, code: "interrupted", message: `${what} was aborted` };
  }
  if (error instanceof APIConnectionError) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : error.message;
    return {
      retryable: true,
      code: "network",
      message: `${what}: cannot reach the server (${detail})`,
    };
  }
  if (error instanceof APIError) {
    const inner = (error.error as { message?: unknown } | undefined)?.message;
    const text = typeof inner === "string" ? inner : error.message;
    const code = typeof error.code === "string"
      ? error.code
      : typeof error.type === "string"
      ? error.type
      : null;
    if (error.status === undefined) {
      // An `error` event inside the stream.
      return classifyOpenAIError(new OpenAIStreamError(text, code), what);
    }
    const message = `${what} failed: the server answered ${error.status}: ${text}`;
    const after = retryAfterMs((name) => error.headers?.get(name));
    return byStatus(error.status, code, message, after);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { retryable: false, code: "provider_error", message: `${what} failed: ${message}` };
}
