// Browser-only: the room's queues — names and sizes (refreshed), send a JSON message, take one.
import { useEffect, useState } from "preact/hooks";
import type { JsonObject, QueueInfo, RoomClient } from "@meshagent/api";
import { html, messageOf } from "./_html.ts";

/** [impl] How often the sizes refresh. */
const REFRESH_MS = 2000;

/** The queues tab. */
export function QueuesView(props: { room: RoomClient }): unknown {
  const { room } = props;
  const [queues, setQueues] = useState<QueueInfo[] | null>(null);
  const [name, setName] = useState("");
  const [message, setMessage] = useState("{}");
  const [taken, setTaken] = useState("");
  const [error, setError] = useState("");
  const load = () =>
    room.queues.list().then(
      (q) => setQueues(q.sort((a, b) => a.name.localeCompare(b.name))),
      (e) => setError(messageOf(e)),
    );
  useEffect(() => {
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, [room]);
  const send = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const json = JSON.parse(message) as JsonObject;
      await room.queues.send(name.trim(), json, { create: true });
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const take = async (queue: string) => {
    try {
      const m = await room.queues.receive(queue, { wait: false, create: false });
      setTaken(m === null ? `${queue} is empty` : `${queue}: ${JSON.stringify(m)}`);
      await load();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return html`<section aria-labelledby="queues-title">
    <h2 id="queues-title">Queues</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
    queues === null
      ? html`<p>Loading…</p>`
      : queues.length === 0
      ? html`<p>No queues yet.</p>`
      : html`
        <table>
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col">Messages</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>${queues.map((q) =>
            html`
              <tr key=${q.name}>
                <td>${q.name}</td>
                <td>${q.size}</td>
                <td><button onClick=${() => take(q.name)}>Take one</button></td>
              </tr>
            `
          )}</tbody>
        </table>
      `
  }
    ${taken && html`<p role="status"><code>${taken}</code></p>`}
    <form class="inline" onSubmit=${send}>
      <label for="queue-name">Queue</label>
      <input id="queue-name" required value=${name}
        onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
      <label for="queue-message">Message (JSON)</label>
      <input id="queue-message" value=${message}
        onInput=${(e: Event) => setMessage((e.target as HTMLInputElement).value)} />
      <button type="submit">Send</button>
    </form>
  </section>`;
}
