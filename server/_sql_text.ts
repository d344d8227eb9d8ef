// Private text helpers for the room database: identifier quoting, name checks, file-name
// encoding and a small SQL scanner (SQLite's own lexical rules for strings, identifiers and
// comments). Values never pass through here: they are always bound as parameters.

import { ErrorCode, RoomError } from "@meshagent/api";

/** Longest table or column name accepted (SQLite has no limit of its own). */
export const MAX_IDENTIFIER_LENGTH = 1024;

/** Longest encoded database file-name segment (file systems allow 255 bytes). */
const MAX_FILE_SEGMENT = 200;

/**
 * Quotes an SQL identifier: `"` + name with `"` doubled + `"`. Safe for any string without NUL.
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Checks a table or column name sent by a client and returns it.
 *
 * @throws {RoomError} 1002 when it is not a non-empty string without NUL of a sane length.
 */
export function checkIdentifier(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new RoomError(`${what} must be a non-empty string`, ErrorCode.INVALID_REQUEST);
  }
  if (value.includes("\0")) {
    throw new RoomError(`${what} must not contain NUL characters`, ErrorCode.INVALID_REQUEST);
  }
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw new RoomError(
      `${what} is ${value.length} characters long; the limit is ${MAX_IDENTIFIER_LENGTH}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return value;
}

const SAFE_FILE_CHAR = /[A-Za-z0-9_-]/;

/**
 * Encodes one database name or namespace segment as a file-name segment that cannot escape its
 * folder: `[A-Za-z0-9_-]` stay, every other UTF-8 byte becomes `~XX` (hex). No `.`, `/` or `\`
 * can appear, so the mapping is safe and reversible.
 *
 * @throws {RoomError} 1002 for empty names, NUL, or names too long for a file name.
 */
export function encodeFileSegment(name: string, what: string): string {
  if (name.length === 0) {
    throw new RoomError(`${what} must be a non-empty string`, ErrorCode.INVALID_REQUEST);
  }
  if (name.includes("\0")) {
    throw new RoomError(`${what} must not contain NUL characters`, ErrorCode.INVALID_REQUEST);
  }
  let out = "";
  for (const ch of name) {
    if (SAFE_FILE_CHAR.test(ch)) {
      out += ch;
    } else {
      for (const byte of new TextEncoder().encode(ch)) {
        out += "~" + byte.toString(16).toUpperCase().padStart(2, "0");
      }
    }
  }
  if (out.length > MAX_FILE_SEGMENT) {
    throw new RoomError(
      `${what} is too long (at most ${MAX_FILE_SEGMENT} bytes once encoded; ASCII letters, ` +
        `digits, "_" and "-" count one byte, anything else three per UTF-8 byte)`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return out;
}

/** Reverses {@linkcode encodeFileSegment}; null when the text is not an encoded segment. */
export function decodeFileSegment(segment: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === "~") {
      const hex = segment.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (SAFE_FILE_CHAR.test(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      return null;
    }
  }
  if (bytes.length === 0) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

/** Characters that start a run of whitespace in SQLite's tokenizer. */
const SPACE: ReadonlySet<string> = new Set([" ", "\t", "\n", "\f", "\r"]);

/**
 * Skips whitespace, `;` and comments from `index`; returns the index of the next token (or the
 * text length). An unterminated block comment runs to the end, as in SQLite.
 */
function skipBlank(text: string, index: number, skipSemicolons: boolean): number {
  let i = index;
  while (i < text.length) {
    const ch = text[i];
    // As node:sqlite does: a vertical tab continues a run of whitespace (it cannot start one),
    // and a byte-order mark is passed over where a statement starts. Text blank by these rules
    // prepares to a null statement, whose use crashes the process (found by fuzzing
    // RoomDatabase with "\uFEFF" and " \v" as queries: bench/fuzz.ts, target sqlite).
    if (SPACE.has(ch) || ch === "\uFEFF") {
      i++;
      while (i < text.length && (SPACE.has(text[i]) || text[i] === "\v")) i++;
    } else if (skipSemicolons && ch === ";") {
      i++;
    } else if (ch === "-" && text[i + 1] === "-") {
      const end = text.indexOf("\n", i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      break;
    }
  }
  return i;
}

/**
 * True when `text` holds no statement for SQLite: only whitespace, byte-order marks, `;` and
 * comments. (Preparing such text with `node:sqlite` yields a null statement, which must never be
 * used: reading it crashes the process. Text with a NUL must not be prepared at all: SQLite stops
 * reading there.)
 */
export function isBlankSql(text: string): boolean {
  return skipBlank(text, 0, true) >= text.length;
}

/** The first keyword of a statement, upper-cased ("" when there is none). */
export function leadingKeyword(sql: string): string {
  const start = skipBlank(sql, 0, true);
  const match = /^[A-Za-z_]+/.exec(sql.slice(start));
  return match ? match[0].toUpperCase() : "";
}

/**
 * Checks an SQL expression fragment sent by a client (a `where` string or an `expression`
 * value) before it is placed inside `( … )` of a statement the server builds: it must not close
 * that parenthesis early, end the statement (`;`) or leave a string, identifier or block comment
 * open. Line comments are allowed (the server ends the fragment with a newline).
 *
 * @returns null when it is fine, else what is wrong.
 */
export function fragmentProblem(fragment: string): string | null {
  let depth = 0;
  let i = 0;
  while (i < fragment.length) {
    const ch = fragment[i];
    if (ch === "'" || ch === '"' || ch === "`") {
      let j = i + 1;
      for (;;) {
        const end = fragment.indexOf(ch, j);
        if (end < 0) return `it has an unterminated ${ch} quote`;
        if (fragment[end + 1] === ch) {
          j = end + 2;
          continue;
        }
        i = end + 1;
        break;
      }
    } else if (ch === "[") {
      const end = fragment.indexOf("]", i + 1);
      if (end < 0) return "it has an unterminated [ identifier";
      i = end + 1;
    } else if (ch === "-" && fragment[i + 1] === "-") {
      const end = fragment.indexOf("\n", i + 2);
      i = end < 0 ? fragment.length : end + 1;
    } else if (ch === "/" && fragment[i + 1] === "*") {
      const end = fragment.indexOf("*/", i + 2);
      if (end < 0) return "it has an unterminated /* comment";
      i = end + 2;
    } else if (ch === ";") {
      return "it contains ';' (one expression only, not statements)";
    } else if (ch === "(") {
      depth++;
      i++;
    } else if (ch === ")") {
      depth--;
      if (depth < 0) return "it closes a parenthesis it did not open";
      i++;
    } else if (ch === "\0") {
      return "it contains a NUL character";
    } else {
      i++;
    }
  }
  if (depth !== 0) return "it leaves a parenthesis open";
  if (isBlankSql(fragment)) return "it is empty";
  return null;
}

/**
 * Checks a client SQL expression fragment and returns it.
 *
 * @throws {RoomError} 1002 naming the problem.
 */
export function checkFragment(fragment: string, what: string): string {
  const problem = fragmentProblem(fragment);
  if (problem !== null) {
    throw new RoomError(
      `${what} is not a valid SQL expression: ${problem}`,
      ErrorCode.INVALID_REQUEST,
    );
  }
  return fragment;
}
