// Deno and Node only: SMTP needs TCP sockets (npm `nodemailer`, loaded on first use, so that
// importing @meshagent/agents elsewhere does not load it).
// @ts-types="@types/nodemailer"
import type nodemailerModule from "nodemailer";
import type { Buffer as NodeBuffer } from "node:buffer";
import { type EnvSource, readEnv } from "@meshagent/api";
import type { MailSender, OutgoingMail } from "./mail_sender.ts";

type Nodemailer = typeof nodemailerModule;
type Transport = ReturnType<Nodemailer["createTransport"]>;
/** The transport and Node's `Buffer` (nodemailer wants attachments as buffers). */
interface Loaded {
  transport: Transport;
  toBuffer(data: Uint8Array): NodeBuffer;
}

/** Where and how to send mail over SMTP. */
export interface SmtpOptions {
  /** The SMTP server (default: the mail domain). */
  host?: string;
  /** Its port (default 587). */
  port?: number;
  /** TLS from the start, as on port 465 (default: port is 465); otherwise STARTTLS when offered. */
  secure?: boolean;
  /** Refuse to send without STARTTLS (default false). */
  requireTLS?: boolean;
  /** The user to log in as (no login without one). */
  username?: string;
  /** The password. */
  password?: string;
  /** The name this client gives in `EHLO` (default: the machine's host name). */
  localHostname?: string;
  /** Connecting, and the server's greeting, may take this long each (default 15 000 ms). */
  connectionTimeoutMs?: number;
  /** The connection may be idle this long (default 60 000 ms). */
  socketTimeoutMs?: number;
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return /^(1|true|yes|on)$/i.test(value.trim());
}

/**
 * SMTP settings from the environment: `SMTP_HOST` (or `SMTP_HOSTNAME`), `SMTP_PORT`,
 * `SMTP_SECURE`, `SMTP_REQUIRE_TLS`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_LOCAL_HOSTNAME`.
 *
 * @param env Where to read (default: the process environment).
 * @returns The options that are set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smtpOptionsFromEnv } from "@meshagent/agents";
 * const options = smtpOptionsFromEnv({ SMTP_HOST: "smtp.example.com", SMTP_PORT: "465" });
 * assert.deepEqual(options, { host: "smtp.example.com", port: 465 });
 * ```
 */
export function smtpOptionsFromEnv(env?: EnvSource): SmtpOptions {
  const get = (name: string) => {
    const value = env === undefined
      ? readEnv(name)
      : typeof env === "function"
      ? env(name)
      : env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const options: SmtpOptions = {};
  const host = get("SMTP_HOST") ?? get("SMTP_HOSTNAME");
  if (host) options.host = host;
  const port = Number(get("SMTP_PORT"));
  if (Number.isInteger(port) && port > 0) options.port = port;
  const secure = flag(get("SMTP_SECURE"));
  if (secure !== undefined) options.secure = secure;
  const requireTLS = flag(get("SMTP_REQUIRE_TLS"));
  if (requireTLS !== undefined) options.requireTLS = requireTLS;
  const username = get("SMTP_USERNAME");
  if (username) options.username = username;
  const password = get("SMTP_PASSWORD");
  if (password) options.password = password;
  const localHostname = get("SMTP_LOCAL_HOSTNAME");
  if (localHostname) options.localHostname = localHostname;
  return options;
}

/**
 * Sends mail over SMTP (npm `nodemailer`). One connection per mail, closed after it; every step
 * has a timeout, so a server that is down or silent makes `send` fail instead of hang.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SmtpMailSender } from "@meshagent/agents";
 * const sender = new SmtpMailSender({ host: "127.0.0.1", port: 1, connectionTimeoutMs: 2000 });
 * await assert.rejects(
 *   sender.send({ from: "a@x.test", to: ["b@y.test"], subject: "hi", text: "x", messageId: "<1@x.test>" }),
 *   /127\.0\.0\.1:1/,
 * );
 * await sender.close();
 * ```
 */
export class SmtpMailSender implements MailSender {
  readonly #options: SmtpOptions;
  #transport: Promise<Loaded> | null = null;

  /**
   * Creates the sender (nothing connects before the first mail).
   *
   * @param options The server; default {@linkcode smtpOptionsFromEnv}, host `localhost`.
   */
  constructor(options: SmtpOptions = smtpOptionsFromEnv()) {
    this.#options = options;
  }

  /** The server it sends to (`host:port`). */
  get server(): string {
    return `${this.#options.host ?? "localhost"}:${this.#options.port ?? 587}`;
  }

  #open(): Promise<Loaded> {
    this.#transport ??= Promise.all([import("nodemailer"), import("node:buffer")]).then((
      [module, { Buffer }],
    ) => {
      const nodemailer = ((module as { default?: Nodemailer }).default ?? module) as Nodemailer;
      const o = this.#options;
      const port = o.port ?? 587;
      const timeout = o.connectionTimeoutMs ?? 15_000;
      const transport = nodemailer.createTransport({
        host: o.host ?? "localhost",
        port,
        secure: o.secure ?? port === 465,
        requireTLS: o.requireTLS ?? false,
        ...(o.username ? { auth: { user: o.username, pass: o.password ?? "" } } : {}),
        ...(o.localHostname ? { name: o.localHostname } : {}),
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: o.socketTimeoutMs ?? 60_000,
        dnsTimeout: timeout,
      });
      return {
        transport,
        toBuffer: (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      };
    });
    return this.#transport;
  }

  /**
   * Sends one mail.
   *
   * @param mail The mail.
   * @throws {Error} Naming the server and what went wrong (refused, timed out, rejected).
   */
  async send(mail: OutgoingMail): Promise<void> {
    const { transport, toBuffer } = await this.#open();
    try {
      await transport.sendMail({
        from: mail.from,
        to: [...mail.to],
        ...(mail.cc && mail.cc.length > 0 ? { cc: [...mail.cc] } : {}),
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
        ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
        ...(mail.references && mail.references.length > 0
          ? { references: [...mail.references] }
          : {}),
        ...(mail.headers ? { headers: { ...mail.headers } } : {}),
        attachments: (mail.attachments ?? []).map((a) => ({
          filename: a.name,
          contentType: a.mimeType,
          content: toBuffer(a.data),
        })),
      });
    } catch (e) {
      throw new Error(`SMTP ${this.server}: ${(e as Error).message}`);
    }
  }

  /** Closes the transport. */
  async close(): Promise<void> {
    const transport = this.#transport;
    this.#transport = null;
    (await transport?.catch(() => null))?.transport.close();
  }
}
