// Document sync load test: our room server + client next to Hocuspocus (npm @hocuspocus/server
// 4.7 under Node in a subprocess, since it refuses to run under Deno; @hocuspocus/provider under
// Deno) on the same work, in the same run.
//
//   deno run -A bench/sync_load.ts [--edits 10000] [--runs 5] [--kb 1024]
//
// (a) two clients, N small text edits (one Yjs update each) made in a burst by the first client:
//     the time until the second client has them all.
// (b) cold load of a ~1 MB document from storage: a new client connects and opens it (the server
//     loads the same Yjs state from a file); the time until the client has the full state.
import { parseArgs } from "node:util";
import * as Y from "yjs";
import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import { MeshDocument, MeshSchema, RoomClient } from "@meshagent/api";
import { startTestServer } from "@meshagent/server/testing";
import { LocalFileStore } from "../server/local_file_store.ts";
import { encodeDocumentFile } from "../server/_document_file.ts";

const args = parseArgs({
  options: {
    edits: { type: "string", default: "10000" },
    runs: { type: "string", default: "5" },
    kb: { type: "string", default: "1024" },
  },
});
const EDITS = Number(args.values.edits);
const RUNS = Number(args.values.runs);
const DOC_BYTES = Number(args.values.kb) * 1024;

const schema = MeshSchema.fromJson({
  $root_tag_ref: "#/$defs/doc",
  $defs: {
    doc: {
      type: "object",
      properties: {
        doc: {
          type: "object",
          properties: {
            blocks: { type: "array", items: { anyOf: [{ $ref: "#/$defs/text" }] } },
          },
        },
      },
    },
    text: { type: "object", properties: { text: { type: "object", properties: {} } } },
  },
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function waitFor(check: () => boolean, subscribe: (wake: () => void) => () => void, ms = 120_000) {
  return new Promise<void>((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error("timed out"));
    }, ms);
    const off = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

// ------------------------------------------------------------------ ours

const server = await startTestServer();
let roomSeq = 0;

async function ourClient(room: string, name: string): Promise<RoomClient> {
  const client = new RoomClient({
    url: server.roomUrl(room),
    token: await server.token(room, name),
    reconnectTimeout: 0,
  });
  await client.start({ timeout: 10_000 });
  return client;
}

async function oursEdits(): Promise<{ converged: number; durable: number }> {
  const room = `edits-${++roomSeq}`;
  const a = await ourClient(room, "a");
  const b = await ourClient(room, "b");
  try {
    const docA = await a.sync.open("bench.doc", { schema });
    const text = docA.root.createChildElement("text");
    await a.sync.flush("bench.doc");
    const docB = await b.sync.open("bench.doc");
    const textB = () => docB.root.children[0]?.text.length ?? 0;
    const t0 = performance.now();
    for (let i = 0; i < EDITS; i++) text.insertText(i, "x");
    const done = waitFor(() => textB() === EDITS, (wake) => docB.on("changed", wake));
    await done;
    const converged = performance.now() - t0;
    await a.sync.flush("bench.doc");
    const durable = performance.now() - t0;
    await a.sync.close("bench.doc");
    await b.sync.close("bench.doc");
    return { converged, durable };
  } finally {
    await a.dispose();
    await b.dispose();
  }
}

/** A ~DOC_BYTES document: text blocks of 400 characters. */
function bigState(): Uint8Array {
  const doc = new MeshDocument(schema);
  const line = "lorem ipsum dolor sit amet ".repeat(15).slice(0, 400);
  doc.transact(() => {
    for (let i = 0; i * 410 < DOC_BYTES; i++) {
      doc.root.createChildElement("text").insertText(0, line);
    }
  });
  const state = doc.encodeStateAsUpdate();
  doc.dispose();
  return state;
}

async function oursColdLoad(state: Uint8Array): Promise<number> {
  const room = `cold-${++roomSeq}`;
  const store = await LocalFileStore.open({ dataDir: server.dataDir, room });
  await store.writeFile("big.doc", encodeDocumentFile(schema.toJson(), null, state));
  const t0 = performance.now();
  const client = await ourClient(room, "reader");
  try {
    const doc = await client.sync.open("big.doc", { create: false });
    const ms = performance.now() - t0;
    if (doc.root.children.length === 0) throw new Error("empty document");
    await client.sync.close("big.doc");
    return ms;
  } finally {
    await client.dispose();
  }
}

// ------------------------------------------------------------------ Hocuspocus

const hocusDir = await Deno.makeTempDir({ prefix: "hocuspocus-bench-" });
const hocusProcess = new Deno.Command("node", {
  args: [new URL("./_hocuspocus_server.mjs", import.meta.url).pathname, hocusDir],
  cwd: new URL("..", import.meta.url).pathname,
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const hocusUrl = await (async () => {
  const reader = hocusProcess.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error("hocuspocus exited: " + text);
    text += value;
    const m = /URL=(\S+)/.exec(text);
    if (m) {
      reader.releaseLock();
      return m[1];
    }
  }
})();

function hocusProvider(name: string, document: Y.Doc) {
  // Deno's own WebSocket: npm ws under Deno loses the frames that arrive with the 101 response
  // from another process (the provider then times out).
  const socket = new HocuspocusProviderWebsocket({ url: hocusUrl });
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document });
  provider.attach(); // a shared websocketProvider is not attached by itself
  const synced = new Promise<void>((resolve) => {
    if (provider.isSynced) resolve();
    provider.on("synced", () => resolve());
  });
  return {
    provider,
    synced,
    destroy() {
      provider.destroy();
      socket.destroy();
    },
  };
}

async function hocusEdits(): Promise<number> {
  const name = `edits-${++roomSeq}`;
  const docA = new Y.Doc();
  const docB = new Y.Doc();
  const a = hocusProvider(name, docA);
  const b = hocusProvider(name, docB);
  try {
    await a.synced;
    await b.synced;
    const textA = docA.getText("t");
    const textB = docB.getText("t");
    const t0 = performance.now();
    for (let i = 0; i < EDITS; i++) textA.insert(i, "x");
    await waitFor(() => textB.length === EDITS, (wake) => {
      textB.observe(wake);
      return () => textB.unobserve(wake);
    });
    return performance.now() - t0;
  } finally {
    a.destroy();
    b.destroy();
  }
}

async function hocusColdLoad(state: Uint8Array): Promise<number> {
  const name = `cold-${++roomSeq}`;
  await Deno.writeFile(`${hocusDir}/${name}.bin`, state);
  const t0 = performance.now();
  const doc = new Y.Doc();
  const p = hocusProvider(name, doc);
  try {
    await p.synced;
    const ms = performance.now() - t0;
    if ((doc.get("xml", Y.XmlElement) as Y.XmlElement).length === 0) throw new Error("empty");
    return ms;
  } finally {
    p.destroy();
  }
}

// ------------------------------------------------------------------ run

const state = bigState();
const results: Record<string, number[]> = {
  oursEdits: [],
  oursEditsDurable: [],
  hocusEdits: [],
  oursCold: [],
  hocusCold: [],
};
try {
  // One warm-up round each, not counted.
  await oursEdits();
  await hocusEdits();
  await oursColdLoad(state);
  await hocusColdLoad(state);
  for (let r = 0; r < RUNS; r++) {
    const o = await oursEdits();
    results.oursEdits.push(o.converged);
    results.oursEditsDurable.push(o.durable);
    results.hocusEdits.push(await hocusEdits());
    results.oursCold.push(await oursColdLoad(state));
    results.hocusCold.push(await hocusColdLoad(state));
  }
} finally {
  hocusProcess.kill("SIGTERM");
  await hocusProcess.status;
  await server.close();
  await Deno.remove(hocusDir, { recursive: true });
}

const f = (ms: number) => `${ms.toFixed(1)} ms`;
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
console.log(
  `sync_load: ${EDITS} edits, ${(state.length / 1024).toFixed(0)} KiB document, median of ${RUNS}`,
);
console.log(
  `(a) edits converged   ours ${f(m.oursEdits)} (durable ${f(m.oursEditsDurable)})   hocuspocus ${
    f(m.hocusEdits)
  }   ratio ${(m.hocusEdits / m.oursEdits).toFixed(2)}x`,
);
console.log(
  `(b) cold load         ours ${f(m.oursCold)}   hocuspocus ${f(m.hocusCold)}   ratio ${
    (m.hocusCold / m.oursCold).toFixed(2)
  }x`,
);
Deno.exit(0);
