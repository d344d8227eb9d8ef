import assert from "node:assert/strict";
import { ErrorCode, RoomError } from "@meshagent/api";
import { StorageError, StorageLimitError } from "./file_store.ts";

Deno.test("StorageError carries the wire code, the path and the cause", () => {
  const cause = new Error("disk");
  const err = new StorageError("boom", ErrorCode.OPERATION_FAILED, "a/b.txt", { cause });
  assert.ok(err instanceof RoomError);
  assert.equal(err.name, "StorageError");
  assert.equal(err.code, 1008);
  assert.equal(err.path, "a/b.txt");
  assert.equal(err.cause, cause);
  assert.equal(new StorageError("x", 3001, "p").cause, undefined);
});

Deno.test("StorageLimitError codes: 1002 for the file limit, 1008 for the room quota", () => {
  const file = new StorageLimitError("file", 10, "big.bin");
  assert.ok(file instanceof StorageError);
  assert.equal(file.code, ErrorCode.INVALID_REQUEST);
  assert.equal(file.limit, "file");
  assert.match(file.message, /per-file limit of 10 bytes/);
  const room = new StorageLimitError("room", 100, "x.bin");
  assert.equal(room.code, ErrorCode.OPERATION_FAILED);
  assert.match(room.message, /storage is full.*delete files/);
});
