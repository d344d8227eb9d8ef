// Private: reading and checking the JSON of RoomDatabase requests (errors are 1002 with a message
// that names the field).
import { ErrorCode, RoomError } from "@meshagent/api";
import type { CreateMode } from "./sqlite_table_writer.ts";

/** A request object. */
export type Json = Record<string, unknown>;

export function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

export function asObject(value: unknown, what: string): Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid(`${what} must be a JSON object`);
  }
  return value as Json;
}

export function requiredString(req: Json, key: string): string {
  const value = req[key];
  if (typeof value !== "string" || value.length === 0) {
    throw invalid(`\`${key}\` must be a non-empty string`);
  }
  return value;
}

export function readNamespace(req: Json): string[] | null {
  const value = req.namespace;
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string" && item !== "")) {
    throw invalid("`namespace` must be a list of non-empty strings, or null");
  }
  return [...value] as string[];
}

export function readMode(req: Json): CreateMode {
  const value = req.mode ?? "create";
  if (value !== "create" && value !== "overwrite" && value !== "create_if_not_exists") {
    throw invalid('`mode` must be "create", "overwrite" or "create_if_not_exists"');
  }
  return value;
}

export function readBool(req: Json, key: string): boolean {
  const value = req[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw invalid(`\`${key}\` must be true or false`);
  return value;
}

export function readCount(req: Json, key: string): number | null {
  const value = req[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`\`${key}\` must be a non-negative integer or null`);
  }
  return value;
}

export function readStringList(req: Json, key: string): string[] | null {
  const value = req[key];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw invalid(`\`${key}\` must be a list of strings`);
  }
  return [...value] as string[];
}

export function describeNamespace(namespace: readonly string[] | null): string {
  return namespace === null || namespace.length === 0
    ? ""
    : ` in namespace ${JSON.stringify(namespace)}`;
}
