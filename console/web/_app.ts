// Browser-only: the console's top level — log in, pick a room, use it.
import { useEffect, useState } from "preact/hooks";
import type { RoomClient } from "@meshagent/api";
import { html, messageOf } from "./_html.ts";
import { type ConsoleRoom, ConsoleSession } from "./_session.ts";
import { RoomView } from "./_room_view.ts";

const KEY_STORE = "meshagent-console-credential";

/** The login form: an API key or a participant token. */
function Login(props: { onLogin: (session: ConsoleSession) => void }): unknown {
  const [value, setValue] = useState(sessionStorage.getItem(KEY_STORE) ?? "");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const session = await ConsoleSession.login(location.origin, value);
      sessionStorage.setItem(KEY_STORE, value.trim());
      props.onLogin(session);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="login" onSubmit=${submit} aria-labelledby="login-title">
    <h1 id="login-title">MeshAgent console</h1>
    <label for="credential">API key (ma-…) or participant token</label>
    <textarea id="credential" name="credential" rows="4" required spellcheck="false"
      value=${value} onInput=${(e: Event) => setValue((e.target as HTMLTextAreaElement).value)}
      placeholder="ma-… as meshagent server printed it (MESHAGENT_API_KEY)"></textarea>
    <button type="submit" disabled=${busy}>${busy ? "Logging in…" : "Log in"}</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

/** The rooms list, refreshed every 2 s [impl], with a form to open any room by name. */
function Rooms(props: { session: ConsoleSession; onOpen: (room: string) => void }): unknown {
  const [rooms, setRooms] = useState<ConsoleRoom[] | null>(null);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  useEffect(() => {
    let stopped = false;
    const load = () =>
      props.session.rooms().then((r) => {
        if (!stopped) (setRooms(r), setError(""));
      }, (e) => !stopped && setError(messageOf(e)));
    load();
    const timer = setInterval(load, 2000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [props.session]);
  return html`<section aria-labelledby="rooms-title" class="rooms">
    <h2 id="rooms-title">Rooms</h2>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
    rooms === null
      ? html`<p>Loading…</p>`
      : rooms.length === 0
      ? html`<p>No rooms yet. Open one by name below: it starts on first connection.</p>`
      : html`
        <table class="rooms-table">
          <thead>
            <tr>
              <th scope="col">Room</th>
              <th scope="col">State</th>
              <th scope="col">Participants</th>
            </tr>
          </thead>
          <tbody>${rooms.map((r) =>
            html`
              <tr key=${r.name}>
                <td><button class="link" onClick=${() => props.onOpen(r.name)}>${r
                  .name}</button></td>
                <td>${r.active ? "running" : "idle"}</td>
                <td data-room-participants=${r.name}>${r.participants ?? "–"}</td>
              </tr>
            `
          )}</tbody>
        </table>
      `
  }
    ${
    props.session.tokenRoom === null && html`
      <form class="inline" onSubmit=${(e: Event) => {
        e.preventDefault();
        if (name.trim()) props.onOpen(name.trim());
      }}>
        <label for="room-name">Open room</label>
        <input id="room-name" value=${name} required pattern="[A-Za-z0-9._\\-]+"
          onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
        <button type="submit">Open</button>
      </form>
    `
  }
  </section>`;
}

/** The whole console. */
export function App(): unknown {
  const [session, setSession] = useState<ConsoleSession | null>(null);
  const [room, setRoom] = useState<{ name: string; client: RoomClient } | null>(null);
  const [error, setError] = useState("");
  const [joining, setJoining] = useState("");
  const open = async (name: string) => {
    setError("");
    setJoining(name);
    try {
      const client = await session!.connect(name);
      setRoom({ name, client });
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setJoining("");
    }
  };
  const leave = async () => {
    const current = room;
    setRoom(null);
    await current?.client.dispose();
  };
  const logout = async () => {
    await leave();
    sessionStorage.removeItem(KEY_STORE);
    setSession(null);
  };
  useEffect(() => {
    if (session?.tokenRoom && !room) open(session.tokenRoom);
  }, [session]);
  if (!session) {
    return html`
      <main>
        <${Login} onLogin=${setSession} />
      </main>
    `;
  }
  return html`
    <header class="top">
          <strong>MeshAgent console</strong>
          ${room && html`<span aria-label="current room">room ${room.name}</span>`}
          <nav aria-label="console">
            ${room && session.tokenRoom === null &&
              html`<button onClick=${leave}>All rooms</button>`}
            <button onClick=${logout}>Log out</button>
          </nav>
        </header>
    <main>
          ${joining && html`<p role="status">Joining ${joining}…</p>`}
          ${error && html`<p class="error" role="alert">${error}</p>`}
          ${room
            ? html`<${RoomView} key=${room.name} room=${room.client} name=${room.name} />`
            : html`<${Rooms} session=${session} onOpen=${open} />`}
        </main>
  `;
}
