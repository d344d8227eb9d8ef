// Browser-only: a document from the room's sync service as a live tree — edits by anyone appear
// as they are made.
import { useEffect, useState } from "preact/hooks";
import type { Element, MeshDocument, RoomClient } from "@meshagent/api";
import { html, messageOf } from "./_html.ts";
import { listDocuments } from "./_document_list.ts";

function Node(props: { element: Element }): unknown {
  const el = props.element;
  if (el.isText) return html`<li role="treeitem" class="text-node">"${el.text}"</li>`;
  const attributes = Object.entries(el.attributes).filter(([k]) => k !== "$id");
  return html`<li role="treeitem" aria-expanded="true">
    <code class="tag">${`<${el.tagName}>`}</code>
    ${
    attributes.map(([k, v]) =>
      html`
        <span
          class="attr"><span class="attr-name">${k}</span>=<span class="attr-value">${JSON
            .stringify(v)}</span></span>
      `
    )
  }
    ${
    el.children.length > 0 && html`<ul role="group">
      ${el.children.map((c, i) => html`<${Node} key=${c.id ?? i} element=${c} />`)}
    </ul>`
  }
  </li>`;
}

/** One open document, redrawn on every change. */
function DocumentTree(props: { room: RoomClient; path: string }): unknown {
  const { room, path } = props;
  const [doc, setDoc] = useState<MeshDocument | null>(null);
  const [, setVersion] = useState(0);
  const [error, setError] = useState("");
  useEffect(() => {
    let off = () => {};
    let stopped = false;
    room.sync.open(path, { create: false }).then((d) => {
      if (stopped) return room.sync.close(path).catch(() => {});
      off = d.on("changed", () => setVersion((v) => v + 1));
      setDoc(d);
    }, (e) => setError(messageOf(e)));
    return () => {
      stopped = true;
      off();
      room.sync.close(path).catch(() => {});
    };
  }, [room, path]);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!doc) return html`<p role="status">Opening ${path}…</p>`;
  return html`
    <ul role="tree" class="doc-tree" aria-label=${`document ${path}`} aria-live="polite">
      <${Node} element=${doc.root} />
    </ul>
  `;
}

/** The room's documents as a list to pick from (Refresh walks storage again). */
function DocumentList(props: { room: RoomClient; open: string; onOpen: (path: string) => void }) {
  const [paths, setPaths] = useState<string[] | null>(null);
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState("");
  const load = () => {
    setError("");
    listDocuments(props.room).then((l) => {
      setPaths(l.paths);
      setTruncated(l.truncated);
    }, (e) => setError(messageOf(e)));
  };
  useEffect(load, [props.room]);
  return html`<nav class="doc-list" aria-label="documents in this room">
    <button onClick=${load}>Refresh</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
    paths === null
      ? html`<p role="status">Looking for documents…</p>`
      : paths.length === 0
      ? html`<p>No documents in this room yet.</p>`
      : html`<ul>${
        paths.map((p) =>
          html`<li key=${p}><button class="link" aria-current=${p === props.open}
          onClick=${() => props.onOpen(p)}>${p}</button></li>`
        )
      }</ul>`
  }
    ${truncated && html`<p>Only the first files were looked at; type a path to open others.</p>`}
  </nav>`;
}

/** The documents tab: pick a document from the room's (or type its path) and follow it. */
export function DocumentsView(props: { room: RoomClient }): unknown {
  const [path, setPath] = useState("");
  const [open, setOpen] = useState("");
  return html`<section aria-labelledby="docs-title">
    <h2 id="docs-title">Documents</h2>
    <${DocumentList} room=${props.room} open=${open} onOpen=${(
    p: string,
  ) => (setPath(p), setOpen(p))} />
    <form class="inline" onSubmit=${(e: Event) => {
    e.preventDefault();
    setOpen(path.trim());
  }}>
      <label for="doc-path">Document path</label>
      <input id="doc-path" value=${path} placeholder="notes.document" required
        onInput=${(e: Event) => setPath((e.target as HTMLInputElement).value)} />
      <button type="submit">Open</button>
    </form>
    ${open && html`<${DocumentTree} key=${open} room=${props.room} path=${open} />`}
  </section>`;
}
