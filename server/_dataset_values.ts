// Encoded values of the dataset wire (protocol-data §3.1: JSON scalars, or single-key wrappers
// {binary}, {uuid}, {date}, {timestamp}, {list}, {struct}, {json}, {expression}) → SQL text for
// LanceDB's `update`, or plain values for rows sent as JSON.
import { ErrorCode, RoomError } from "@meshagent/api";

function invalid(message: string): RoomError {
  return new RoomError(message, ErrorCode.INVALID_REQUEST);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64Bytes(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw invalid("a {binary} value must be base64 text");
  }
}

function wrapper(value: Record<string, unknown>, where: string): [string, unknown] {
  const entries = Object.entries(value);
  if (entries.length !== 1) {
    throw invalid(`${where}: an object value must be one wrapper such as {"binary": …}`);
  }
  return entries[0];
}

/**
 * The SQL text of an encoded value (`{"expression": sql}` is passed through as SQL).
 *
 * @param value The decoded JSON of `value_json`.
 * @param where Names the value in errors.
 */
export function sqlLiteral(value: unknown, where: string): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(`${where}: ${value} is not a number SQL can hold`);
    return String(value);
  }
  if (typeof value === "string") return quote(value);
  if (Array.isArray(value)) {
    throw invalid(`${where}: a list value must be wrapped as {"list": […]}`);
  }
  if (!isObject(value)) throw invalid(`${where}: unsupported value ${String(value)}`);
  const [kind, payload] = wrapper(value, where);
  switch (kind) {
    case "expression":
      if (typeof payload !== "string" || payload.trim() === "") {
        throw invalid(`${where}: {"expression"} needs SQL text`);
      }
      return payload;
    case "binary":
      return `X'${hex(base64Bytes(String(payload)))}'`;
    case "uuid":
      return quote(String(payload));
    case "date":
      return `CAST(${quote(String(payload))} AS DATE)`;
    case "timestamp":
      return `CAST(${quote(String(payload))} AS TIMESTAMP)`;
    case "json":
      return quote(JSON.stringify(payload));
    case "list":
      if (!Array.isArray(payload)) throw invalid(`${where}: {"list"} needs an array`);
      return `make_array(${
        payload.map((item, i) => sqlLiteral(item, `${where}[${i}]`)).join(", ")
      })`;
    case "struct":
      if (!isObject(payload)) throw invalid(`${where}: {"struct"} needs an object`);
      return `named_struct(${
        Object.entries(payload).map(([k, v]) => `${quote(k)}, ${sqlLiteral(v, `${where}.${k}`)}`)
          .join(", ")
      })`;
    default:
      throw invalid(`${where}: unknown value wrapper ${JSON.stringify(kind)}`);
  }
}

/**
 * The plain value of an encoded value, for rows that arrive as JSON (`{"kind": "rows"}`).
 *
 * @param value The encoded value.
 * @param where Names the value in errors.
 */
export function plainValue(value: unknown, where: string): unknown {
  if (value === null || typeof value !== "object") return value ?? null;
  if (Array.isArray(value)) {
    throw invalid(`${where}: a list value must be wrapped as {"list": […]}`);
  }
  const [kind, payload] = wrapper(value as Record<string, unknown>, where);
  switch (kind) {
    case "binary":
      return base64Bytes(String(payload));
    case "uuid":
    case "date":
      return String(payload);
    case "timestamp": {
      const date = new Date(String(payload));
      if (Number.isNaN(date.getTime())) throw invalid(`${where}: not a timestamp: ${payload}`);
      return date;
    }
    case "json":
      return payload;
    case "list":
      if (!Array.isArray(payload)) throw invalid(`${where}: {"list"} needs an array`);
      return payload.map((item, i) => plainValue(item, `${where}[${i}]`));
    case "struct":
      if (!isObject(payload)) throw invalid(`${where}: {"struct"} needs an object`);
      return payload;
    default:
      throw invalid(
        `${where}: the value wrapper ${JSON.stringify(kind)} cannot be stored in a row`,
      );
  }
}
