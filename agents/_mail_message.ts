// Private: a mail item off the mailbox queue, read into one shape (from the JSON form, a raw RFC
// 822 message, or the platform's `{base64}` form), the should-reply checks, and the reply.
import type { MailAttachment, OutgoingMail } from "./mail_sender.ts";
import {
  formatAddress,
  type MailAddress,
  messageIds,
  parseAddressList,
  parseRfc822,
} from "./_rfc822.ts";

/** An inbound mail, read. */
export interface MailMessage {
  /** The Message-ID, in angle brackets (made up when the mail had none). */
  messageId: string;
  /** The sender. */
  from: MailAddress;
  /** Where replies go (`Reply-To`, else the sender). */
  replyTo: MailAddress;
  /** The recipients. */
  to: MailAddress[];
  /** The copied recipients. */
  cc: MailAddress[];
  /** The subject. */
  subject: string;
  /** The body text. */
  text: string;
  /** The parent's Message-ID. */
  inReplyTo?: string;
  /** The thread's earlier Message-IDs, oldest first. */
  references: string[];
  /** Room files the item names (`room:///…` URLs or room paths). */
  files: { url: string; name?: string; mime_type?: string }[];
  /** Files that came inside the message (to be saved in the room). */
  attachments: MailAttachment[];
  /** Header values the should-reply checks look at. */
  meta: {
    autoSubmitted?: string;
    precedence?: string;
    returnPath?: string;
    deliveredTo?: string;
    contentType?: string;
  };
  /** `Meshagent-Correlation-ID`, carried into the reply. */
  correlationId?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function domainOf(address: string): string {
  return address.includes("@") ? address.split("@").pop()!.toLowerCase() : "local";
}

/** A new Message-ID for mail sent from `address`. */
export function newMessageId(address: string): string {
  return `<${crypto.randomUUID()}@${domainOf(address)}>`;
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text.replace(/\s+/g, ""));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function fromRaw(raw: string | Uint8Array): MailMessage {
  const mail = parseRfc822(raw);
  const from = parseAddressList(mail.header("from"))[0];
  if (!from) throw new Error("the mail has no From address");
  const replyTo = parseAddressList(mail.header("reply-to"))[0] ?? from;
  const inReplyTo = messageIds(mail.header("in-reply-to"))[0];
  return {
    messageId: messageIds(mail.header("message-id"))[0] ?? newMessageId(from.address),
    from,
    replyTo,
    to: parseAddressList(mail.headers("to")),
    cc: parseAddressList(mail.headers("cc")),
    subject: mail.header("subject") ?? "",
    text: mail.text,
    ...(inReplyTo ? { inReplyTo } : {}),
    references: messageIds(mail.headers("references")),
    files: [],
    attachments: mail.attachments,
    meta: {
      autoSubmitted: mail.header("auto-submitted"),
      precedence: mail.header("precedence"),
      returnPath: mail.header("return-path"),
      deliveredTo: mail.header("delivered-to"),
      contentType: mail.contentType,
    },
    ...(mail.header("meshagent-correlation-id")
      ? { correlationId: mail.header("meshagent-correlation-id") }
      : {}),
  };
}

function fromJson(item: Record<string, unknown>): MailMessage {
  const from = parseAddressList(strings(item.from))[0];
  if (!from) throw new Error("the mail item has no `from` address");
  const replyTo = parseAddressList(strings(item.reply_to))[0] ?? from;
  const inReplyTo = messageIds(str(item.in_reply_to))[0];
  const id = str(item.message_id) ?? str(item.id);
  const files = (Array.isArray(item.attachments) ? item.attachments : []).map((a, index) => {
    const path = typeof a === "string" ? a : isObject(a) ? str(a.url) ?? str(a.path) : undefined;
    if (!path) throw new Error(`the mail item's attachments[${index}] needs a room path or url`);
    const url = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path)
      ? path
      : `room:///${path.replace(/^\/+/, "")}`;
    return {
      url,
      ...(isObject(a) && str(a.name) ? { name: str(a.name) } : {}),
      ...(isObject(a) && str(a.mime_type) ? { mime_type: str(a.mime_type) } : {}),
    };
  });
  const text = typeof item.text === "string"
    ? item.text
    : typeof item.body === "string"
    ? item.body
    : typeof item.html === "string"
    ? parseRfc822(`Content-Type: text/html\n\n${item.html}`).text
    : "";
  return {
    messageId: id ? messageIds(id)[0] : newMessageId(from.address),
    from,
    replyTo,
    to: parseAddressList(strings(item.to)),
    cc: parseAddressList(strings(item.cc)),
    subject: typeof item.subject === "string" ? item.subject : "",
    text: text.trim(),
    ...(inReplyTo ? { inReplyTo } : {}),
    references: messageIds(strings(item.references)),
    files,
    attachments: [],
    meta: {
      autoSubmitted: str(item.auto_submitted),
      precedence: str(item.precedence),
      returnPath: str(item.return_path),
      deliveredTo: str(item.delivered_to),
    },
    ...(str(item.correlation_id) ? { correlationId: str(item.correlation_id) } : {}),
  };
}

/**
 * Reads a mail item: `{from, to?, cc?, reply_to?, subject?, text | body | html?, message_id?,
 * in_reply_to?, references?, attachments?}`, `{base64: <raw message>}` (as the platform's mailbox
 * queues it), `{raw: <raw message>}`, or a raw RFC 822 message as a string.
 *
 * @throws {Error} Saying what is missing or malformed.
 */
export function readMailItem(item: unknown): MailMessage {
  if (typeof item === "string") return fromRaw(item);
  if (!isObject(item)) throw new Error("a mail item must be a JSON object or a raw message");
  if (typeof item.base64 === "string") {
    let bytes: Uint8Array;
    try {
      bytes = base64Bytes(item.base64);
    } catch {
      throw new Error("the mail item's base64 is not base64");
    }
    return fromRaw(bytes);
  }
  if (typeof item.raw === "string") return fromRaw(item.raw);
  return fromJson(item);
}

/** Subjects of bounces and delivery reports. */
const BOUNCE_SUBJECTS = [
  "delivery status notification",
  "undelivered mail",
  "returned to sender",
  "mail delivery subsystem",
  "failure notice",
];
/** `Precedence` values of mail nobody should answer. */
const BULK_PRECEDENCE = new Set(["bulk", "junk", "list", "auto_reply", "auto-reply"]);

/**
 * Why a mail must not be answered (as the official channel: not addressed to this mailbox, a
 * bounce or an automatic reply, a sender not on the allow list; and [impl] mail from this
 * mailbox itself, which would loop), or null when it may be.
 */
export function whyNotAnswer(
  mail: MailMessage,
  own: string,
  allowedSenders?: readonly string[],
): string | null {
  const me = own.toLowerCase();
  const sender = mail.from.address.toLowerCase();
  if (sender === me) return "it is from this mailbox";
  const recipients = [...mail.to, ...mail.cc].map((a) => a.address.toLowerCase());
  const delivered = mail.meta.deliveredTo?.toLowerCase();
  // [impl] A JSON item may leave the recipients out: the queue is the mailbox.
  if ((recipients.length > 0 || delivered) && !recipients.includes(me) && delivered !== me) {
    return `it is not addressed to ${own}`;
  }
  const auto = mail.meta.autoSubmitted?.toLowerCase();
  if (auto && auto !== "no") return `Auto-Submitted is ${mail.meta.autoSubmitted}`;
  if (mail.meta.precedence && BULK_PRECEDENCE.has(mail.meta.precedence.toLowerCase())) {
    return `Precedence is ${mail.meta.precedence}`;
  }
  if (mail.meta.returnPath?.trim() === "<>") return "its Return-Path is <> (a bounce)";
  if (mail.meta.contentType === "multipart/report") return "it is a delivery report";
  if (sender.includes("mailer-daemon") || sender.startsWith("postmaster@")) {
    return `it is from ${mail.from.address} (a bounce)`;
  }
  const subject = mail.subject.toLowerCase();
  const bounce = BOUNCE_SUBJECTS.find((s) => subject.includes(s));
  if (bounce) return `its subject looks like a bounce (${mail.subject})`;
  if (allowedSenders && !allowedSenders.some((a) => a.toLowerCase() === sender)) {
    return `${mail.from.address} is not an allowed sender`;
  }
  return null;
}

/** What the model is told about a mail (as the official channel words it). */
export function mailPrompt(mail: MailMessage): string {
  const lines = ["Incoming email message:", `From: ${formatAddress(mail.from)}`];
  if (mail.to.length > 0) lines.push(`To: ${mail.to.map(formatAddress).join(", ")}`);
  if (mail.cc.length > 0) lines.push(`Cc: ${mail.cc.map(formatAddress).join(", ")}`);
  if (mail.subject !== "") lines.push(`Subject: ${mail.subject}`);
  if (mail.text !== "") lines.push("", mail.text);
  return lines.join("\n");
}

/**
 * The reply to a mail: to its Reply-To (else its sender), with `reply_all` the other recipients
 * in Cc (never this mailbox or the sender twice), `In-Reply-To` the mail's Message-ID and
 * `References` its references followed by its Message-ID (RFC 5322 §3.6.4).
 */
export function replyTo(
  mail: MailMessage,
  options: { from: string; text: string; replyAll?: boolean },
): OutgoingMail {
  const me = options.from.toLowerCase();
  const to = mail.replyTo;
  const cc: MailAddress[] = [];
  if (options.replyAll) {
    const seen = new Set([me, to.address.toLowerCase()]);
    for (const address of [...mail.to, ...mail.cc]) {
      const lower = address.address.toLowerCase();
      if (seen.has(lower)) continue;
      seen.add(lower);
      cc.push(address);
    }
  }
  const parents = mail.references.length > 0
    ? mail.references
    : mail.inReplyTo
    ? [mail.inReplyTo]
    : [];
  const references = [...parents.filter((id) => id !== mail.messageId), mail.messageId];
  return {
    from: options.from,
    to: [formatAddress(to)],
    ...(cc.length > 0 ? { cc: cc.map(formatAddress) } : {}),
    subject: /^re:/i.test(mail.subject.trim()) ? mail.subject : `RE: ${mail.subject}`,
    text: options.text,
    messageId: newMessageId(options.from),
    inReplyTo: mail.messageId,
    references,
    ...(mail.correlationId ? { headers: { "Meshagent-Correlation-ID": mail.correlationId } } : {}),
  };
}
