// Private: the fuzz targets of the codec every connection and client uses:
// - frames: WebSocket binary messages into the PacketAssembler and a Protocol (the frame decoder);
// - packing: packed messages into unpackMessage / unpackContent / contentFromJson / chunkContent.
import {
  chunkContent,
  type Content,
  contentFromJson,
  type JsonObject,
  PacketAssembler,
  Protocol,
  type ProtocolMessage,
  RoomError,
  unpackContent,
  unpackMessage,
} from "@meshagent/api";
import type { FuzzValue } from "./_fuzz_mutator.ts";
import { FuzzFinding, type FuzzSession, type FuzzTarget } from "./_fuzz_runner.ts";
import { bytesOf, expectProtocolError, isObject } from "./_fuzz_support.ts";

/** The message limit of the frames target: 16 packets of 1 KiB. */
const MAX_FRAMES_MESSAGE = 16 * 1024;

/** Checks a message the assembler completed against the frames it was made of. */
function checkAssembled(message: ProtocolMessage): void {
  if (!(message.id >= 0 && message.id <= 2 ** 64)) {
    throw new FuzzFinding(`assembled message id ${message.id} is out of range`);
  }
  if (typeof message.type !== "string") throw new FuzzFinding("assembled type is not a string");
  if (message.data.length > MAX_FRAMES_MESSAGE) {
    throw new FuzzFinding(`assembled ${message.data.length} bytes past the limit`);
  }
}

/** WebSocket binary messages → PacketAssembler and Protocol.receive. */
export const framesTarget: FuzzTarget = {
  name: "frames",
  description: "WebSocket binary messages → PacketAssembler and Protocol.receive",
  timeoutMs: 2000,
  open(): Promise<FuzzSession> {
    return Promise.resolve({
      run(input: FuzzValue) {
        const frames = (Array.isArray(input) ? input : [input])
          .map(bytesOf)
          .filter((f): f is Uint8Array => f !== undefined);
        // The assembler alone: a completed message or a ProtocolError, nothing else.
        const assembler = new PacketAssembler({ maxMessageSize: MAX_FRAMES_MESSAGE });
        for (const frame of frames) {
          try {
            const message = assembler.push(frame);
            if (message) checkAssembled(message);
          } catch (e) {
            expectProtocolError("PacketAssembler.push", e);
          }
        }
        // A protocol with requests waiting (ids 0-3), so responses are matched and unpacked.
        const problems: unknown[] = [];
        const protocol = new Protocol({ send() {}, close() {} }, {
          maxMessageSize: MAX_FRAMES_MESSAGE,
        });
        protocol.onError((e) => {
          if (!(e instanceof RoomError)) problems.push(e);
        });
        protocol.onUnhandled((m) => {
          try {
            unpackContent(m.data);
          } catch (e) {
            expectProtocolError("unpackContent", e);
          }
        });
        const waits = [0, 1, 2, 3].map(() =>
          protocol.request("fuzz", new Uint8Array(8)).then(
            () => {},
            (e) => {
              if (!(e instanceof RoomError)) problems.push(e);
            },
          )
        );
        for (const frame of frames) protocol.receive(frame);
        protocol.closed(1000, "done");
        return Promise.all(waits).then(() => {
          if (problems.length > 0) {
            throw new FuzzFinding("Protocol reported a non-RoomError", { cause: problems[0] });
          }
        });
      },
      close: () => Promise.resolve(),
    });
  },
};

function sameContent(a: Content, b: Content): boolean {
  if (JSON.stringify(a.toJson()) !== JSON.stringify(b.toJson())) return false;
  const x = a.payload, y = b.payload;
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Packed messages → unpackMessage, unpackContent, contentFromJson, chunkContent. */
export const packingTarget: FuzzTarget = {
  name: "packing",
  description: "packed messages → unpackMessage, unpackContent, contentFromJson, chunkContent",
  timeoutMs: 2000,
  open(): Promise<FuzzSession> {
    return Promise.resolve({
      run(input: FuzzValue) {
        const all = Array.isArray(input) ? input : [input];
        for (const item of all) {
          const data = bytesOf(item);
          if (data === undefined) continue;
          let header: JsonObject | undefined;
          let payload: Uint8Array = new Uint8Array(0);
          try {
            ({ header, payload } = unpackMessage(data));
            if (!isObject(header as FuzzValue)) throw new FuzzFinding("header is not an object");
            if ("__meshagent__" in header) throw new FuzzFinding("__meshagent__ was not removed");
          } catch (e) {
            expectProtocolError("unpackMessage", e);
          }
          try {
            const content = unpackContent(data);
            // What we decode, we encode back to the same content.
            const again = unpackContent(content.pack());
            if (!sameContent(content, again)) {
              throw new FuzzFinding(`${content.type} content does not survive pack/unpack`);
            }
          } catch (e) {
            expectProtocolError("unpackContent", e);
          }
          if (header === undefined) continue;
          // The server reads contents out of request headers (arguments, chunk).
          for (const key of ["arguments", "chunk", "json", "headers"]) {
            const nested = header[key];
            try {
              if (isObject(nested as FuzzValue)) contentFromJson(nested as JsonObject, payload);
              chunkContent(nested, payload);
            } catch (e) {
              expectProtocolError(`contentFromJson(${key})`, e);
            }
          }
        }
      },
      close: () => Promise.resolve(),
    });
  },
};
