// Private: client values → values SQLite binds (protocol-data §3.1 "Encoded values").

import type { SQLInputValue } from "node:sqlite";
import { ErrorCode, RoomError } from "@meshagent/api";
import type { SqlValue } from "./arrow_codec.ts";

/** What `node:sqlite` accepts as a bound value. */
export type Bindable = null | bigint | number | string | Uint8Array;

/** A raw SQL expression from an `{"expression": "<sql>"}` encoded value. */
export interface SqlExpression {
  expression: string;
}

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

function base64ToBytes(text: string, what: string): Uint8Array {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    throw invalid(`${what}: "binary" must be base64 text`);
  }
}

/** Turns an encoded value into plain JSON (for `list`/`struct`/`json` stored as JSON text). */
/** [impl] Deepest nesting of an encoded value (JSON text itself may nest deeper: it is text). */
export const MAX_VALUE_DEPTH = 64;

function plain(value: unknown, what: string, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_VALUE_DEPTH) {
    throw new RoomError(
      `${what} nests more than ${MAX_VALUE_DEPTH} levels deep; send deep data as JSON text`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  const next = depth + 1;
  if (Array.isArray(value)) return value.map((item) => plain(item, what, next));
  const keys = Object.keys(value);
  const obj = value as Record<string, unknown>;
  if (keys.length === 1) {
    const key = keys[0];
    const inner = obj[key];
    switch (key) {
      case "list":
        if (Array.isArray(inner)) return inner.map((item) => plain(item, what, next));
        break;
      case "struct":
        if (inner !== null && typeof inner === "object" && !Array.isArray(inner)) {
          return Object.fromEntries(
            Object.entries(inner).map(([k, v]) => [k, plain(v, what, next)]),
          );
        }
        break;
      case "json":
        return inner;
      case "uuid":
      case "date":
      case "timestamp":
      case "binary":
        if (typeof inner === "string") return inner;
        break;
    }
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plain(v, what, next)]));
}

/**
 * Decodes one encoded value: JSON scalars as-is (integral numbers become integers, booleans
 * 1/0), `{"binary": base64}`, `{"uuid"|"date"|"timestamp": text}`, `{"list": […]}`,
 * `{"struct": {…}}` and `{"json": any}` (stored as JSON text), and — only where
 * `allowExpression` — `{"expression": "<sql>"}`.
 *
 * @throws {RoomError} 1002 naming `what` when the value has an unknown shape.
 */
export function decodeEncodedValue(
  value: unknown,
  what: string,
  allowExpression: boolean,
): Bindable | SqlExpression {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value ? 1n : 0n;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(`${what}: numbers must be finite`);
    return Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return JSON.stringify(plain(value, what));
  if (typeof value === "object") {
    const keys = Object.keys(value);
    const obj = value as Record<string, unknown>;
    if (keys.length === 1) {
      const key = keys[0];
      const inner = obj[key];
      switch (key) {
        case "binary":
          if (typeof inner === "string") return base64ToBytes(inner, what);
          break;
        case "uuid":
        case "date":
        case "timestamp":
          if (typeof inner === "string") return inner;
          break;
        case "list":
          if (Array.isArray(inner)) return JSON.stringify(plain(inner, what));
          break;
        case "struct":
          if (inner !== null && typeof inner === "object" && !Array.isArray(inner)) {
            return JSON.stringify(plain(inner, what));
          }
          break;
        case "json":
          return JSON.stringify(inner ?? null);
        case "expression":
          if (typeof inner !== "string") break;
          if (!allowExpression) {
            throw invalid(`${what}: an {"expression": …} value is not allowed here`);
          }
          return { expression: inner };
      }
    }
    throw invalid(
      `${what}: unknown encoded value ${JSON.stringify(value).slice(0, 80)}; use a JSON scalar ` +
        `or one of {"binary"}, {"uuid"}, {"date"}, {"timestamp"}, {"list"}, {"struct"}, {"json"}` +
        (allowExpression ? `, {"expression"}` : ""),
    );
  }
  throw invalid(`${what}: unsupported value of type ${typeof value}`);
}

/** Decodes an encoded value where expressions are not allowed. */
export function decodeBindable(value: unknown, what: string): Bindable {
  return decodeEncodedValue(value, what, false) as Bindable;
}

/** Converts a row value for binding (booleans become 1/0). */
export function toBindable(value: SqlValue): Bindable {
  if (typeof value === "boolean") return value ? 1n : 0n;
  if (value === undefined) return null;
  return value;
}

/** Bound parameters: positional values, or named ones (keys with or without `:`, `@`, `$`). */
export type BoundParams =
  | { kind: "positional"; values: Bindable[] }
  | { kind: "named"; values: Record<string, Bindable> };

/**
 * Decodes `params` (a JSON array for `?` placeholders, an object for named ones, or null).
 *
 * @throws {RoomError} 1002 for any other shape or a bad encoded value.
 */
export function decodeParams(params: unknown): BoundParams {
  if (params === null || params === undefined) return { kind: "positional", values: [] };
  if (Array.isArray(params)) {
    return {
      kind: "positional",
      values: params.map((value, index) => decodeBindable(value, `params[${index}]`)),
    };
  }
  if (typeof params === "object") {
    const values: Record<string, Bindable> = {};
    for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
      if (key.length === 0) throw invalid("params: named parameters need a name");
      values[key] = decodeBindable(value, `params.${key}`);
    }
    return { kind: "named", values };
  }
  throw invalid("params must be a JSON array (for ? placeholders), an object (named), or null");
}

/**
 * The arguments for `StatementSync.run/all/iterate` (named values go in one object first; the
 * type says `SQLInputValue` because `node:sqlite` declares them as overloads).
 */
export function bindArgs(params: BoundParams): SQLInputValue[] {
  return (params.kind === "named" ? [params.values] : params.values) as SQLInputValue[];
}
