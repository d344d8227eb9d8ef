import assert from "node:assert/strict";
import { ErrorContent, RoomError } from "@meshagent/api";
import { ToolError, ToolValidationError } from "./tool_error.ts";

Deno.test("ToolError keeps code and message and becomes an error content", () => {
  const err = new ToolError("Tool was not found add", 1003);
  assert.ok(err instanceof RoomError);
  assert.equal(err.name, "ToolError");
  assert.deepEqual(err.toContent().toJson(), {
    type: "error",
    text: "Tool was not found add",
    code: 1003,
  });
  assert.equal(new ToolError("x").code, 1008);
});

Deno.test("ToolError.from converts thrown values", () => {
  const same = new ToolError("a", 1005);
  assert.equal(ToolError.from(same), same);
  assert.equal(ToolError.from(new RoomError("denied", 1001)).code, 1001);
  assert.equal(ToolError.from(new RoomError("no code")).code, 1008);
  const fromContent = ToolError.from(new ErrorContent("gone", 1003));
  assert.deepEqual([fromContent.message, fromContent.code], ["gone", 1003]);
  const plain = ToolError.from(new TypeError("boom"));
  assert.deepEqual([plain.message, plain.code], ["boom", 1008]);
  assert.ok(plain.cause instanceof TypeError);
  assert.equal(ToolError.from("just a string").message, "just a string");
  const timeout = ToolError.from(new DOMException("took too long", "TimeoutError"));
  assert.equal(timeout.code, 1009);
  assert.match(timeout.message, /timed out/);
  assert.match(ToolError.from(new DOMException("stop", "AbortError")).message, /cancelled: stop/);
});

Deno.test("ToolValidationError is a 1002 error closed with 1007", () => {
  const err = new ToolValidationError("tool t input does not match input_schema: / bad");
  assert.ok(err instanceof ToolError);
  assert.equal(err.code, 1002);
  assert.equal(ToolValidationError.closeStatus, 1007);
  assert.equal(ToolError.from(err), err);
});
