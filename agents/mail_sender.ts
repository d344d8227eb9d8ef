/** A file sent with a mail. */
export interface MailAttachment {
  /** The file name. */
  name: string;
  /** The MIME type. */
  mimeType: string;
  /** The bytes. */
  data: Uint8Array;
}

/** A mail to send (addresses as headers show them: `ada@x.test` or `Ada <ada@x.test>`). */
export interface OutgoingMail {
  /** The sender. */
  from: string;
  /** The recipients. */
  to: readonly string[];
  /** The copied recipients. */
  cc?: readonly string[];
  /** The subject. */
  subject: string;
  /** The plain-text body. */
  text: string;
  /** The `Message-ID`, in angle brackets. */
  messageId: string;
  /** The `In-Reply-To` (the parent's Message-ID), for a reply. */
  inReplyTo?: string;
  /** The `References` (the parent's references, then the parent), for a reply. */
  references?: readonly string[];
  /** More headers (`Meshagent-Correlation-ID`…). */
  headers?: Readonly<Record<string, string>>;
  /** Files to attach. */
  attachments?: readonly MailAttachment[];
}

/**
 * Sends mail for a `MailChannel`: `SmtpMailSender` over SMTP, or your own
 * (a provider's HTTP API, a test double).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MailSender, OutgoingMail } from "@meshagent/agents";
 * const sent: OutgoingMail[] = [];
 * const sender: MailSender = {
 *   send: (mail) => {
 *     sent.push(mail);
 *     return Promise.resolve();
 *   },
 *   close: () => Promise.resolve(),
 * };
 * await sender.send({ from: "a@x.test", to: ["b@y.test"], subject: "hi", text: "hello", messageId: "<1@x.test>" });
 * assert.equal(sent.length, 1);
 * ```
 */
export interface MailSender {
  /**
   * Sends one mail.
   *
   * @throws {Error} When the mail could not be handed over (the server refused it, or is down).
   */
  send(mail: OutgoingMail): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
