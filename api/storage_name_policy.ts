/**
 * The characters room storage names may not hold, shared by the server's storage paths and the
 * storage toolkit's local mounts.
 *
 * [impl] The protocol is silent on names beyond `..`, NUL and backslash (protocol-data §0.5).
 * Names are shown in listings, logs and terminals, so characters that change how the text
 * around them is displayed are refused: a newline makes one file look like two lines of a
 * listing, and a right-to-left override turns `invoice\u202Efdp.exe` into what reads as
 * `invoiceexe.pdf`. Refused are every control character (C0 U+0000–U+001F, DEL U+007F and C1
 * U+0080–U+009F), the line and paragraph separators U+2028/U+2029, and the bidirectional
 * formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069). Everything else
 * is kept byte for byte: letters of any script, emoji, and the joiners U+200C/U+200D that emoji
 * sequences and several scripts need.
 *
 * @module
 */

/** One range of refused characters and what they are. */
interface RefusedRange {
  readonly from: number;
  readonly to: number;
  /** What the characters are, after "a" in a message. */
  readonly kind: string;
}

/** The refused characters, as data: the detector and the messages are made from it. */
const REFUSED: readonly RefusedRange[] = [
  { from: 0x0000, to: 0x001f, kind: "control character (C0)" },
  { from: 0x007f, to: 0x007f, kind: "control character (DEL)" },
  { from: 0x0080, to: 0x009f, kind: "control character (C1)" },
  { from: 0x061c, to: 0x061c, kind: "bidirectional formatting character" },
  { from: 0x200e, to: 0x200f, kind: "bidirectional formatting character" },
  { from: 0x2028, to: 0x2029, kind: "line or paragraph separator" },
  { from: 0x202a, to: 0x202e, kind: "bidirectional formatting character" },
  { from: 0x2066, to: 0x2069, kind: "bidirectional formatting character" },
];

/** Unicode names of the refused characters people meet most, for the messages. */
const NAMES: Readonly<Record<number, string>> = {
  0x09: "CHARACTER TABULATION",
  0x0a: "LINE FEED",
  0x0d: "CARRIAGE RETURN",
  0x1b: "ESCAPE",
  0x7f: "DELETE",
  0x85: "NEXT LINE",
  0x061c: "ARABIC LETTER MARK",
  0x200e: "LEFT-TO-RIGHT MARK",
  0x200f: "RIGHT-TO-LEFT MARK",
  0x2028: "LINE SEPARATOR",
  0x2029: "PARAGRAPH SEPARATOR",
  0x202a: "LEFT-TO-RIGHT EMBEDDING",
  0x202b: "RIGHT-TO-LEFT EMBEDDING",
  0x202c: "POP DIRECTIONAL FORMATTING",
  0x202d: "LEFT-TO-RIGHT OVERRIDE",
  0x202e: "RIGHT-TO-LEFT OVERRIDE",
  0x2066: "LEFT-TO-RIGHT ISOLATE",
  0x2067: "RIGHT-TO-LEFT ISOLATE",
  0x2068: "FIRST STRONG ISOLATE",
  0x2069: "POP DIRECTIONAL ISOLATE",
};

const hex = (codePoint: number) => codePoint.toString(16).toUpperCase().padStart(4, "0");
const escape = (codePoint: number) => `\\u${hex(codePoint)}`;

/** Matches any refused character (built from {@linkcode REFUSED}). */
const REFUSED_PATTERN = new RegExp(
  `[${
    REFUSED.map((r) => r.from === r.to ? escape(r.from) : `${escape(r.from)}-${escape(r.to)}`)
      .join("")
  }]`,
  "gu",
);

/** A refused character found in a storage path. */
export interface StorageNameViolation {
  /** The first refused character's code point, e.g. `0x202e`. */
  readonly codePoint: number;
  /** Its index (UTF-16 code units) in the path. */
  readonly index: number;
  /** `U+202E RIGHT-TO-LEFT OVERRIDE`: the code point, and its name when it is a common one. */
  readonly character: string;
  /**
   * What to tell the user: the path with every refused character shown as `\uXXXX`, the
   * character and what it is, and what to do.
   */
  readonly message: string;
}

/**
 * Finds the first character that room storage names may not hold: a control character (C0,
 * DEL, C1), a line or paragraph separator (U+2028, U+2029), or a bidirectional formatting
 * character (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
 *
 * @param path A storage path or a single name.
 * @returns The violation, or `undefined` when the path holds none of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storageNameViolation } from "@meshagent/api";
 * assert.equal(storageNameViolation("reports/été 日本 🎉.txt"), undefined);
 * const v = storageNameViolation("invoice\u202Efdp.exe");
 * assert.equal(v?.codePoint, 0x202e);
 * assert.match(v!.message, /U\+202E RIGHT-TO-LEFT OVERRIDE/);
 * assert.match(v!.message, /"invoice\\u202Efdp\.exe"/);
 * ```
 */
export function storageNameViolation(path: string): StorageNameViolation | undefined {
  REFUSED_PATTERN.lastIndex = 0;
  const match = REFUSED_PATTERN.exec(path);
  if (!match) return undefined;
  const codePoint = match[0].codePointAt(0)!;
  const range = REFUSED.find((r) => codePoint >= r.from && codePoint <= r.to)!;
  const name = NAMES[codePoint];
  const character = `U+${hex(codePoint)}${name ? ` ${name}` : ""}`;
  const shown = path.replace(REFUSED_PATTERN, (c) => escape(c.codePointAt(0)!));
  const why = range.kind.startsWith("control")
    ? "names cannot hold control characters"
    : "it can make a name look like another one in listings";
  return {
    codePoint,
    index: match.index,
    character,
    message: `the storage path "${truncate(shown)}" contains ${character}, a ${range.kind}: ` +
      `${why}; remove it`,
  };
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
