// Hocuspocus for bench/sync_load.ts, run under Node (Hocuspocus 4's server refuses to start
// under Deno: "[crossws] Using Node.js adapter in an incompatible environment").
//   node bench/_hocuspocus_server.mjs <state folder>
// Stores each document as <folder>/<name>.bin (Yjs v1 state) and prints its WebSocket URL.
import { readFile, writeFile } from "node:fs/promises";
import { Server } from "@hocuspocus/server";
import * as Y from "yjs";

const dir = process.argv[2];
const server = new Server({
  port: 0,
  address: "127.0.0.1",
  quiet: true,
  stopOnSignals: true,
  async onLoadDocument({ document, documentName }) {
    try {
      Y.applyUpdate(document, await readFile(`${dir}/${documentName}.bin`));
    } catch { /* a new document */ }
    return document;
  },
  async onStoreDocument({ document, documentName }) {
    await writeFile(`${dir}/${documentName}.bin`, Y.encodeStateAsUpdate(document));
  },
});
await server.listen();
console.log(`URL=${server.webSocketURL}`);
