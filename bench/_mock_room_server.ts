// A minimal stand-in for the room server, for measuring client CPU alone (client_cpu_load.ts
// --mock): node:http + npm `ws`, with just enough of the protocol for RoomClient.start(),
// messaging.enable and messaging.send. Its codec is written out here on purpose, so that changes
// to api/ do not change the server side of the measurement. Prints the port, runs until killed.
import { createServer, type IncomingMessage } from "node:http";
import { WebSocketServer } from "ws";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Peer {
  id: string;
  send(frame: Uint8Array): void;
}

const rooms = new Map<string, Map<string, Peer>>();
let nextId = 0;

function frames(id: number, type: string, header: unknown): Uint8Array[] {
  const t = enc.encode(type);
  const json = enc.encode(JSON.stringify(header));
  const head = new Uint8Array(16 + t.length);
  const v = new DataView(head.buffer);
  v.setUint32(4, id);
  v.setUint32(12, 1);
  head.set(t, 16);
  const data = new Uint8Array(20 + json.length);
  const w = new DataView(data.buffer);
  w.setUint32(4, id);
  w.setUint32(8, 1);
  w.setUint32(16, json.length);
  data.set(json, 20);
  return [head, data];
}

const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
// deno-lint-ignore no-explicit-any
wss.on("connection", (ws: any, req: IncomingMessage) => {
  const room = new URL(req.url ?? "/", "http://x").pathname;
  let peers = rooms.get(room);
  if (!peers) rooms.set(room, peers = new Map());
  const roomPeers = peers;
  const raw = ws._socket;
  let corked = false;
  const me: Peer = {
    id: crypto.randomUUID(),
    send(frame) {
      if (!corked) {
        corked = true;
        raw.cork();
        queueMicrotask(() => {
          corked = false;
          raw.uncork();
        });
      }
      ws.send(frame);
    },
  };
  roomPeers.set(me.id, me);
  const emit = (peer: Peer, type: string, header: unknown, id = nextId++) => {
    for (const f of frames(id, type, header)) peer.send(f);
  };
  emit(me, "room_ready", { room_name: room, room_url: room, session_id: "s" });
  emit(me, "connected", { type: "init", participantId: me.id, attributes: {} });
  let pending: { id: number; type: string } | undefined;
  ws.on("message", (data: Uint8Array) => {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const id = v.getUint32(4);
    if (v.getUint32(8) === 0) {
      pending = { id, type: dec.decode(data.subarray(16)) };
      return;
    }
    if (!pending || pending.id !== id) return;
    const type = pending.type;
    pending = undefined;
    const length = v.getUint32(16);
    const header = JSON.parse(dec.decode(data.subarray(20, 20 + length)));
    if (type !== "room.invoke_tool") return;
    const input = header.arguments?.json ?? {};
    if (header.tool === "enable") {
      emit(me, "__response__", { type: "empty" }, id);
      emit(me, "messaging.send", {
        from_participant_id: me.id,
        type: "messaging.enabled",
        message: { participants: [] },
      });
    } else if (header.tool === "send") {
      const to = roomPeers.get(input.to_participant_id);
      if (to) {
        emit(to, "messaging.send", {
          from_participant_id: me.id,
          type: input.type,
          message: JSON.parse(input.message_json),
        });
        emit(me, "__response__", { type: "empty" }, id);
      } else {
        emit(me, "__response__", { type: "error", text: "not found", code: 1003 }, id);
      }
    } else {
      emit(me, "__response__", { type: "empty" }, id);
    }
  });
  ws.on("close", () => roomPeers.delete(me.id));
});
http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  console.log(`listening on http://127.0.0.1:${typeof address === "object" ? address?.port : 0}`);
});
