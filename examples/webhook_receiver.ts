// A webhook receiver: verifies each delivery's `Meshagent-Signature` (a forged, tampered or
// replayed one gets 401 and never reaches a handler) and logs the room events. A plain `fetch`
// handler: run it with `deno serve` (or deploy it to Deno Deploy as is).
//
//   MESHAGENT_WEBHOOK_SECRET=s3cret deno serve -A --port 8090 examples/webhook_receiver.ts
//   deno task start --webhook-secret s3cret --webhook http://127.0.0.1:8090/webhook
//
// or subscribe it to one project's events (the server makes a secret and prints it):
//
//   deno run -A cli/main.ts webhook create --url http://127.0.0.1:8090/webhook --event room.started --event room.ended
//
// then join a room (e.g. `deno run -A cli/main.ts room messaging listen --room demo`) and leave.
import { WebhookServer } from "@meshagent/api";

const receiver = new WebhookServer(); // the secret from MESHAGENT_WEBHOOK_SECRET

receiver.on("room.started", (event) => {
  console.log(`room ${event.roomName} started (${event.roomUrl})`);
});
receiver.on("participant.joined", (event) => {
  console.log(`${event.participantName} joined ${event.roomName}`);
});
receiver.on("participant.left", (event) => {
  console.log(`${event.participantName} left ${event.roomName}`);
});
receiver.on("room.ended", (event) => {
  console.log(`room ${event.roomName} ended`);
});

export default { fetch: receiver.fetch } satisfies Deno.ServeDefaultExport;
