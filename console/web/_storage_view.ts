// Browser-only: the room's storage — list a folder, go into folders, upload with progress, download,
// and preview images, text and JSON.
import { useEffect, useState } from "preact/hooks";
import type { RoomClient, StorageEntry } from "@meshagent/api";
import { html, messageOf } from "./_html.ts";

/** How a file is previewed, by extension [impl]: an image, text, or JSON (pretty-printed). */
const PREVIEWS: Readonly<Record<string, "image" | "text" | "json" | "pdf">> = {
  png: "image",
  jpg: "image",
  jpeg: "image",
  gif: "image",
  webp: "image",
  svg: "image",
  txt: "text",
  md: "text",
  csv: "text",
  log: "text",
  ts: "text",
  js: "text",
  py: "text",
  html: "text",
  yaml: "text",
  yml: "text",
  json: "json",
  pdf: "pdf",
};

/** [impl] Text previews show at most this many bytes. */
const TEXT_PREVIEW_BYTES = 256 * 1024;

function previewKind(name: string): "image" | "text" | "json" | "pdf" | null {
  return PREVIEWS[name.split(".").at(-1)?.toLowerCase() ?? ""] ?? null;
}

function join(folder: string, name: string): string {
  return folder ? `${folder}/${name}` : name;
}

type Preview =
  | { path: string; kind: "image" | "pdf"; url: string }
  | { path: string; kind: "text"; text: string }
  | { path: string; kind: "none" };

/** The storage browser. */
export function StorageView(props: { room: RoomClient }): unknown {
  const { room } = props;
  const [folder, setFolder] = useState("");
  const [entries, setEntries] = useState<StorageEntry[] | null>(null);
  const [error, setError] = useState("");
  const [progress, setProgress] = useState<{ name: string; bytes: number; total: number } | null>(
    null,
  );
  const [preview, setPreview] = useState<Preview | null>(null);
  const load = async (path = folder) => {
    try {
      const list = await room.storage.list(path);
      list.sort((a, b) => Number(b.isFolder) - Number(a.isFolder) || a.name.localeCompare(b.name));
      setEntries(list);
      setError("");
    } catch (e) {
      setError(messageOf(e));
    }
  };
  useEffect(() => {
    load(folder);
  }, [room, folder]);
  const upload = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    for (const file of [...(input.files ?? [])]) {
      setProgress({ name: file.name, bytes: 0, total: file.size });
      try {
        await room.storage.upload(join(folder, file.name), file.stream(), {
          size: file.size,
          mimeType: file.type || undefined,
          overwrite: true,
          onProgress: (p) => setProgress({ name: file.name, bytes: p.bytes, total: file.size }),
        });
      } catch (err) {
        setError(`upload of ${file.name} failed: ${messageOf(err)}`);
      }
    }
    input.value = "";
    setProgress(null);
    await load();
  };
  const download = async (path: string) => {
    try {
      const url = await room.storage.downloadUrl(path, { download: true });
      const a = document.createElement("a");
      a.href = url;
      a.download = path.split("/").at(-1)!;
      a.click();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const show = async (path: string) => {
    const kind = previewKind(path);
    try {
      if (kind === "image" || kind === "pdf") {
        setPreview({ path, kind, url: await room.storage.downloadUrl(path) });
      } else if (kind === "text" || kind === "json") {
        const file = await room.storage.download(path);
        let text = new TextDecoder().decode(file.data.subarray(0, TEXT_PREVIEW_BYTES));
        if (kind === "json") {
          try {
            text = JSON.stringify(JSON.parse(text), null, 2);
          } catch { /* shown as it is */ }
        }
        setPreview({ path, kind: "text", text });
      } else setPreview({ path, kind: "none" });
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const crumbs = folder ? folder.split("/") : [];
  return html`<section aria-labelledby="files-title" class="files">
    <h2 id="files-title">Files</h2>
    <nav aria-label="folder" class="crumbs">
      <button class="link" onClick=${() => setFolder("")}>/</button>
      ${
    crumbs.map((c, i) =>
      html`
        <span> / </span><button class="link"
          onClick=${() => setFolder(crumbs.slice(0, i + 1).join("/"))}>${c}</button>
      `
    )
  }
    </nav>
    <p>
      <label for="upload">Upload to /${folder}</label>
      <input id="upload" type="file" multiple onChange=${upload} />
      <button onClick=${() => load()}>Refresh</button>
    </p>
    ${
    progress && html`<p role="status">
      <label for="upload-progress">Uploading ${progress.name}</label>
      <progress id="upload-progress" max=${progress.total || 1} value=${progress.bytes}></progress>
      ${progress.bytes} / ${progress.total} bytes</p>`
  }
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
    entries === null
      ? html`<p>Loading…</p>`
      : entries.length === 0
      ? html`<p>This folder is empty.</p>`
      : html`
        <table class="file-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Changed</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>${entries.map((f) => {
            const path = join(folder, f.name);
            return html`
              <tr key=${f.name} data-file=${path}>
                <td>${f.isFolder
                  ? html`<button class="link" onClick=${() => setFolder(path)}>${f.name}/</button>`
                  : html`<button class="link" onClick=${() => show(path)}>${f.name}</button>`}</td>
                <td>${f.size ?? ""}</td>
                <td>${f.updatedAt?.toLocaleString() ?? ""}</td>
                <td>${!f.isFolder &&
                  html`<button onClick=${() =>
                    download(path)} aria-label=${`download ${f.name}`}>Download</button>`}</td>
              </tr>
            `;
          })}</tbody>
        </table>
      `
  }
    ${
    preview && html`<figure class="preview" aria-label=${`preview of ${preview.path}`}>
      <figcaption>${preview.path} <button onClick=${() =>
      setPreview(null)}>Close</button></figcaption>
      ${preview.kind === "image" && html`<img src=${preview.url} alt=${preview.path} />`}
      ${preview.kind === "pdf" && html`<iframe src=${preview.url} title=${preview.path}></iframe>`}
      ${preview.kind === "text" && html`<pre id="preview-text">${preview.text}</pre>`}
      ${preview.kind === "none" && html`<p>No preview for this kind of file: download it.</p>`}
    </figure>`
  }
  </section>`;
}
