// Private: small checks and descriptions of JSON values, for schemas and documents.
import type { JsonObject } from "./packing.ts";

/** The JSON scalar type of a value (a SimpleValueType), or undefined for anything else. */
export function typeOfScalar(
  value: unknown,
): "string" | "number" | "boolean" | "null" | undefined {
  if (value === null) return "null";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return Number.isFinite(value) ? "number" : undefined;
  if (typeof value === "boolean") return "boolean";
  return undefined;
}

/** Whether a value is a JSON object (not an array, not bytes). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value instanceof Uint8Array) return `bytes (${value.length})`;
  try {
    const s = JSON.stringify(value);
    return s.length > 60 ? s.slice(0, 57) + "..." : s;
  } catch {
    return String(value);
  }
}
