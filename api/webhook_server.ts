// A webhook receiver as a plain `fetch` handler (protocol-data §4; agents-sources §4): it runs
// unchanged under `Deno.serve`, `deno serve` and Deno Deploy. Web-standard code only.
import { readEnv } from "./_env.ts";
import type { JsonObject } from "./packing.ts";
import {
  parseWebhookEvent,
  type WebhookEvent,
  type WebhookEvents,
  type WebhookEventType,
} from "./webhook_event.ts";
import {
  verifyWebhook,
  WEBHOOK_PAYLOAD_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  WebhookError,
  WebhookReplayCache,
} from "./webhook_signature.ts";

/** How a receiver checks deliveries (shared by {@linkcode WebhookServer} and `ServiceHost`). */
export interface WebhookReceiverOptions {
  /**
   * The shared secret. Default: `MESHAGENT_WEBHOOK_SECRET`. With validation on and no secret,
   * every delivery is refused with 500 (a configuration error, as the official receiver does).
   */
  secret?: string;
  /** Check signatures (default true). */
  validate?: boolean;
  /** The oldest signature accepted, by its `iat`, in seconds (default 300). */
  maxAgeSeconds?: number;
}

/** A handler of one event type. */
export type WebhookHandler<K extends WebhookEventType> = (
  event: WebhookEvents[K],
  request: Request,
) => void | Promise<void>;

/** Options of a {@linkcode WebhookServer}. */
export interface WebhookServerOptions extends WebhookReceiverOptions {
  /** The path deliveries are posted to (default `/webhook`). */
  path?: string;
  /** Called when a handler throws (default: `console.error`); the sender then gets 500. */
  onError?: (error: unknown, event: WebhookEvent) => void;
}

/** A reply of a receiver: `{"ok": true}`, or `{"ok": false, "error", "code"}` with a status. */
function reply(status: number, body: JsonObject): Response {
  return Response.json(body, { status });
}

function refusal(error: WebhookError): Response {
  return reply(error.status, { ok: false, error: error.message, code: error.code });
}

/**
 * Reads, verifies and parses one delivery (§4.3): the payload comes from the
 * `Meshagent-Webhook` header when present, else from a JSON body; the signature is checked when
 * validation is on.
 *
 * @param request The delivery.
 * @param options The secret and checks.
 * @param replays The ids of signatures accepted before.
 * @returns The event.
 * @throws {WebhookError} When the delivery must be refused.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { receiveWebhook, WebhookError } from "@meshagent/api";
 * const request = new Request("http://localhost/webhook", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ event: "room.ended", data: { room_name: "demo" } }),
 * });
 * await assert.rejects(
 *   receiveWebhook(request, { secret: "s3cret" }),
 *   (e: unknown) => e instanceof WebhookError && e.code === "missing_signature",
 * );
 * ```
 */
export async function receiveWebhook(
  request: Request,
  options: WebhookReceiverOptions,
  replays?: WebhookReplayCache,
): Promise<WebhookEvent> {
  let text = request.headers.get(WEBHOOK_PAYLOAD_HEADER);
  if (text === null) {
    const type = request.headers.get("content-type") ?? "";
    if (!type.toLowerCase().startsWith("application/json")) {
      throw new WebhookError(
        "invalid_payload",
        `a webhook must be posted with Content-Type: application/json (got ${
          JSON.stringify(type)
        })`,
      );
    }
    text = await request.text();
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new WebhookError("invalid_payload", "the webhook payload is not valid JSON");
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new WebhookError("invalid_payload", "the webhook payload must be a JSON object");
  }
  if (options.validate !== false) {
    await verifyWebhook(request.headers.get(WEBHOOK_SIGNATURE_HEADER), text, {
      secret: options.secret ?? readEnv("MESHAGENT_WEBHOOK_SECRET"),
      maxAgeSeconds: options.maxAgeSeconds,
      replayCache: replays,
    });
  }
  return parseWebhookEvent(payload);
}

/**
 * Receives room server webhooks: verifies each delivery's `Meshagent-Signature` (refusing a
 * missing, forged, tampered, expired or replayed one with 401 before any handler runs), parses
 * it into a typed event and calls the handlers registered for its type. Answers `{"ok": true}`
 * once they finished; a handler that throws makes it answer 500 (so the sender retries).
 *
 * `fetch` is a plain Fetch handler: `Deno.serve(receiver.fetch)`, or `export default receiver`
 * in a module run with `deno serve` or deployed to Deno Deploy. `GET` on the path is a liveness
 * check (`{"ok": true}`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { signWebhook, WebhookServer, webhookBody } from "@meshagent/api";
 *
 * const rooms: string[] = [];
 * const receiver = new WebhookServer({ secret: "s3cret" });
 * receiver.on("room.started", (event) => void rooms.push(event.roomName));
 *
 * const body = webhookBody("room.started", { room_name: "demo", room_url: "ws://h/rooms/demo" });
 * const response = await receiver.fetch(new Request("http://localhost/webhook", {
 *   method: "POST",
 *   headers: {
 *     "content-type": "application/json",
 *     "meshagent-signature": await signWebhook(body, "s3cret"),
 *   },
 *   body,
 * }));
 * assert.deepEqual(await response.json(), { ok: true });
 * assert.deepEqual(rooms, ["demo"]);
 * ```
 */
export class WebhookServer {
  /** The path deliveries are posted to. */
  readonly path: string;
  readonly #options: WebhookServerOptions;
  readonly #handlers = new Map<WebhookEventType, Set<WebhookHandler<WebhookEventType>>>();
  readonly #replays = new WebhookReplayCache();

  /**
   * Creates the receiver.
   *
   * @param options Path, secret (default `MESHAGENT_WEBHOOK_SECRET`), validation and an error
   *   reporter.
   */
  constructor(options: WebhookServerOptions = {}) {
    this.path = options.path ?? "/webhook";
    this.#options = options;
  }

  /**
   * Adds a handler for one event type.
   *
   * @param type The event type, e.g. `room.started`.
   * @param handler Gets the typed event and the request.
   * @returns A function that removes the handler.
   */
  on<K extends WebhookEventType>(type: K, handler: WebhookHandler<K>): () => void {
    let set = this.#handlers.get(type);
    if (!set) this.#handlers.set(type, set = new Set());
    const entry = handler as WebhookHandler<WebhookEventType>;
    set.add(entry);
    return () => void set.delete(entry);
  }

  /**
   * Answers one request (bound: pass it as it is to `Deno.serve`).
   *
   * @param request The request.
   * @returns The response.
   */
  readonly fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname !== this.path) {
      return reply(404, { ok: false, error: `not found: webhooks are posted to ${this.path}` });
    }
    const isDelivery = request.method === "POST" || request.headers.has(WEBHOOK_PAYLOAD_HEADER);
    if (!isDelivery) {
      if (request.method === "GET" || request.method === "HEAD") return reply(200, { ok: true });
      return reply(405, { ok: false, error: `method ${request.method} not allowed` });
    }
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return reply(400, {
        ok: false,
        error: "WebSocket-mode delivery is not supported here: deliver over HTTP POST",
      });
    }
    let event: WebhookEvent;
    try {
      event = await receiveWebhook(request, this.#options, this.#replays);
    } catch (e) {
      if (e instanceof WebhookError) return refusal(e);
      throw e;
    }
    const handlers = [...(this.#handlers.get(event.event) ?? [])];
    try {
      for (const handler of handlers) await handler(event, request);
    } catch (e) {
      (this.#options.onError ?? ((error: unknown) => {
        console.error(`webhook ${event.event}: the handler failed:`, error);
      }))(e, event);
      return reply(500, {
        ok: false,
        error: `the ${event.event} handler failed: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
    return reply(200, { ok: true });
  };
}
