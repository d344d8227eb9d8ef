// Browser-only: one room — its connection state, its participants (live) and the tabs.
import { useEffect, useState } from "preact/hooks";
import type { RemoteParticipant, RoomClient } from "@meshagent/api";
import { html, messageOf } from "./_html.ts";
import { ChatView } from "./_chat_view.ts";
import { StorageView } from "./_storage_view.ts";
import { DocumentsView } from "./_documents_view.ts";
import { LogView } from "./_log_view.ts";
import { QueuesView } from "./_queues_view.ts";
import { ToolkitsView } from "./_toolkits_view.ts";

/** The tabs of a room, as data: id, label and view. */
const TABS: readonly { id: string; label: string; view: (room: RoomClient) => unknown }[] = [
  { id: "chat", label: "Chat", view: (room) => html`<${ChatView} room=${room} />` },
  { id: "files", label: "Files", view: (room) => html`<${StorageView} room=${room} />` },
  { id: "documents", label: "Documents", view: (room) => html`<${DocumentsView} room=${room} />` },
  { id: "queues", label: "Queues", view: (room) => html`<${QueuesView} room=${room} />` },
  { id: "toolkits", label: "Toolkits", view: (room) => html`<${ToolkitsView} room=${room} />` },
  { id: "log", label: "Developer log", view: (room) => html`<${LogView} room=${room} />` },
];

function attributesText(p: RemoteParticipant): string {
  return Object.entries(p.attributes).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n");
}

/** The participants of the room, kept current by the room's presence events. */
function Participants(props: { room: RoomClient }): unknown {
  const { room } = props;
  const [people, setPeople] = useState<RemoteParticipant[]>(room.messaging.remoteParticipants);
  const [error, setError] = useState("");
  useEffect(() => {
    const refresh = () => setPeople([...room.messaging.remoteParticipants]);
    const offs = [
      room.on("participantAdded", refresh),
      room.on("participantRemoved", refresh),
      room.on("participantAttributesUpdated", refresh),
      room.on("reconnected", refresh),
    ];
    if (!room.messaging.isEnabled) {
      room.messaging.enable().then(refresh, (e) => setError(messageOf(e)));
    } else refresh();
    return () => offs.forEach((off) => off());
  }, [room]);
  return html`<section class="participants" aria-labelledby="participants-title">
    <h2 id="participants-title">Participants (${people.length})</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <ul aria-live="polite">
      ${
    people.map((p) =>
      html`<li key=${p.id} data-participant=${p.name}>
        <strong>${p.name ?? p.id}</strong> <span class="role">${p.role}</span>
        ${
        p.getAttribute("supports_agent_messages") === true &&
        html`<span class="badge">agent</span>`
      }
        <pre class="attributes">${attributesText(p)}</pre>
      </li>`
    )
  }
    </ul>
    ${people.length === 0 && html`<p>Nobody else is here yet.</p>`}
  </section>`;
}

/** The connection's state: connected, reconnecting or closed. */
function ConnectionState(props: { room: RoomClient }): unknown {
  const { room } = props;
  const [state, setState] = useState("connected");
  useEffect(() => {
    const offs = [
      room.on("disconnected", () => setState("reconnecting…")),
      room.on("reconnected", () => setState("connected")),
      room.on("closed", (e) => setState(`closed${e.error ? `: ${e.error.message}` : ""}`)),
    ];
    return () => offs.forEach((off) => off());
  }, [room]);
  return html`<p class=${`connection ${state.split(/\W/)[0]}`} role="status" aria-live="polite">
    Connection: <span id="connection-state">${state}</span>
  </p>`;
}

/** A room: participants beside the tabbed views. */
export function RoomView(props: { room: RoomClient; name: string }): unknown {
  const [tab, setTab] = useState(TABS[0].id);
  const keyNav = (e: KeyboardEvent) => {
    const at = TABS.findIndex((t) => t.id === tab);
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (step === 0) return;
    const next = TABS[(at + step + TABS.length) % TABS.length];
    setTab(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };
  const current = TABS.find((t) => t.id === tab)!;
  return html`
    <div class="room">
      <aside>
        <${ConnectionState} room=${props.room} />
        <${Participants} room=${props.room} />
      </aside>
      <section class="work">
        <div role="tablist" aria-label="room views" onKeyDown=${keyNav}>
            ${TABS.map((t) =>
              html`
                <button role="tab" id=${`tab-${t.id}`} aria-selected=${t.id === tab}
                  aria-controls=${`panel-${t.id}`} tabindex=${t.id === tab ? 0 : -1}
                  onClick=${() => setTab(t.id)}>${t.label}</button>
              `
            )}
          </div>
        <div role="tabpanel" id=${`panel-${current.id}`} aria-labelledby=${`tab-${current.id}`}>
            ${current.view(props.room)}
          </div>
      </section>
    </div>
  `;
}
