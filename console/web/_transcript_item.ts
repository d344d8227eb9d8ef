// Browser-only: how one transcript item of a chat looks (the agent chat and the ChatBot chat).
import { html } from "./_html.ts";
import type { TranscriptItem } from "./_transcript.ts";

/**
 * One line of a chat transcript: a message, reasoning, an error, or a tool call with its arguments,
 * result and (when one is asked for) the approval buttons.
 *
 * @param props The item, and what to do when the user approves or rejects a tool call.
 * @returns The list item.
 */
export function Item(props: {
  item: TranscriptItem;
  onDecide?: (item: Extract<TranscriptItem, { kind: "tool" }>, approve: boolean) => void;
}): unknown {
  const item = props.item;
  switch (item.kind) {
    case "user":
      return html`<li class="msg user"><span class="who">you</span> ${item.text}</li>`;
    case "assistant":
      return html`<li class="msg assistant"><span class="who">agent</span> ${item.text}</li>`;
    case "reasoning":
      return html`<li class="msg reasoning"><span class="who">thinking</span> ${item.text}</li>`;
    case "error":
      return html`<li class="msg error" role="alert">${item.text}</li>`;
    case "tool":
      return html`
        <li class="msg tool">
          <details open>
                  <summary>tool call <code>${item.toolkit ? `${item.toolkit}.` : ""}${item
                    .tool}</code>
                    ${item.result === null && item.error === null ? " (running…)" : ""}
                    ${item.approval === "requested" ? " (waiting for approval)" : ""}</summary>
                  <div>arguments: <code class="tool-args">${item.arguments}</code></div>
                  ${item.approval === "requested" && html`
                    <div role="group" aria-label="approval">
                      <button onClick=${() => props.onDecide?.(item, true)}>Approve</button>
                      <button onClick=${() => props.onDecide?.(item, false)}>Reject</button>
                    </div>
                  `}
          ${item.result !== null &&
            html`<div>result: <code class="tool-result">${item.result}</code></div>`}
                  ${item.error !== null && html`<div class="error">error: ${item.error}</div>`}
                </details>
        </li>
      `;
  }
}
