// Micro-benchmarks of the wire codec that every message goes through (`deno task bench`).
import {
  encodePackets,
  JsonContent,
  PacketAssembler,
  packMessage,
  unpackContent,
  unpackMessage,
} from "@meshagent/api";

const header = {
  toolkit: "messaging",
  tool: "send",
  tool_call_id: "1732000000000-9f3a0b1c00000001",
  arguments: {
    type: "json",
    json: { to_participant_id: "a1b2c3", type: "chat", message_json: '{"text":"hello there"}' },
  },
};
const small = packMessage(header);
const big = new Uint8Array(1024 * 1024);

Deno.bench("packMessage (invoke header, ~200 B)", { group: "pack" }, () => {
  packMessage(header);
});

Deno.bench("unpackMessage (invoke header, ~200 B)", { group: "pack" }, () => {
  unpackMessage(small);
});

Deno.bench("content round trip (json)", { group: "pack" }, () => {
  unpackContent(new JsonContent({ ok: true, n: 1 }).pack());
});

Deno.bench("encodePackets + assemble, 200 B message", { group: "framing" }, () => {
  const assembler = new PacketAssembler();
  for (const frame of encodePackets({ id: 7, type: "room.invoke_tool", data: small })) {
    assembler.push(frame);
  }
});

Deno.bench("encodePackets + assemble, 1 MiB message", { group: "framing" }, () => {
  const assembler = new PacketAssembler();
  for (const frame of encodePackets({ id: 7, type: "storage.data", data: big })) {
    assembler.push(frame);
  }
});
