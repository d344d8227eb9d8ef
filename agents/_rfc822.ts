// Private: just enough RFC 5322 / MIME reading for inbound mail — headers (folded, RFC 2047
// encoded words), multipart bodies, base64 and quoted-printable parts, the first text part as the
// body, parts with a file name as attachments — and address lists.

/** A mail message, read. */
export interface ParsedMail {
  /** The decoded value of a header (the first one), by lower-case name. */
  header(name: string): string | undefined;
  /** Every value of a header, by lower-case name. */
  headers(name: string): string[];
  /** The body text (the first text/plain part, else the text of the first text/html part). */
  text: string;
  /** The attachments. */
  attachments: { name: string; mimeType: string; data: Uint8Array }[];
  /** The top-level content type (`multipart/mixed`, `text/plain`…). */
  contentType: string;
}

/** One address of an address list. */
export interface MailAddress {
  /** The display name, if any. */
  name?: string;
  /** The address (`ada@example.com`). */
  address: string;
}

type Headers = [string, string][];

/** Bytes as a string of char codes 0–255 (so that slicing keeps bytes). */
function binary(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return out;
}

function bytesOf(binaryText: string): Uint8Array {
  const out = new Uint8Array(binaryText.length);
  for (let i = 0; i < binaryText.length; i++) out[i] = binaryText.charCodeAt(i) & 0xff;
  return out;
}

function decodeText(bytes: Uint8Array, charset = "utf-8"): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

function base64Bytes(text: string): Uint8Array {
  try {
    return bytesOf(atob(text.replace(/[^A-Za-z0-9+/=]/g, "")));
  } catch {
    return new Uint8Array();
  }
}

function quotedPrintable(text: string, header = false): string {
  const source = header ? text.replace(/_/g, " ") : text.replace(/=\r?\n/g, "");
  return source.replace(
    /=([0-9A-Fa-f]{2})/g,
    (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
  );
}

/** RFC 2047 encoded words (`=?utf-8?B?…?=`); raw 8-bit header bytes are read as UTF-8. */
function decodeHeader(raw: string): string {
  const joined = raw.replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1");
  const words = /=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g;
  let out = "";
  let last = 0;
  for (const match of joined.matchAll(words)) {
    out += decodeText(bytesOf(joined.slice(last, match.index)));
    const [, charset, encoding, data] = match;
    const bytes = encoding.toUpperCase() === "B"
      ? base64Bytes(data)
      : bytesOf(quotedPrintable(data, true));
    out += decodeText(bytes, charset);
    last = match.index + match[0].length;
  }
  return out + decodeText(bytesOf(joined.slice(last)));
}

function splitHead(text: string): { head: string; body: string } {
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { head: text, body: "" };
  return { head: text.slice(0, match.index), body: text.slice(match.index + match[0].length) };
}

function parseHeaders(head: string): Headers {
  const headers: Headers = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1][1] += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

function first(headers: Headers, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

/** `type/subtype; a=b; c="d"` → the lower-case value and its parameters. */
function parameterized(value: string | undefined): { value: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (!value) return { value: "", params };
  const parts = value.match(/(?:[^;"]+|"(?:[^"\\]|\\.)*")+/g) ?? [];
  for (const part of parts.slice(1)) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    if (key.endsWith("*")) {
      // RFC 2231: charset'language'percent-encoded
      const [, charset = "utf-8", encoded = v] = /^([^']*)'[^']*'(.*)$/.exec(v) ?? [];
      const bytes = encoded.replace(
        /%([0-9A-Fa-f]{2})/g,
        (_, hex: string) => String.fromCharCode(parseInt(hex, 16)),
      );
      // Kept as UTF-8 bytes, like every other raw value here (decodeHeader reads them back).
      v = binary(new TextEncoder().encode(decodeText(bytesOf(bytes), charset || "utf-8")));
      params.set(key.slice(0, -1), v);
    } else params.set(key, v);
  }
  return { value: (parts[0] ?? "").trim().toLowerCase(), params };
}

function transferDecode(body: string, encoding: string | undefined): Uint8Array {
  switch (encoding?.trim().toLowerCase()) {
    case "base64":
      return base64Bytes(body);
    case "quoted-printable":
      return bytesOf(quotedPrintable(body));
    default:
      return bytesOf(body);
  }
}

function htmlText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, "")
    .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

interface Walk {
  plain?: string;
  html?: string;
  attachments: ParsedMail["attachments"];
}

const MAX_DEPTH = 8;

function walk(part: string, into: Walk, depth: number): void {
  const { head, body } = splitHead(part);
  const headers = parseHeaders(head);
  const type = parameterized(first(headers, "content-type") ?? "text/plain");
  const disposition = parameterized(first(headers, "content-disposition"));
  const name = disposition.params.get("filename") ?? type.params.get("name");
  if (type.value.startsWith("multipart/") && depth < MAX_DEPTH) {
    const boundary = type.params.get("boundary");
    if (!boundary) return;
    const marker = `--${boundary}`;
    const sections = body.split(
      new RegExp(`^${marker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"),
    );
    for (const section of sections.slice(1)) {
      if (section.startsWith("--")) break; // the closing delimiter
      walk(section.replace(/^[ \t]*\r?\n/, ""), into, depth + 1);
    }
    return;
  }
  const data = transferDecode(body, first(headers, "content-transfer-encoding"));
  // A part with a file name (or marked as one) is an attachment; the others are the body.
  if (disposition.value === "attachment" || name !== undefined) {
    into.attachments.push({
      name: decodeHeader(name ?? "attachment.bin"),
      mimeType: type.value || "application/octet-stream",
      data,
    });
    return;
  }
  const charset = type.params.get("charset") ?? "utf-8";
  if (type.value === "text/plain" || type.value === "") {
    into.plain ??= decodeText(data, charset).replace(/\r\n/g, "\n");
  } else if (type.value === "text/html") {
    into.html ??= decodeText(data, charset);
  }
}

/**
 * Reads a raw message (RFC 5322, with MIME parts).
 *
 * @param raw The message as text or bytes.
 */
export function parseRfc822(raw: string | Uint8Array): ParsedMail {
  const text = typeof raw === "string" ? binary(new TextEncoder().encode(raw)) : binary(raw);
  const { head } = splitHead(text);
  const headers = parseHeaders(head);
  const into: Walk = { attachments: [] };
  walk(text, into, 0);
  const decoded = new Map<string, string[]>();
  for (const [name, value] of headers) {
    decoded.set(name, [...(decoded.get(name) ?? []), decodeHeader(value)]);
  }
  return {
    header: (name) => decoded.get(name.toLowerCase())?.[0],
    headers: (name) => decoded.get(name.toLowerCase()) ?? [],
    text: (into.plain ?? (into.html !== undefined ? htmlText(into.html) : "")).trim(),
    attachments: into.attachments,
    contentType: parameterized(first(headers, "content-type") ?? "text/plain").value,
  };
}

/**
 * Reads an address list (`Ada <ada@x.test>, "Last, First" <f@y.test>, bob@z.test`).
 *
 * @param value A header value, or several.
 */
export function parseAddressList(value: string | readonly string[] | undefined): MailAddress[] {
  if (value === undefined) return [];
  const text = typeof value === "string" ? value : value.join(", ");
  const out: MailAddress[] = [];
  for (const entry of text.match(/(?:[^,"<]+|"(?:[^"\\]|\\.)*"|<[^>]*>)+/g) ?? []) {
    const angle = /<([^>]*)>/.exec(entry);
    const address = (angle ? angle[1] : entry.replace(/\([^)]*\)/g, "")).trim();
    if (!address.includes("@")) continue;
    const name = angle
      ? entry.replace(angle[0], "").trim().replace(/^"(.*)"$/, "$1").replace(/\\(.)/g, "$1")
      : "";
    out.push(name ? { name, address } : { address });
  }
  return out;
}

/** An address as a header shows it (`"Ada L." <ada@x.test>` or `ada@x.test`). */
export function formatAddress(address: MailAddress): string {
  if (!address.name) return address.address;
  const name = /[",<>@()]/.test(address.name)
    ? `"${address.name.replace(/["\\]/g, "\\$&")}"`
    : address.name;
  return `${name} <${address.address}>`;
}

/** Message ids in a header value (`<a@b> <c@d>`), each in angle brackets. */
export function messageIds(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const text = typeof value === "string" ? value : value.join(" ");
  const bracketed = text.match(/<[^<>\s]+>/g);
  if (bracketed) return bracketed;
  return text.split(/[\s,]+/).filter((id) => id !== "").map((id) => `<${id}>`);
}
