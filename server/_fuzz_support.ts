// Private: what the fuzz targets share: reading fuzz values, the expected-error checks, scratch
// folders and the API scope of an input.
import { ApiScope, ApiScopeError, ProtocolError, RoomError } from "@meshagent/api";
import type { FuzzObject, FuzzValue } from "./_fuzz_mutator.ts";
import { setKey } from "./_fuzz_mutator.ts";
import { FuzzFinding } from "./_fuzz_runner.ts";

export function isObject(value: unknown): value is FuzzObject {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

export function bytesOf(value: FuzzValue | undefined): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  return undefined;
}

/** A JSON copy of a fuzz value (byte strings become base64 text, as JSON would carry them). */
export function toJson(value: FuzzValue): unknown {
  if (value instanceof Uint8Array) return value.toBase64();
  if (Array.isArray(value)) return value.map(toJson);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setKey(out, k, toJson(v));
    return out;
  }
  return value;
}

/** Expected: a ProtocolError (the codec's only error). Anything else is a finding. */
export function expectProtocolError(what: string, e: unknown): void {
  if (e instanceof ProtocolError) return;
  throw new FuzzFinding(`${what} threw something other than a ProtocolError`, { cause: e });
}

/** Expected: a RoomError with a numeric code. */
export function expectRoomError(what: string, e: unknown): void {
  if (e instanceof RoomError && typeof e.code === "number") return;
  throw new FuzzFinding(`${what} threw something other than a RoomError with a code`, {
    cause: e,
  });
}

/**
 * The API scope an input asks for (`scope`, parsed as a token's `api` grant would be), or the
 * full scope. Grant parsing refuses bad grants with an ApiScopeError; anything else is a finding.
 */
export function inputScope(script: FuzzObject): ApiScope {
  if (script.scope === undefined) return ApiScope.full();
  try {
    return ApiScope.fromJson(toJson(script.scope));
  } catch (e) {
    if (e instanceof ApiScopeError) return ApiScope.full();
    throw new FuzzFinding("ApiScope.fromJson threw a non-ApiScopeError", { cause: e });
  }
}

/**
 * A temporary folder for the per-input rooms and databases: in /dev/shm (memory) where the
 * machine has it [impl], as every input creates and removes files; else the usual temp folder.
 */
export async function scratchDir(prefix: string): Promise<string> {
  try {
    return await Deno.makeTempDir({ dir: "/dev/shm", prefix });
  } catch {
    return await Deno.makeTempDir({ prefix });
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
