// Browser-only: the room's developer log stream (room.developer.logs), newest last.
import { useEffect, useState } from "preact/hooks";
import type { RoomClient, RoomLogEvent } from "@meshagent/api";
import { html, messageOf } from "./_html.ts";

/** [impl] Lines kept on screen. */
const KEEP = 500;

/** The developer log, followed while the tab is open. */
export function LogView(props: { room: RoomClient }): unknown {
  const [lines, setLines] = useState<(RoomLogEvent & { at: string })[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    const stop = new AbortController();
    (async () => {
      for await (const event of props.room.developer.logs({ signal: stop.signal })) {
        const at = new Date().toLocaleTimeString();
        setLines((old) => [...old.slice(-(KEEP - 1)), { ...event, at }]);
      }
    })().catch((e) => !stop.signal.aborted && setError(messageOf(e)));
    return () => stop.abort();
  }, [props.room]);
  return html`<section aria-labelledby="log-title">
    <h2 id="log-title">Developer log</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${lines.length === 0 && html`<p>Waiting for log events…</p>`}
    <ol class="log" aria-live="polite">${
    lines.map((l, i) =>
      html`
        <li
          key=${i}><time>${l.at}</time> <strong>${l.type}</strong> <code>${JSON.stringify(
            l.data,
          )}</code></li>
      `
    )
  }</ol>
  </section>`;
}
