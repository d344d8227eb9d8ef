// Private test helper: a hostile participant in a process of its own, so that building, packing
// and sending its huge update costs nothing on the event loop of a test that runs the server
// in-process and measures it.
//
//   deno run -A server/testdata/hostile_sender.ts <room url> <token> <path> <keys>
//
// Opens the document `path` (a page with a title) with sync.open, builds hostileAttributesUpdate(keys) and prints
// `ready`; on a line `go` on stdin it sends the update as one sync chunk and prints `sent`, then the chunk's answer as JSON (`{"ok":true}` or
// `{"code":…,"message":"…"}`), and exits.
import { BinaryContent, packMessage, RoomError, toWireUpdate } from "@meshagent/api";
import { TestClient } from "../_test_helpers.ts";
import { hostileAttributesUpdate } from "./hostile_update.ts";

/** The document's schema: a page with a title. */
const SCHEMA = {
  $root_tag_ref: "#/$defs/page",
  $defs: {
    page: {
      type: "object",
      properties: { page: { type: "object", properties: { title: { type: ["string", "null"] } } } },
    },
  },
};

const [url, token, path, keys] = Deno.args;
// 64 KiB packets (the server's own size): few frames, so that the server's receiving costs
// little next to the Yjs work this participant causes.
const client = await TestClient.connect(url, token, "header", 64 * 1024);
try {
  const opened = client.openStream("sync", "open", "h1");
  client.chunk("h1", new BinaryContent(new Uint8Array(0), { kind: "start", path, schema: SCHEMA }))
    .catch(() => {});
  await opened;
  await client.responseChunk("h1", 30_000);
  const wire = toWireUpdate(hostileAttributesUpdate(Number(keys)));
  console.log("ready");
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const text of lines) if (text.includes("go")) break;
  const content = new BinaryContent(wire, { kind: "sync" });
  const answer = client.protocol.request(
    "room.tool_call_request_chunk",
    packMessage({ tool_call_id: "h1", chunk: content.toJson() }, content.payload),
    { timeout: 120_000 },
  );
  console.log("sent");
  try {
    await answer;
    console.log(JSON.stringify({ ok: true }));
  } catch (e) {
    const error = e instanceof RoomError ? e : new RoomError(String(e));
    console.log(JSON.stringify({ code: error.code ?? 0, message: error.message }));
  }
} finally {
  await client.close();
}
