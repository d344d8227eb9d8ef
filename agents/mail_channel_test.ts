// Mail as an agent's input, on a real room server, with replies received by a local SMTP server.
import assert from "node:assert/strict";
import type { RoomClient } from "@meshagent/api";
import { startTestServer, type TestServer } from "@meshagent/server/testing";
import {
  AgentSupervisor,
  MailChannel,
  type MailChannelOptions,
  MemoryThreadStorageRepository,
  ScriptedLLMAdapter,
  type ScriptedModel,
} from "./mod.ts";
import { parseRfc822 } from "./_rfc822.ts";
import { collectingLog, eventually } from "./testdata/eventually.ts";
import { startSmtpSink } from "./testdata/smtp_sink.ts";

/**
 * Counts the mails of the thread and quotes the latest subject and body; asked to introduce
 * someone, it writes to them with new_email_thread first.
 */
const model: ScriptedModel = (context, { number }) => {
  const mails = context.items.filter((i) => i.kind === "user").map((i) =>
    (i as { text: string }).text
  );
  const latest = mails.at(-1) ?? "";
  if (latest.endsWith("introduce me to carol") && number === 1) {
    return {
      toolCalls: [{
        toolkit: "mail",
        tool: "new_email_thread",
        arguments: {
          to: "carol@example.test",
          subject: "Meet Ada",
          body: "Ada would like to meet you.",
          attachments: ["docs/ada.txt"],
        },
      }],
    };
  }
  const subject = /^Subject: (.*)$/m.exec(latest)?.[1] ?? "";
  const body = latest.split("\n\n").slice(1).join(" ");
  return { text: `Got ${mails.length} mail(s) about "${subject}": ${body}` };
};

const ADDRESS = "helper@mail.test";

interface Rig {
  agentRoom: RoomClient;
  producer: RoomClient;
  repo: MemoryThreadStorageRepository;
  log: string[];
  send(item: unknown): Promise<void>;
  close(): Promise<void>;
}

async function start(
  server: TestServer,
  room: string,
  options: Partial<MailChannelOptions>,
): Promise<Rig> {
  const agentRoom = await server.connect(room, "helper");
  const producer = await server.connect(room, "mailbox");
  const repo = new MemoryThreadStorageRepository(".threads/helper");
  const { lines, log } = collectingLog();
  const supervisor = new AgentSupervisor({
    agentName: "helper",
    room: agentRoom,
    adapters: new ScriptedLLMAdapter(model),
    threadStorage: repo,
  });
  await supervisor.start([
    new MailChannel({ room: agentRoom, emailAddress: ADDRESS, log, ...options }),
  ]);
  return {
    agentRoom,
    producer,
    repo,
    log: lines,
    send: (item) => producer.queues.send(ADDRESS, item as Record<string, never>),
    async close() {
      await supervisor.stop();
      await producer.dispose();
      await agentRoom.dispose();
    },
  };
}

function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

Deno.test("mail agent: a mail gets an SMTP reply with the right headers; a reply to the reply continues the thread", async () => {
  const sink = await startSmtpSink();
  const server = await startTestServer();
  const rig = await start(server, "mail", { smtp: { host: "127.0.0.1", port: sink.port } });
  try {
    await rig.send({
      from: "Ada Lovelace <ada@example.test>",
      to: ADDRESS,
      cc: ["bob@example.test"],
      subject: "Hello",
      text: "Can you help?",
      message_id: "<m1@example.test>",
    });
    const [first] = await sink.waitFor(1);
    assert.equal(first.from, ADDRESS);
    assert.deepEqual(first.to, ["ada@example.test"]);
    const reply = parseRfc822(first.raw);
    assert.equal(reply.header("from"), ADDRESS);
    assert.equal(reply.header("to"), "Ada Lovelace <ada@example.test>");
    assert.equal(reply.header("cc"), undefined, "no reply-all by default");
    assert.equal(reply.header("subject"), "RE: Hello");
    assert.equal(reply.header("in-reply-to"), "<m1@example.test>");
    assert.equal(reply.header("references"), "<m1@example.test>");
    const replyId = reply.header("message-id")!;
    assert.match(replyId, /^<[0-9a-f-]{36}@mail\.test>$/);
    assert.equal(reply.text, 'Got 1 mail(s) about "Hello": Can you help?');

    // Ada answers the reply: a raw message (as the platform queues it), with an attachment
    const raw = [
      "From: Ada Lovelace <ada@example.test>",
      `To: ${ADDRESS}`,
      "Subject: RE: Hello",
      "Message-ID: <m2@example.test>",
      `In-Reply-To: ${replyId}`,
      `References: <m1@example.test> ${replyId}`,
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Thanks, more please",
      "--b",
      "Content-Type: text/plain; name=notes.txt",
      "Content-Disposition: attachment; filename=notes.txt",
      "Content-Transfer-Encoding: base64",
      "",
      base64("my notes"),
      "--b--",
      "",
    ].join("\r\n");
    await rig.send({ base64: base64(raw) });
    const mails = await sink.waitFor(2);
    const second = parseRfc822(mails[1].raw);
    assert.equal(second.header("subject"), "RE: Hello");
    assert.equal(second.header("in-reply-to"), "<m2@example.test>");
    assert.equal(
      second.header("references"),
      `<m1@example.test> ${replyId} <m2@example.test>`,
    );
    assert.equal(second.text, 'Got 2 mail(s) about "RE: Hello": Thanks, more please');

    // one thread, named after the first subject, holding both mails and the attachment
    const { threads } = await rig.repo.list();
    assert.deepEqual(threads.map((t) => t.name), ["Hello"]);
    const stored = await (await rig.repo.open(threads[0].path)).messages();
    const starts = stored.filter((m) => m.type === "meshagent.agent.turn.start");
    assert.equal(starts.length, 2);
    assert.equal(starts[0].sender_name, "Ada Lovelace");
    const file = (starts[1].content as { type: string; url?: string }[]).find((c) =>
      c.type === "file"
    );
    assert.match(String(file?.url), /^room:\/\/\/\.emails\/helper@mail\.test\/.+\/notes\.txt$/);
    const saved = await rig.producer.storage.download(String(file!.url).slice("room:///".length));
    assert.equal(new TextDecoder().decode(saved.data), "my notes");
    assert.equal(rig.log.length, 0, rig.log.join("\n"));
  } finally {
    await rig.close();
    await server.close();
    await sink.close();
  }
});

Deno.test("mail agent: reply-all, mail that must not be answered, malformed items", async () => {
  const sink = await startSmtpSink();
  const server = await startTestServer();
  const rig = await start(server, "rules", {
    smtp: { host: "127.0.0.1", port: sink.port },
    replyAll: true,
  });
  try {
    const mail = (fields: Record<string, unknown>) => ({
      from: "ada@example.test",
      to: ADDRESS,
      subject: "s",
      text: "t",
      ...fields,
    });
    await rig.send(mail({ from: "MAILER-DAEMON@example.test", subject: "Undelivered Mail" }));
    await rig.send(mail({ auto_submitted: "auto-replied" }));
    await rig.send(mail({ precedence: "bulk" }));
    await rig.send(mail({ to: "someone@example.test" }));
    await rig.send(mail({ from: ADDRESS }));
    await rig.send({ to: ADDRESS, subject: "no sender" });
    await rig.send({ base64: "@@@ not base64 @@@" });
    await rig.send(mail({
      to: [ADDRESS, "Carol <carol@example.test>"],
      cc: "bob@example.test, ada@example.test",
      subject: "Team",
      message_id: "team@example.test",
    }));
    const [only] = await sink.waitFor(1);
    const reply = parseRfc822(only.raw);
    assert.equal(reply.header("subject"), "RE: Team");
    assert.equal(reply.header("to"), "ada@example.test");
    assert.equal(reply.header("cc"), "Carol <carol@example.test>, bob@example.test");
    assert.equal(reply.header("in-reply-to"), "<team@example.test>");
    assert.deepEqual(only.to.sort(), [
      "ada@example.test",
      "bob@example.test",
      "carol@example.test",
    ]);
    await eventually(() => rig.log.length >= 7, "seven log lines");
    const log = rig.log.join("\n");
    for (
      const why of [
        /MAILER-DAEMON@example.test \(a bounce\)|subject looks like a bounce/,
        /Auto-Submitted is auto-replied/,
        /Precedence is bulk/,
        /not addressed to helper@mail.test/,
        /it is from this mailbox/,
        /skipped an item: the mail item has no `from` address/,
        /skipped an item: the mail item's base64 is not base64/,
      ]
    ) assert.match(log, why);
    assert.equal(sink.received.length, 1);
    assert.equal((await rig.repo.list()).total, 1);
  } finally {
    await rig.close();
    await server.close();
    await sink.close();
  }
});

Deno.test("mail agent: with the SMTP server down the turn is still stored and the failure logged", async () => {
  const sink = await startSmtpSink();
  const port = sink.port;
  await sink.close();
  const server = await startTestServer();
  const rig = await start(server, "down", {
    smtp: { host: "127.0.0.1", port, connectionTimeoutMs: 2000 },
  });
  try {
    await rig.send({ from: "ada@example.test", subject: "Anyone?", text: "hello" });
    await eventually(() => rig.log.length >= 1, "the failure in the log");
    assert.match(
      rig.log[0],
      new RegExp(
        `the reply to <.+> \\(thread .+\\) was not sent: SMTP 127.0.0.1:${port}: .*ECONNREFUSED`,
      ),
    );
    const { threads } = await rig.repo.list();
    const stored = await (await rig.repo.open(threads[0].path)).messages();
    assert.ok(stored.some((m) => m.type === "meshagent.agent.turn.ended" && !m.error));
    // the channel goes on: the next mail is taken too (and fails the same way)
    await rig.send({ from: "bob@example.test", subject: "Me too", text: "hi" });
    await eventually(() => rig.log.length >= 2, "the second failure");
  } finally {
    await rig.close();
    await server.close();
  }
});

Deno.test("mail agent: new_email_thread sends a new mail from the agent; the answer to it continues the thread", async () => {
  const sink = await startSmtpSink();
  const server = await startTestServer();
  const rig = await start(server, "new", { smtp: { host: "127.0.0.1", port: sink.port } });
  try {
    await rig.producer.storage.upload("docs/ada.txt", new TextEncoder().encode("about ada"));
    await rig.send({
      from: "ada@example.test",
      subject: "Intro",
      text: "please introduce me to carol",
      message_id: "<i1@example.test>",
    });
    const mails = await sink.waitFor(2);
    const intro = mails.find((m) => m.to[0] === "carol@example.test")!;
    const parsed = parseRfc822(intro.raw);
    assert.equal(parsed.header("from"), ADDRESS);
    assert.equal(parsed.header("subject"), "Meet Ada");
    assert.equal(parsed.header("in-reply-to"), undefined);
    assert.equal(parsed.text, "Ada would like to meet you.");
    assert.equal(parsed.attachments[0].name, "ada.txt");
    assert.equal(new TextDecoder().decode(parsed.attachments[0].data), "about ada");
    // Carol answers the agent's mail: same thread
    await rig.send({
      from: "carol@example.test",
      to: ADDRESS,
      subject: "RE: Meet Ada",
      text: "Happy to!",
      in_reply_to: parsed.header("message-id"),
    });
    const all = await sink.waitFor(3);
    const answer = parseRfc822(all[2].raw);
    assert.deepEqual(all[2].to, ["carol@example.test"]);
    assert.equal(answer.text, 'Got 2 mail(s) about "RE: Meet Ada": Happy to!');
    assert.equal((await rig.repo.list()).total, 1);
  } finally {
    await rig.close();
    await server.close();
    await sink.close();
  }
});
