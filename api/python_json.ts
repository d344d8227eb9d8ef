// Python's `json.dumps` with its defaults (separators ", " and ": ", ensure_ascii, allow_nan), as
// the webhook signature needs it (protocol-data §4.3): the receiver hashes its own re-serialisation
// of the parsed payload, so a sender must emit exactly that text. Web-standard code only.

/** Escapes of the characters `json.dumps` writes with a short escape. */
const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** A JSON string literal as `json.dumps(..., ensure_ascii=True)` writes it. */
function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const code = text.charCodeAt(i);
    const short = SHORT_ESCAPES[ch];
    if (short !== undefined) out += short;
    else if (code < 0x20 || code > 0x7e) {
      // UTF-16 code units: an astral character is already its surrogate pair, as Python writes.
      out += "\\u" + code.toString(16).padStart(4, "0");
    } else out += ch;
  }
  return out + '"';
}

/**
 * A float as Python's `repr` writes it: the shortest digits that round-trip (the same digits as
 * JavaScript), positional when the decimal exponent is in [-4, 16), else `d.ddde±XX` with at
 * least two exponent digits; integral floats keep `.0`.
 */
function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const [mantissa, exp] = value.toExponential().split("e");
  const exponent = Number(exp);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    let text: string;
    if (exponent < 0) text = "0." + "0".repeat(-exponent - 1) + digits;
    else if (digits.length <= exponent + 1) {
      text = digits + "0".repeat(exponent + 1 - digits.length) + ".0";
    } else text = digits.slice(0, exponent + 1) + "." + digits.slice(exponent + 1);
    return sign + text;
  }
  const body = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const e = Math.abs(exponent).toString().padStart(2, "0");
  return `${sign}${body}e${exponent < 0 ? "-" : "+"}${e}`;
}

/**
 * A JavaScript number as `json.dumps` writes the Python value it stands for: integral numbers as
 * Python `int`s (plain decimal digits), others as Python `float`s.
 */
function pythonNumber(value: number): string {
  if (Number.isInteger(value) && !Object.is(value, -0)) {
    return BigInt(value).toString();
  }
  return pythonFloat(value);
}

/**
 * Serialises a JSON value exactly as Python's `json.dumps(value)` does with its defaults:
 * `", "` and `": "` separators, no other whitespace, keys in insertion order, every non-ASCII
 * character escaped as `\uXXXX` (lowercase hex), `true`/`false`/`null`. Integral numbers are
 * written as Python ints, others as Python floats (`1e-07`, `1.5e+16`).
 *
 * [impl] A JSON value parsed by Python keeps the difference between `1` and `1.0`; a JavaScript
 * number cannot, so `1.0` comes out as `1`. Webhook payloads hold no floats, and
 * {@linkcode pythonJsonRedump} works from the text for the receiving side.
 *
 * @param value A JSON value (objects, arrays, strings, finite numbers, booleans, null).
 * @returns The text.
 * @throws {TypeError} On values JSON cannot hold (functions, symbols, bigints, cycles).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pythonJsonDumps } from "@meshagent/api";
 *
 * assert.equal(
 *   pythonJsonDumps({ event: "room.started", data: { room_name: "café", n: [1, 0.5] } }),
 *   '{"event": "room.started", "data": {"room_name": "caf\\u00e9", "n": [1, 0.5]}}',
 * );
 * ```
 */
export function pythonJsonDumps(value: unknown): string {
  const seen = new Set<object>();
  const dump = (v: unknown): string => {
    if (v === null) return "null";
    switch (typeof v) {
      case "string":
        return pythonString(v);
      case "number":
        return pythonNumber(v);
      case "boolean":
        return v ? "true" : "false";
      case "object": {
        if (seen.has(v)) throw new TypeError("pythonJsonDumps: the value has a cycle");
        seen.add(v);
        let text: string;
        if (Array.isArray(v)) {
          text = "[" + v.map((item) => item === undefined ? "null" : dump(item)).join(", ") + "]";
        } else {
          const parts: string[] = [];
          for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
            if (item === undefined) continue; // as JSON.stringify: an absent key
            parts.push(`${pythonString(key)}: ${dump(item)}`);
          }
          text = "{" + parts.join(", ") + "}";
        }
        seen.delete(v);
        return text;
      }
      default:
        throw new TypeError(`pythonJsonDumps: a ${typeof v} is not a JSON value`);
    }
  };
  return dump(value);
}

/**
 * Re-serialises JSON text exactly as Python's `json.dumps(json.loads(text))` does: keys keep the
 * order they have in the text (a repeated key keeps its first place and its last value, as a
 * Python dict), integers keep every digit, numbers with a fraction or exponent become Python
 * floats. This is what a MeshAgent webhook receiver hashes (protocol-data §4.3).
 *
 * @param text JSON text.
 * @returns Python's `json.dumps` of its value.
 * @throws {SyntaxError} When the text is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pythonJsonRedump } from "@meshagent/api";
 *
 * assert.equal(pythonJsonRedump('{"b":1,"1":2.50,"big":12345678901234567890}'),
 *   '{"b": 1, "1": 2.5, "big": 12345678901234567890}');
 * ```
 */
export function pythonJsonRedump(text: string): string {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`not JSON: ${what} at offset ${i}`);
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const literal = (word: string, out: string): string => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return out;
    }
    return fail("an unknown literal");
  };
  const string = (): string => {
    const start = i;
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if (text.charCodeAt(i) < 0x20) fail("a control character in a string");
      i++;
    }
    if (i >= text.length) fail("an unterminated string");
    i++;
    // JSON.parse decodes the escapes (and rejects bad ones) of this one literal.
    return JSON.parse(text.slice(start, i)) as string;
  };
  const number = (): string => {
    const match = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) return fail("a malformed number");
    i += match[0].length;
    if (match[1] === undefined && match[2] === undefined) {
      return BigInt(match[0]).toString(); // a Python int: every digit, "-0" → "0"
    }
    return pythonFloat(Number(match[0]));
  };
  const value = (depth: number): string => {
    if (depth > 512) fail("nesting too deep");
    space();
    const ch = text[i];
    if (ch === "{") {
      i++;
      const entries = new Map<string, string>();
      space();
      if (text[i] === "}") {
        i++;
        return "{}";
      }
      while (true) {
        space();
        if (text[i] !== '"') fail("an object key");
        const key = string();
        space();
        if (text[i] !== ":") fail('":"');
        i++;
        entries.set(key, value(depth + 1));
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          break;
        }
        fail('"," or "}"');
      }
      return "{" + [...entries].map(([k, v]) => `${pythonString(k)}: ${v}`).join(", ") + "}";
    }
    if (ch === "[") {
      i++;
      const items: string[] = [];
      space();
      if (text[i] === "]") {
        i++;
        return "[]";
      }
      while (true) {
        items.push(value(depth + 1));
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          break;
        }
        fail('"," or "]"');
      }
      return "[" + items.join(", ") + "]";
    }
    if (ch === '"') return pythonString(string());
    if (ch === "t") return literal("true", "true");
    if (ch === "f") return literal("false", "false");
    if (ch === "n") return literal("null", "null");
    if (ch === "-" || (ch >= "0" && ch <= "9")) return number();
    return fail("a value");
  };
  const out = value(0);
  space();
  if (i !== text.length) fail("text after the value");
  return out;
}
