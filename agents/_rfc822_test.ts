import assert from "node:assert/strict";
import { formatAddress, messageIds, parseAddressList, parseRfc822 } from "./_rfc822.ts";

const multipart = [
  "From: =?utf-8?B?QWRhIEzDtnZlbGFjZQ==?= <ada@example.test>",
  "To: helper@mail.test,",
  ' "Last, First" <first@example.test>',
  "Subject: =?utf-8?Q?Caf=C3=A9_plans?= for",
  "  today",
  "Message-ID: <m1@example.test>",
  "References: <a@x> <b@y>",
  'Content-Type: multipart/mixed; boundary="outer"',
  "",
  "preamble",
  "--outer",
  'Content-Type: multipart/alternative; boundary="inner"',
  "",
  "--inner",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Caf=C3=A9 at ten? This line is long and soft-=",
  "wrapped.",
  "--inner",
  "Content-Type: text/html",
  "",
  "<p>ignored</p>",
  "--inner--",
  "--outer",
  "Content-Type: application/pdf; name=notes.pdf",
  "Content-Disposition: attachment; filename*=utf-8''n%C3%B6tes.pdf",
  "Content-Transfer-Encoding: base64",
  "",
  "JVBERi0x",
  "LjQ=",
  "--outer--",
  "epilogue",
].join("\r\n");

Deno.test("rfc822: headers (folded, encoded words), nested multipart, quoted-printable, base64 attachments", () => {
  const mail = parseRfc822(multipart);
  assert.equal(mail.header("from"), "Ada Lövelace <ada@example.test>");
  assert.equal(mail.header("Subject"), "Café plans for today");
  assert.equal(mail.text, "Café at ten? This line is long and soft-wrapped.");
  assert.equal(mail.contentType, "multipart/mixed");
  assert.equal(mail.attachments.length, 1);
  assert.equal(mail.attachments[0].name, "nötes.pdf");
  assert.equal(mail.attachments[0].mimeType, "application/pdf");
  assert.equal(new TextDecoder().decode(mail.attachments[0].data), "%PDF-1.4");
  assert.deepEqual(parseAddressList(mail.headers("to")), [
    { address: "helper@mail.test" },
    { name: "Last, First", address: "first@example.test" },
  ]);
  assert.deepEqual(messageIds(mail.header("references")), ["<a@x>", "<b@y>"]);
});

Deno.test("rfc822: a plain message, an html-only message, LF line ends, addresses", () => {
  const plain = parseRfc822("Subject: hi\nFrom: bob@x.test\n\nhello\nthere\n");
  assert.equal(plain.text, "hello\nthere");
  assert.equal(plain.header("subject"), "hi");
  const html = parseRfc822(
    "Content-Type: text/html\n\n<html><style>p{}</style><p>Hi &amp; bye</p><br>next</html>",
  );
  assert.equal(html.text, "Hi & bye\n\nnext");
  assert.deepEqual(parseAddressList("x (comment) y, nobody, c@d.test"), [{ address: "c@d.test" }]);
  assert.equal(formatAddress({ name: "Ada, L.", address: "a@x" }), '"Ada, L." <a@x>');
  assert.equal(formatAddress({ name: "Ada", address: "a@x" }), "Ada <a@x>");
  assert.deepEqual(messageIds("a@x, b@y"), ["<a@x>", "<b@y>"]);
});
