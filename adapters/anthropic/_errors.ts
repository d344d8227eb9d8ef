// What a failed Messages API request means for the tool loop: retry or not, how long to wait.
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "@anthropic-ai/sdk";
import type { LLMErrorClass } from "@meshagent/agents";

/** The stream went quiet for longer than the idle timeout. */
export class StreamStalledError extends Error {
  constructor(ms: number) {
    super(`the Anthropic stream sent nothing for ${ms} ms`);
    this.name = "StreamStalledError";
  }
}

/** The stream ended without `message_stop` (the connection dropped). */
export class StreamCutError extends Error {
  constructor() {
    super("the Anthropic stream ended before message_stop");
    this.name = "StreamCutError";
  }
}

/** Error types of an SSE `error` event (no HTTP status) that a new attempt may get past. */
const RETRYABLE_STREAM_TYPES = new Set([
  "overloaded_error",
  "api_error",
  "rate_limit_error",
  "timeout_error",
]);

/**
 * `retry-after-ms` (milliseconds), else `retry-after` (seconds, or an HTTP date), in ms.
 *
 * @param headers The response headers.
 * @param now The current time (ms since the epoch).
 */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Classifies an error of one request (the official retry policy). */
export function classifyAnthropicError(error: unknown, baseURL: string): LLMErrorClass {
  if (error instanceof StreamStalledError || error instanceof StreamCutError) {
    return { retryable: true, message: error.message };
  }
  if (error instanceof APIConnectionTimeoutError) {
    return { retryable: true, message: `Anthropic did not answer in time (${baseURL})` };
  }
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { retryable: true, message: `could not reach Anthropic at ${baseURL}${cause}` };
  }
  if (error instanceof APIError) {
    const status = error.status;
    const type = error.type ?? "error";
    const detail = error.apiMessage ?? error.message;
    if (status === undefined) {
      return {
        retryable: RETRYABLE_STREAM_TYPES.has(type),
        message: `Anthropic stream error ${type}: ${detail}`,
        ...(type === "rate_limit_error" ? { code: "rate_limited" } : {}),
      };
    }
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const wait = retryAfterMs(error.headers);
    return {
      retryable,
      status,
      message: `Anthropic ${status} ${type}: ${detail}`,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    };
  }
  if (error instanceof TypeError && /fetch|network|connect|socket/i.test(error.message)) {
    return {
      retryable: true,
      message: `could not reach Anthropic at ${baseURL}: ${error.message}`,
    };
  }
  return { retryable: false, message: error instanceof Error ? error.message : String(error) };
}
