// Interop: the official client (@meshagent/meshagent 0.39.9) and our RoomClient in one room on
// our server: presence both ways, messages with attachments both ways, attribute updates.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { RoomMessage } from "@meshagent/api";
import { connect, nextEvent, roomName, until, withServer } from "./testdata/test_room.ts";

// The parts of the untyped official client this test uses.
interface OfficialParticipant {
  id: string;
  role: string;
  getAttribute(name: string): unknown;
}
interface OfficialMessageEvent {
  message: {
    fromParticipantId: string;
    type: string;
    message: Record<string, unknown>;
    attachment?: Uint8Array;
  };
}
interface OfficialRoom {
  ready: Promise<void>;
  start(): Promise<void>;
  dispose(): void;
  waitForClose(): Promise<void>;
  localParticipant: { id: string; setAttribute(name: string, value: unknown): void };
  messaging: {
    enable(): void;
    online: boolean;
    remoteParticipants: OfficialParticipant[];
    getParticipantByName(name: string): OfficialParticipant | null;
    on(name: string, listener: (event: OfficialMessageEvent) => void): void;
    sendMessage(options: {
      to: OfficialParticipant;
      type: string;
      message: Record<string, unknown>;
      attachment?: Uint8Array;
    }): Promise<void>;
    broadcastMessage(options: { type: string; message: Record<string, unknown> }): Promise<void>;
  };
}
interface OfficialModule {
  RoomClient: new (options: { protocolFactory: unknown; reconnectTimeout: number }) => OfficialRoom;
  WebSocketClientProtocol: { createFactory(options: { url: string; token: string }): unknown };
}

const require = createRequire(import.meta.url);
const mesh = require("@meshagent/meshagent") as OfficialModule;

Deno.test("the official client and RoomClient exchange messages and see each other", async () => {
  await withServer(async (server) => {
    const name = roomName();
    const ours = await connect(server, name, "deno-alice");
    const official = new mesh.RoomClient({
      protocolFactory: mesh.WebSocketClientProtocol.createFactory({
        url: server.roomUrl(name),
        token: await server.token(name, "npm-olga"),
      }),
      reconnectTimeout: 0,
    });
    official.ready.catch(() => {}); // see the official client notes: an orphaned rejection otherwise
    try {
      await official.start();
      const officialMessages: OfficialMessageEvent["message"][] = [];
      official.messaging.on("message", (e) => officialMessages.push(e.message));

      // presence both ways
      await ours.messaging.enable();
      official.messaging.enable();
      await until(() => official.messaging.online, "the official client online");
      await until(
        () => ours.getParticipantByName("npm-olga") !== undefined,
        "olga in our presence",
      );
      await until(
        () => official.messaging.getParticipantByName("deno-alice") !== null,
        "alice in the official client's presence",
      );
      const olga = ours.getParticipantByName("npm-olga")!;
      assert.equal(olga.id, official.localParticipant.id);
      assert.equal(
        official.messaging.getParticipantByName("deno-alice")!.id,
        ours.localParticipant!.id,
      );

      // ours → official, with an attachment over several packets
      const bytes = new Uint8Array(3000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 256;
      await ours.messaging.sendMessage({
        to: olga,
        type: "greeting",
        message: { text: "hello from deno", n: [1, 2] },
        attachment: bytes,
      });
      await until(() => officialMessages.some((m) => m.type === "greeting"), "greeting at olga");
      const greeting = officialMessages.find((m) => m.type === "greeting")!;
      assert.equal(greeting.fromParticipantId, ours.localParticipant!.id);
      assert.deepEqual(greeting.message, { text: "hello from deno", n: [1, 2] });
      assert.deepEqual(new Uint8Array(greeting.attachment!), bytes);

      // official → ours, with an attachment
      const reply = nextEvent(ours.events, "message", (m: RoomMessage) => m.type === "reply");
      await official.messaging.sendMessage({
        to: official.messaging.getParticipantByName("deno-alice")!,
        type: "reply",
        message: { text: "hello from npm" },
        attachment: new Uint8Array([0, 1, 2, 253, 254, 255]),
      });
      const got = await reply;
      assert.equal(got.fromParticipantId, official.localParticipant.id);
      assert.deepEqual(got.message, { text: "hello from npm" });
      assert.deepEqual(got.attachment, new Uint8Array([0, 1, 2, 253, 254, 255]));

      // official broadcast → ours
      const broadcast = nextEvent(ours.events, "message", (m) => m.type === "everyone");
      await official.messaging.broadcastMessage({ type: "everyone", message: { all: true } });
      assert.deepEqual((await broadcast).message, { all: true });

      // attribute updates both ways
      const updated = nextEvent(
        ours.events,
        "participantAttributesUpdated",
        (e) => e.participant.id === olga.id,
      );
      official.localParticipant.setAttribute("mood", "curious");
      await updated;
      assert.equal(olga.getAttribute("mood"), "curious");
      ours.localParticipant!.setAttribute("status", "ready");
      await until(
        () =>
          official.messaging.getParticipantByName("deno-alice")?.getAttribute("status") === "ready",
        "the official client sees our attribute",
      );

      // the official client leaving is seen as presence
      const removed = nextEvent(ours.events, "participantRemoved", (p) => p.id === olga.id);
      official.dispose();
      await official.waitForClose();
      await removed;
    } finally {
      official.dispose();
      await official.waitForClose().catch(() => {});
      await ours.dispose();
    }
  });
});
