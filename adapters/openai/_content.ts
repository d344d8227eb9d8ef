// What the OpenAI APIs can be shown of an attachment or a tool output part, decided once for both
// adapters.
import type { SessionAttachment, ToolOutputPart } from "@meshagent/agents";

/** An attachment or output part as the OpenAI APIs take it. */
export type OpenAIPart =
  | { kind: "text"; text: string }
  | { kind: "image"; url: string }
  | { kind: "file"; name: string; dataUrl: string };

const TEXT_MIME =
  /^(text\/|application\/(json|xml|javascript|x-yaml|yaml|toml|csv)\b)|\+(json|xml)$/;
const decoder = new TextDecoder("utf-8", { fatal: false });

function decodeBase64(data: string): string {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return decoder.decode(bytes);
}

function guessMime(name: string | undefined, url: string): string | undefined {
  const match = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(name ?? url);
  if (!match) return undefined;
  return ({
    png: "image/png",
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    gif: "image/gif",
    webp: "image/webp",
    pdf: "application/pdf",
    txt: "text/plain",
    md: "text/markdown",
    csv: "text/csv",
    json: "application/json",
    html: "text/html",
  } as Record<string, string>)[match[1].toLowerCase()];
}

/**
 * An attachment of a user message. With its bytes: images inline (data URL), PDFs as files, text
 * decoded; [impl] other types, and attachments without bytes, become a line of text naming them,
 * so the model knows they exist without the request failing on a type it cannot read.
 *
 * @param attachment The attachment.
 * @returns The part.
 */
export function attachmentPart(attachment: SessionAttachment): OpenAIPart {
  const name = attachment.name ?? attachment.url.split("/").pop() ?? "attachment";
  const mime = attachment.mimeType ?? guessMime(attachment.name, attachment.url) ?? "";
  if (attachment.data === undefined) {
    return { kind: "text", text: `[attached: ${name} (${attachment.url})]` };
  }
  if (mime.startsWith("image/")) {
    return { kind: "image", url: `data:${mime};base64,${attachment.data}` };
  }
  if (mime === "application/pdf") {
    return { kind: "file", name, dataUrl: `data:${mime};base64,${attachment.data}` };
  }
  if (TEXT_MIME.test(mime)) {
    return { kind: "text", text: `${name}:\n${decodeBase64(attachment.data)}` };
  }
  return {
    kind: "text",
    text: `[attached: ${name} (${mime || "unknown type"}), not a format the model can read]`,
  };
}

/**
 * A part of a tool result: images inline, PDFs as files, [impl] other files as a line of text (as
 * the official Responses adapter: "was not in a supported format").
 *
 * @param part The part.
 * @returns The part.
 */
export function outputPart(part: ToolOutputPart): OpenAIPart {
  if (part.type === "text") return { kind: "text", text: part.text };
  if (part.type === "image") {
    return { kind: "image", url: `data:${part.mimeType};base64,${part.data}` };
  }
  if (part.mimeType === "application/pdf") {
    return { kind: "file", name: part.name, dataUrl: `data:${part.mimeType};base64,${part.data}` };
  }
  return { kind: "text", text: `${part.name} was not in a supported format (${part.mimeType})` };
}

/**
 * The text of parts, images and files as placeholders (for APIs that take text only).
 *
 * @param parts The parts.
 * @returns The text.
 */
export function partsText(parts: readonly OpenAIPart[]): string {
  return parts.map((part) =>
    part.kind === "text" ? part.text : part.kind === "image" ? "[image]" : `[file ${part.name}]`
  ).join("\n");
}
