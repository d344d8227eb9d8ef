// Browser-only: the console's one templating helper, htm bound to Preact's `h` (no JSX, so no
// build-time transform beyond bundling).
import { h } from "preact";
import htm from "htm";

/** Tagged template that builds Preact elements: html`<p>${text}</p>`. */
export const html: (strings: TemplateStringsArray, ...values: unknown[]) => unknown =
  // htm's types describe the CommonJS export as a namespace under Deno; it is the bindable function.
  (htm as unknown as { bind(hyper: typeof h): typeof html }).bind(h);

/**
 * What went wrong, as a person reads it.
 *
 * @param e The thrown value.
 * @returns Its message.
 */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
