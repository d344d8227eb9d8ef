// Private: the one output convention of every `meshagent` command, described as data.
//
// - A listing prints a table (a header, a rule, one line per row) on stdout, or one short
//   sentence when there is nothing to list; `--json` prints one JSON object per line instead
//   (nothing at all for an empty listing).
// - A single thing (`stat`, `inspect`, `size`) prints `key: value` lines; `--json` one object.
// - A change (`create`, `send`, `rm`) confirms in one sentence on stderr, so stdout stays empty
//   for scripts; `--json` prints one object on stdout that says what was done.
import type { Output } from "./output.ts";

/** One column of a table: its header and how to read a row's cell. */
export interface Column<T> {
  /** The header. */
  header: string;
  /** The cell text of a row (`null`/`undefined` print as `-`). */
  value(row: T): unknown;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/\r?\n/g, "\\n");
}

/**
 * Lays out rows of cells as a table: a header, a rule and one line per row, columns padded to
 * their widest cell (the last column is not padded).
 */
export function tableLines(headers: readonly string[], rows: readonly string[][]): string[] {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => row[i].length))
  );
  const line = (values: readonly string[]) =>
    values.map((value, i) => i === values.length - 1 ? value : value.padEnd(widths[i]))
      .join("  ");
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** How {@linkcode printList} prints. */
export interface ListFormat<T> {
  /** One JSON object per line instead of a table. */
  json?: boolean;
  /** The table's columns. */
  columns: readonly Column<T>[];
  /** The JSON object of a row (default: the row itself). */
  toJson?: (row: T) => unknown;
  /** The sentence printed instead of an empty table, e.g. "no queues in room demo". */
  empty: string;
  /** A line for stderr after a table, e.g. "3 rows". */
  summary?: string;
}

/**
 * Prints a listing as a table, a sentence when empty, or JSON lines.
 *
 * @param output Where to print.
 * @param rows The rows.
 * @param format How.
 */
export function printList<T>(output: Output, rows: readonly T[], format: ListFormat<T>): void {
  if (format.json) {
    for (const row of rows) output.out(JSON.stringify(format.toJson ? format.toJson(row) : row));
    return;
  }
  if (rows.length === 0) {
    output.out(format.empty);
    return;
  }
  const cells = rows.map((row) => format.columns.map((column) => cell(column.value(row))));
  for (const line of tableLines(format.columns.map((c) => c.header), cells)) output.out(line);
  if (format.summary) output.err(format.summary);
}

/**
 * Prints one thing as `key: value` lines, or one JSON object.
 *
 * @param output Where to print.
 * @param value The fields, in order.
 * @param json One JSON object instead.
 */
export function printObject(
  output: Output,
  value: Readonly<Record<string, unknown>>,
  json?: boolean,
): void {
  if (json) {
    output.out(JSON.stringify(value));
    return;
  }
  const width = Math.max(0, ...Object.keys(value).map((key) => key.length));
  for (const [key, v] of Object.entries(value)) {
    output.out(`${`${key}:`.padEnd(width + 1)} ${cell(v)}`);
  }
}

/**
 * Confirms a change: a sentence on stderr, or (with `json`) an object on stdout.
 *
 * @param output Where to print.
 * @param json Print the object instead of the sentence.
 * @param sentence What was done, in words.
 * @param value What was done, as data.
 */
export function printDone(
  output: Output,
  json: boolean | undefined,
  sentence: string,
  value: Readonly<Record<string, unknown>>,
): void {
  if (json) output.out(JSON.stringify(value));
  else output.err(sentence);
}

/** `1 row`, `2 rows`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
