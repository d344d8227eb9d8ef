import { ErrorCode, readEnv, type RoomClient } from "@meshagent/api";
import { FunctionTool, ToolError, Toolkit } from "@meshagent/tools";
import { type AgentInputContent, type AgentMessage, agentMessage } from "./agent_message.ts";
import { Channel, type ChannelParticipant, type Delivery } from "./channel.ts";
import type { MailAttachment, MailSender, OutgoingMail } from "./mail_sender.ts";
import { type MailThreadIndex, RoomMailThreadIndex } from "./mail_thread_index.ts";
import { SmtpMailSender, type SmtpOptions, smtpOptionsFromEnv } from "./smtp_mail_sender.ts";
import {
  type MailMessage,
  mailPrompt,
  newMessageId,
  readMailItem,
  replyTo,
  whyNotAnswer,
} from "./_mail_message.ts";
import { QueueReceiver } from "./_queue_receiver.ts";
import { TurnTracker } from "./_turn_tracker.ts";

/**
 * A mail as it arrives on the mailbox queue, in its JSON form. Addresses are strings as headers
 * show them (`ada@x.test`, `Ada <ada@x.test>`); Message-IDs with or without angle brackets.
 *
 * A {@linkcode MailChannel} also takes `{"base64": "<the raw RFC 822 message, base64>"}` (what
 * the platform's mailboxes queue), `{"raw": "<the raw message>"}`, or the raw message as a bare
 * string: their headers, text body and attachments are read from the message.
 */
export interface MailItem {
  /** The sender. */
  from: string;
  /** The recipients (checked to include the channel's address, when given). */
  to?: string | string[];
  /** The copied recipients. */
  cc?: string | string[];
  /** Where replies go (default `from`). */
  reply_to?: string;
  /** The subject. */
  subject?: string;
  /** The plain-text body (`body` is accepted too; `html` when there is no text). */
  text?: string;
  /** The body, as the official item names it. */
  body?: string;
  /** An HTML body, used (as text) when there is no `text`. */
  html?: string;
  /** The Message-ID (made up when missing; `id` is accepted too). */
  message_id?: string;
  /** The parent's Message-ID, for a reply. */
  in_reply_to?: string;
  /** The thread's earlier Message-IDs (a header value or a list). */
  references?: string | string[];
  /** Room files that came with it: room paths, `room:///…` URLs, or `{path | url, name?, mime_type?}`. */
  attachments?: (string | { path?: string; url?: string; name?: string; mime_type?: string })[];
  /** `Auto-Submitted` (mail that is not `no` is not answered). */
  auto_submitted?: string;
  /** `Precedence` (bulk, list, junk and auto-reply mail is not answered). */
  precedence?: string;
}

/** Options of a {@linkcode MailChannel}. */
export interface MailChannelOptions {
  /** The agent's room connection. */
  room: RoomClient;
  /** The agent's address, the From of its mail (default `<agent name>@<domain>`). */
  emailAddress?: string;
  /** The mail domain (default `MESHAGENT_MAIL_DOMAIN`, else `mail.meshagent.com`). */
  domain?: string;
  /** The queue mail arrives on (default: the address). */
  queueName?: string;
  /** How to send replies: default an {@linkcode SmtpMailSender} with `smtp`. */
  sender?: MailSender;
  /** SMTP settings for the default sender (default: {@linkcode smtpOptionsFromEnv}, host the domain). */
  smtp?: SmtpOptions;
  /** Reply to every recipient, not only the sender (default false). */
  replyAll?: boolean;
  /** Answer only these senders (default: anyone). */
  allowedSenders?: readonly string[];
  /** Where Message-IDs are matched to threads (default a {@linkcode RoomMailThreadIndex} under `.emails/<address>/message-ids`). */
  threadIndex?: MailThreadIndex;
  /** Where skipped mail and failed replies are reported (default `console.warn`). */
  log?: (message: string) => void;
}

interface MailTurn {
  mail: MailMessage;
  threadId?: string;
}

/** The largest attachment saved from a raw message, in bytes. [impl] */
const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

async function shortHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest).subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function safeFileName(name: string): string {
  const cleaned = [...name].map((c) =>
    c.charCodeAt(0) < 0x20 || c === "\u007f" || c === "/" || c === "\\" ? "_" : c
  )
    .join("").replace(/^\.+/, "").trim();
  return cleaned === "" ? "attachment.bin" : cleaned.slice(0, 120);
}

/**
 * Mail as an input of an agent (agents.md §2.7, official `MailChannel`): mail arrives on a room
 * queue (a platform mailbox routes it there; see {@linkcode MailItem} for the shapes), each mail
 * that should be answered becomes a turn, and when the turn ends its text is sent back as a reply
 * over SMTP, From the agent's address, with `In-Reply-To` and `References` set.
 *
 * Threads follow the conversation: every Message-ID the channel sees or sends is recorded with
 * its thread in a {@linkcode MailThreadIndex}; a mail whose `In-Reply-To` (or one of its
 * `References`) is known continues that thread, any other starts a new thread named after its
 * subject. Attachments of a raw message are saved in the room (`.emails/<address>/<id>/…`) and
 * given to the model as files.
 *
 * Not answered (logged): mail not addressed to the agent's address, bounces and automatic replies
 * (`Auto-Submitted`, `Precedence`, an empty Return-Path, mailer-daemon…), senders not in
 * `allowedSenders`, mail from the agent's own address. A turn that fails sends no reply; a reply
 * that cannot be sent (the SMTP server is down) is logged — the turn stays stored either way.
 *
 * Each turn also gets a `mail` toolkit with `new_email_thread{to, subject, body, attachments}`,
 * which sends a new mail from the agent; replies to it continue the turn's thread.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MailChannel, MemoryMailThreadIndex } from "@meshagent/agents";
 * import type { RoomClient } from "@meshagent/api";
 * const channel = new MailChannel({
 *   room: {} as RoomClient,
 *   emailAddress: "helper@mail.example.com",
 *   smtp: { host: "smtp.example.com", port: 587 },
 *   threadIndex: new MemoryMailThreadIndex(),
 * });
 * assert.equal(channel.name, "mail:helper@mail.example.com");
 * ```
 */
export class MailChannel extends Channel {
  readonly #room: RoomClient;
  readonly #options: MailChannelOptions;
  readonly #log: (message: string) => void;
  readonly #turns = new TurnTracker<MailTurn>();
  readonly #pendingThreads = new Map<string, MailTurn>();
  readonly #sending = new Set<Promise<void>>();
  #address: string | null;
  #sender: MailSender | null = null;
  #index: MailThreadIndex | null = null;
  #receiver: QueueReceiver | null = null;
  /** Index writes in flight: lookups wait for them, so a quick reply finds its thread. */
  #writes: Promise<void> = Promise.resolve();

  /**
   * Creates the channel (it starts receiving when the supervisor starts it).
   *
   * @param options The room, the address, SMTP and the thread index.
   */
  constructor(options: MailChannelOptions) {
    super();
    this.#room = options.room;
    this.#options = options;
    this.#log = options.log ?? ((m) => console.warn(m));
    this.#address = options.emailAddress?.trim() || null;
  }

  /** `mail:<address>`. */
  get name(): string {
    return `mail:${this.#address ?? "(not started)"}`;
  }

  /** The agent's address (known once started when it was not given). */
  get emailAddress(): string {
    if (!this.#address) throw new Error("the mail channel has no address before it starts");
    return this.#address;
  }

  #domain(): string {
    return this.#options.domain ?? readEnv("MESHAGENT_MAIL_DOMAIN") ?? "mail.meshagent.com";
  }

  /** Starts receiving mail from the queue. */
  protected override onStart(): Promise<void> {
    this.#address ??= `${this.host.agentName}@${this.#domain()}`;
    const address = this.#address;
    this.#sender = this.#options.sender ?? new SmtpMailSender({
      host: this.#domain(),
      ...smtpOptionsFromEnv(),
      ...this.#options.smtp,
    });
    this.#index = this.#options.threadIndex ??
      new RoomMailThreadIndex(this.#room, `.emails/${address}/message-ids`);
    this.#receiver = new QueueReceiver({
      room: this.#room,
      queue: this.#options.queueName?.trim() || address,
      log: this.#log,
      onItem: (item) => this.#onMail(item),
    });
    this.#receiver.start();
    return Promise.resolve();
  }

  /** Stops receiving, waits for replies being sent, closes the sender. */
  protected override async onStop(): Promise<void> {
    await this.#receiver?.stop();
    this.#receiver = null;
    await Promise.allSettled([...this.#sending]);
    await this.#writes;
    if (!this.#options.sender) await this.#sender?.close();
    this.#sender = null;
    this.#turns.clear();
    this.#pendingThreads.clear();
  }

  #remember(messageId: string, threadId: string): void {
    const index = this.#index!;
    this.#writes = this.#writes.then(() => index.record(messageId, threadId)).catch((e) =>
      this.#log(`mail ${this.#address}: could not record ${messageId}: ${(e as Error).message}`)
    );
  }

  async #threadOf(mail: MailMessage): Promise<string | null> {
    await this.#writes;
    const parents = [mail.inReplyTo, ...[...mail.references].reverse(), mail.messageId];
    for (const id of parents) {
      if (!id) continue;
      const thread = await this.#index!.threadOf(id);
      if (thread) return thread;
    }
    return null;
  }

  async #onMail(item: unknown): Promise<void> {
    const address = this.emailAddress;
    const mail = readMailItem(item);
    const why = whyNotAnswer(mail, address, this.#options.allowedSenders);
    if (why !== null) {
      this.#log(
        `mail ${address}: not answering ${mail.messageId} from ${mail.from.address}: ${why}`,
      );
      return;
    }
    const files = [...mail.files, ...await this.#saveAttachments(mail)];
    const content: AgentInputContent[] = [
      { type: "text", text: mailPrompt(mail) },
      ...files.map((f): AgentInputContent => ({ type: "file", ...f })),
    ];
    const sender: ChannelParticipant = {
      id: `mail:${mail.from.address.toLowerCase()}`,
      name: mail.from.name ?? mail.from.address,
      attributes: { email: mail.from.address },
    };
    const thread = await this.#threadOf(mail);
    const turn: MailTurn = { mail, ...(thread ? { threadId: thread } : {}) };
    const { messageId, turnId } = this.#turns.add(turn);
    const fields = {
      message_id: messageId,
      turn_id: turnId,
      content,
      sender_name: sender.name,
    };
    let data: AgentMessage;
    if (thread) {
      this.#remember(mail.messageId, thread);
      data = agentMessage("turn.start", { ...fields, thread_id: thread });
    } else {
      // A new thread, named after the subject; its id arrives with `thread.started`.
      this.#pendingThreads.set(messageId, turn);
      data = agentMessage("thread.start", { ...fields, name: mail.subject.trim() || "New Mail" });
    }
    try {
      await this.host.route({ data, sender }, this);
    } catch (e) {
      this.#turns.drop(turnId);
      throw new Error(`the agent could not take ${mail.messageId}: ${(e as Error).message}`);
    } finally {
      this.#pendingThreads.delete(messageId);
    }
  }

  async #saveAttachments(
    mail: MailMessage,
  ): Promise<{ url: string; name: string; mime_type: string }[]> {
    if (mail.attachments.length === 0) return [];
    const folder = `.emails/${this.emailAddress}/${await shortHash(mail.messageId)}/attachments`;
    const saved = [];
    for (const attachment of mail.attachments) {
      if (attachment.data.length > MAX_ATTACHMENT_BYTES) {
        this.#log(
          `mail ${this.#address}: ${attachment.name} of ${mail.messageId} is over 25 MiB; not saved`,
        );
        continue;
      }
      const path = `${folder}/${safeFileName(attachment.name)}`;
      await this.#room.storage.upload(path, attachment.data, {
        overwrite: true,
        mimeType: attachment.mimeType,
      });
      saved.push({ url: `room:///${path}`, name: attachment.name, mime_type: attachment.mimeType });
    }
    return saved;
  }

  /** Sends a mail and records its Message-ID with the thread (so replies continue it). */
  async #send(mail: OutgoingMail, threadId: string): Promise<void> {
    await this.#sender!.send(mail);
    this.#remember(mail.messageId, threadId);
  }

  #reply(turn: MailTurn, threadId: string, text: string): void {
    const reply = replyTo(turn.mail, {
      from: this.emailAddress,
      text,
      replyAll: this.#options.replyAll,
    });
    const sending = this.#send(reply, threadId).catch((e) =>
      this.#log(
        `mail ${this.#address}: the reply to ${turn.mail.messageId} (thread ${threadId}) was not sent: ${
          (e as Error).message
        }`,
      )
    );
    this.#sending.add(sending);
    sending.finally(() => this.#sending.delete(sending));
  }

  /**
   * Follows the channel's turns: records a new thread's first mail, and when a turn ends sends
   * its text as the reply.
   *
   * @param message A message the agent emitted.
   * @param _delivery Whom it is for (unused).
   */
  deliver(message: AgentMessage, _delivery: Delivery): void {
    if (message.type === "meshagent.agent.thread.started") {
      const turn = this.#pendingThreads.get(String(message.source_message_id));
      if (!turn) return;
      turn.threadId = String(message.thread_id);
      this.#remember(turn.mail.messageId, turn.threadId);
      return;
    }
    const outcome = this.#turns.observe(message);
    if (!outcome || !this.#sender) return;
    const id = outcome.value.mail.messageId;
    switch (outcome.kind) {
      case "rejected":
        this.#log(
          `mail ${this.#address}: the turn for ${id} was refused: ${outcome.error.message}`,
        );
        return;
      case "approval":
        // Nobody can approve from a mailbox.
        this.host.route({
          data: agentMessage("tool_call.reject", {
            thread_id: outcome.threadId,
            turn_id: outcome.turnId,
            item_id: outcome.itemId,
          }),
          sender: { id: `mail:${outcome.value.mail.from.address}`, attributes: {} },
        }, this).catch(() => {});
        return;
      case "ended":
        if (outcome.error) {
          this.#log(
            `mail ${this.#address}: the turn for ${id} failed, no reply sent: ${outcome.error.message}`,
          );
        } else if (outcome.text === "") {
          this.#log(`mail ${this.#address}: the turn for ${id} had no text; no reply sent`);
        } else this.#reply(outcome.value, outcome.threadId, outcome.text);
        return;
    }
  }

  /**
   * The `mail` toolkit of a turn: `new_email_thread` sends a new mail from the agent, in the
   * turn's thread.
   *
   * @param threadId The thread.
   * @param _turnId The turn.
   * @returns The toolkit.
   */
  override turnToolkits(threadId: string, _turnId: string): Toolkit[] {
    return [
      new Toolkit({
        name: "mail",
        tools: [
          new FunctionTool<{ to: string; subject: string; body: string; attachments: string[] }>({
            name: "new_email_thread",
            description: "starts a new outbound email thread from the current agent thread",
            inputSchema: {
              type: "object",
              additionalProperties: false,
              required: ["to", "subject", "body", "attachments"],
              properties: {
                to: { type: "string" },
                subject: { type: "string" },
                body: { type: "string" },
                attachments: {
                  type: "array",
                  items: { type: "string" },
                  description: "a list of room storage paths to attach",
                },
              },
            },
            run: async (_context, args) => {
              if (!this.#sender) {
                throw new ToolError("the mail channel is stopped", ErrorCode.INVALID_STATE);
              }
              const attachments: MailAttachment[] = [];
              for (const path of args.attachments) {
                try {
                  const file = await this.#room.storage.download(path.replace(/^room:\/+/, ""));
                  attachments.push({ name: file.name, mimeType: file.mimeType, data: file.data });
                } catch (e) {
                  throw new ToolError(
                    `could not read ${path} from the room storage: ${(e as Error).message}`,
                    ErrorCode.NOT_FOUND,
                  );
                }
              }
              const mail: OutgoingMail = {
                from: this.emailAddress,
                to: [args.to],
                subject: args.subject,
                text: args.body,
                messageId: newMessageId(this.emailAddress),
                attachments,
              };
              try {
                await this.#send(mail, threadId);
              } catch (e) {
                throw new ToolError((e as Error).message, ErrorCode.OPERATION_FAILED);
              }
              return { message_id: mail.messageId };
            },
          }),
        ],
      }),
    ];
  }
}
