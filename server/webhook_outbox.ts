// The outgoing webhooks of a room server (protocol-data §4.2): a durable outbox in
// `<dataDir>/webhook-outbox.sqlite`, delivered in the background with retries and backoff. A room
// only inserts a row (synchronous, microseconds); it never waits for a receiver. Deno- and
// Node-only (node:sqlite).
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { signWebhook, WEBHOOK_SIGNATURE_HEADER, webhookBody } from "@meshagent/api";

/** The database file of the outbox, in the server's data folder. */
export const WEBHOOK_OUTBOX_FILE = "webhook-outbox.sqlite";

/** Options of a {@linkcode WebhookOutbox}. */
export interface WebhookOutboxOptions {
  /** Attempts per delivery before it is given up (default 12). */
  maxAttempts?: number;
  /** The wait before the first retry, in ms; each further retry waits twice as long (default 1000). */
  firstRetryMs?: number;
  /** The longest wait between retries, in ms (default 300 000). */
  maxRetryMs?: number;
  /** How long one attempt may take, in ms (default 10 000). */
  timeoutMs?: number;
  /** Attempts in flight at once (default 8). */
  concurrency?: number;
  /** The fetch to deliver with (default the global one). */
  fetch?: typeof fetch;
  /** Reports a delivery given up (default `console.error`). */
  onGiveUp?: (delivery: WebhookDelivery) => void;
}

/** One webhook to deliver. */
export interface WebhookMessage {
  /** Where to POST it. */
  url: string;
  /** The signing secret (empty: unsigned). */
  secret: string;
  /** The event type. */
  event: string;
  /** The event data. */
  data: Readonly<Record<string, unknown>>;
  /** Attempts before giving up (default: the outbox's). */
  maxAttempts?: number;
}

/** A delivery as the outbox keeps it. */
export interface WebhookDelivery {
  /** Its id. */
  readonly id: number;
  /** The target URL. */
  readonly url: string;
  /** The event type. */
  readonly event: string;
  /** Attempts made so far. */
  readonly attempts: number;
  /** `pending`, or `failed` once given up. */
  readonly state: "pending" | "failed";
  /** What the last attempt got (a status or a network error). */
  readonly lastError: string | null;
}

/** How a delivery ended. */
export type DeliveryOutcome = { ok: true } | { ok: false; error: string };

interface Row {
  id: number;
  url: string;
  secret: string;
  event: string;
  body: string;
  attempts: number;
  max_attempts: number;
  state: string;
  last_error: string | null;
}

/**
 * The durable outbox of outgoing webhooks: each one is a row until a receiver answered 2xx;
 * failures are retried with exponential backoff (1 s, 2 s, 4 s … up to 5 min, ±20 % jitter) up to
 * `maxAttempts`, then kept as `failed`. Rows survive a restart: the outbox of the next run
 * delivers what the last one did not. Bodies are Python's `json.dumps` of `{event, data}`, each
 * attempt signed anew (`Meshagent-Signature`, §4.3).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebhookOutbox } from "@meshagent/server";
 * const dir = await Deno.makeTempDir();
 * const got: string[] = [];
 * const server = Deno.serve({ port: 0, onListen() {} }, async (request) => {
 *   got.push((await request.json()).event);
 *   return Response.json({ ok: true });
 * });
 * const outbox = WebhookOutbox.open(dir);
 * const id = outbox.enqueue({
 *   url: `http://127.0.0.1:${server.addr.port}/webhook`,
 *   secret: "s3cret",
 *   event: "room.ended",
 *   data: { room_name: "demo" },
 * });
 * assert.deepEqual(await outbox.outcome(id, 5000), { ok: true });
 * assert.deepEqual(got, ["room.ended"]);
 * await outbox.close();
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class WebhookOutbox {
  readonly #db: DatabaseSync;
  readonly #s: Record<
    "insert" | "due" | "next" | "lease" | "done" | "retry" | "failed" | "get",
    StatementSync
  >;
  readonly #options: Required<Omit<WebhookOutboxOptions, "onGiveUp">> & WebhookOutboxOptions;
  readonly #inFlight = new Map<number, Promise<void>>();
  /** The URLs with a delivery in flight. */
  readonly #urls = new Set<string>();
  readonly #waiters = new Map<number, Set<(outcome: DeliveryOutcome) => void>>();
  #timer?: ReturnType<typeof setTimeout>;
  #closed = false;

  private constructor(db: DatabaseSync, options: WebhookOutboxOptions) {
    this.#db = db;
    this.#options = {
      maxAttempts: 12,
      firstRetryMs: 1000,
      maxRetryMs: 300_000,
      timeoutMs: 10_000,
      concurrency: 8,
      fetch: globalThis.fetch,
      ...options,
    };
    this.#s = {
      insert: db.prepare(
        "INSERT INTO deliveries (url, secret, event, body, attempts, max_attempts, next_at, " +
          "state, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, 'pending', ?)",
      ),
      due: db.prepare(
        "SELECT * FROM deliveries WHERE state = 'pending' AND next_at <= ? " +
          "AND url NOT IN (SELECT value FROM json_each(?)) ORDER BY next_at, id LIMIT ?",
      ),
      next: db.prepare(
        "SELECT min(next_at) AS at FROM deliveries WHERE state = 'pending' " +
          "AND url NOT IN (SELECT value FROM json_each(?))",
      ),
      lease: db.prepare("UPDATE deliveries SET next_at = ? WHERE id = ?"),
      done: db.prepare("DELETE FROM deliveries WHERE id = ?"),
      retry: db.prepare(
        "UPDATE deliveries SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
      ),
      failed: db.prepare(
        "UPDATE deliveries SET attempts = ?, state = 'failed', last_error = ? WHERE id = ?",
      ),
      get: db.prepare("SELECT * FROM deliveries WHERE id = ?"),
    };
  }

  /**
   * Opens the outbox of a data folder and starts delivering what is pending in it.
   *
   * @param dataDir The server's data folder.
   * @param options Retry policy, timeouts and concurrency.
   * @returns The outbox.
   */
  static open(dataDir: string, options: WebhookOutboxOptions = {}): WebhookOutbox {
    mkdirSync(dataDir, { recursive: true });
    const db = new DatabaseSync(`${dataDir}/${WEBHOOK_OUTBOX_FILE}`);
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        event TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        next_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
    `);
    // Given-up deliveries are kept a week for inspection.
    db.prepare("DELETE FROM deliveries WHERE state = 'failed' AND created_at < ?")
      .run(Date.now() - 7 * 24 * 3600_000);
    const outbox = new WebhookOutbox(db, options);
    outbox.#schedule();
    return outbox;
  }

  /**
   * Queues a webhook; it is delivered in the background. Returns at once.
   *
   * @param message The target, secret, event and data.
   * @returns The delivery id (see {@linkcode WebhookOutbox.outcome}).
   * @throws {Error} When the outbox is closed.
   */
  enqueue(message: WebhookMessage): number {
    if (this.#closed) throw new Error("the webhook outbox is closed");
    const now = Date.now();
    const result = this.#s.insert.run(
      message.url,
      message.secret,
      message.event,
      webhookBody(message.event, message.data),
      message.maxAttempts ?? this.#options.maxAttempts,
      now,
      now,
    );
    const id = Number(result.lastInsertRowid);
    queueMicrotask(() => this.#pump());
    return id;
  }

  /**
   * Waits for how a delivery ends: delivered, or given up after its last attempt.
   *
   * @param id The delivery id.
   * @param timeoutMs The longest wait.
   * @returns The outcome (`ok: false` with the last error when given up or still failing when
   *   the wait ends).
   */
  outcome(id: number, timeoutMs: number): Promise<DeliveryOutcome> {
    const row = this.#s.get.get(id) as Row | undefined;
    if (!row) return Promise.resolve({ ok: true }); // delivered (and removed) already
    if (row.state === "failed") {
      return Promise.resolve({ ok: false, error: row.last_error ?? "delivery failed" });
    }
    return new Promise((resolve) => {
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, set = new Set());
      const done = (outcome: DeliveryOutcome) => {
        clearTimeout(timer);
        set!.delete(done);
        if (set!.size === 0) this.#waiters.delete(id);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        const now = this.#s.get.get(id) as Row | undefined;
        done({
          ok: false,
          error: `not delivered within ${timeoutMs / 1000} s` +
            (now?.last_error ? ` (last attempt: ${now.last_error})` : ""),
        });
      }, timeoutMs);
      set.add(done);
    });
  }

  /**
   * The deliveries not done yet (pending or given up), oldest first.
   *
   * @returns The deliveries.
   */
  deliveries(): WebhookDelivery[] {
    const rows = this.#db.prepare("SELECT * FROM deliveries ORDER BY id").all() as unknown as Row[];
    return rows.map((row) => ({
      id: row.id,
      url: row.url,
      event: row.event,
      attempts: row.attempts,
      state: row.state === "failed" ? "failed" : "pending",
      lastError: row.last_error,
    }));
  }

  /** The URLs with a delivery in flight, as the JSON list the queries take. */
  #busyUrls(): string {
    return JSON.stringify([...this.#urls]);
  }

  /** Sets the timer for the next pending delivery (none while every slot is busy). */
  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || this.#inFlight.size >= this.#options.concurrency) return;
    const at = (this.#s.next.get(this.#busyUrls()) as { at: number | null }).at;
    if (at === null) return;
    this.#timer = setTimeout(() => this.#pump(), Math.max(0, at - Date.now()));
  }

  /** Starts the due deliveries (as many as there are free slots), then sets the timer. */
  #pump(): void {
    if (this.#closed) return;
    const free = this.#options.concurrency - this.#inFlight.size;
    if (free > 0) {
      const now = Date.now();
      // [impl] One delivery per URL at a time, oldest first: a receiver gets a room's events in
      // the order they happened (room.started … participant.left, room.ended) while every
      // attempt succeeds; a retried delivery waits its backoff, so later events may pass it.
      for (const row of this.#s.due.all(now, this.#busyUrls(), free) as unknown as Row[]) {
        if (this.#urls.has(row.url)) continue; // two rows of one URL in this batch: oldest only
        // Leased: not due again until this attempt is over (or, after a crash, past its time).
        this.#s.lease.run(now + this.#options.timeoutMs + 5000, row.id);
        this.#urls.add(row.url);
        const attempt = this.#attempt(row).finally(() => {
          this.#inFlight.delete(row.id);
          this.#urls.delete(row.url);
          this.#pump();
        });
        this.#inFlight.set(row.id, attempt);
      }
    }
    this.#schedule();
  }

  async #attempt(row: Row): Promise<void> {
    let error: string | null = null;
    try {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "meshagent-deno-server",
      };
      if (row.secret) headers[WEBHOOK_SIGNATURE_HEADER] = await signWebhook(row.body, row.secret);
      const response = await this.#options.fetch(row.url, {
        method: "POST",
        headers,
        body: row.body,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      const text = await response.text().catch(() => "");
      if (!response.ok) error = `HTTP ${response.status} ${text.slice(0, 200)}`.trim();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const attempts = row.attempts + 1;
    if (error === null) {
      this.#s.done.run(row.id);
      this.#settle(row.id, { ok: true });
      return;
    }
    if (attempts >= row.max_attempts) {
      this.#s.failed.run(attempts, error, row.id);
      this.#settle(row.id, { ok: false, error });
      (this.#options.onGiveUp ?? ((d: WebhookDelivery) => {
        console.error(
          `webhook ${d.event} to ${d.url} given up after ${d.attempts} attempts: ${d.lastError}`,
        );
      }))({
        id: row.id,
        url: row.url,
        event: row.event,
        attempts,
        state: "failed",
        lastError: error,
      });
      return;
    }
    const base = Math.min(
      this.#options.maxRetryMs,
      this.#options.firstRetryMs * 2 ** (attempts - 1),
    );
    const wait = Math.round(base * (0.8 + Math.random() * 0.4));
    this.#s.retry.run(attempts, Date.now() + wait, error, row.id);
  }

  #settle(id: number, outcome: DeliveryOutcome): void {
    for (const done of [...(this.#waiters.get(id) ?? [])]) done(outcome);
  }

  /**
   * Stops delivering: waits for the attempts in flight (each has its timeout), keeps what is
   * pending for the next run, and closes the database. Safe to call more than once.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inFlight.values()]);
    for (const [id, set] of this.#waiters) {
      for (const done of [...set]) done({ ok: false, error: "the server is shutting down" });
      this.#waiters.delete(id);
    }
    this.#db.close();
  }
}
