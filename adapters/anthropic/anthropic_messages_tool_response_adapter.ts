import { type Content, type JsonObject, LinkContent } from "@meshagent/api";
import { type ToolOutputPart, ToolResponseAdapter } from "@meshagent/agents";
import { fileBlock, textBlocks } from "./_messages.ts";

/**
 * How tool results are shown to an Anthropic model (the official
 * `AnthropicMessagesToolResponseAdapter`): the shared {@linkcode ToolResponseAdapter} turns a
 * result into provider-neutral parts (text cut to the official limits, images and files inline),
 * and {@linkcode toolResultContent} turns those parts into the content of a `tool_result` block —
 * `text` blocks, `image` blocks (base64; JPEG, PNG, GIF and WebP, the types the API accepts)
 * and `document` blocks for PDFs; other files are named in text. Links are shown as
 * `{"name", "url"}` JSON, as the official adapter does. Subclass it to show results differently.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FileContent, LinkContent } from "@meshagent/api";
 * import { AnthropicMessagesToolResponseAdapter } from "@meshagent/adapters/anthropic";
 * const adapter = new AnthropicMessagesToolResponseAdapter();
 * const png = new FileContent(new Uint8Array([1, 2]), "a.png", "image/png");
 * assert.deepEqual(adapter.toolResultContent(adapter.toParts(png)), [
 *   { type: "image", source: { type: "base64", media_type: "image/png", data: "AQI=" } },
 * ]);
 * assert.equal(
 *   adapter.toPlainText(new LinkContent("docs", "https://example.com")),
 *   '{"name":"docs","url":"https://example.com"}',
 * );
 * ```
 */
export class AnthropicMessagesToolResponseAdapter extends ToolResponseAdapter {
  /**
   * The result as text; links as `{"name", "url"}` JSON.
   *
   * @param content What the tool returned.
   * @returns The text the model is shown.
   */
  override toPlainText(content: Content): string {
    if (content instanceof LinkContent) {
      return JSON.stringify({ name: content.name, url: content.url });
    }
    return super.toPlainText(content);
  }

  /**
   * The content of a `tool_result` block for a result's parts.
   *
   * @param parts The parts (from {@linkcode ToolResponseAdapter.toParts}, or restored from a
   * thread).
   * @returns The blocks: `text`, `image` and `document`; empty text is left out.
   */
  toolResultContent(parts: readonly ToolOutputPart[]): JsonObject[] {
    return parts.flatMap((part): JsonObject[] => {
      if (part.type === "text") return textBlocks(part.text) as JsonObject[];
      const name = part.type === "file" ? part.name : "image";
      const block = fileBlock(
        part.mimeType,
        part.data,
        part.type === "file" ? part.name : undefined,
      );
      if (block) return [block as JsonObject];
      return textBlocks(
        part.type === "image"
          ? `${name} was returned as ${part.mimeType}, which Anthropic does not accept as an image`
          : `[file ${name} (${part.mimeType})]`,
      ) as JsonObject[];
    });
  }
}
