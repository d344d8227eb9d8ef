// Private: time tokens in a queue item's `path` (agents.md §2.7, official queue_channel.py), e.g.
// `reports/{YYYY}-{MM}-{DD}.thread`. Times are UTC.

type Part = "year" | "shortYear" | "month" | "day" | "hour" | "minute" | "second";

/** Tokens matched exactly as written: `MM` is the month and `mm` the minute. */
const EXACT: Readonly<Record<string, Part>> = {
  YYYY: "year",
  YY: "shortYear",
  MM: "month",
  DD: "day",
  HH: "hour",
  mm: "minute",
  SS: "second",
  ss: "second",
};

/** Unambiguous word aliases, matched in any case (`{year}`, `{Month}`, `{MIN}`…). */
const ALIASES: Readonly<Record<string, Part>> = {
  YYYY: "year",
  YEAR: "year",
  YY: "shortYear",
  YR: "shortYear",
  MONTH: "month",
  MON: "month",
  DD: "day",
  DAY: "day",
  HH: "hour",
  HOUR: "hour",
  MINUTE: "minute",
  MIN: "minute",
  SS: "second",
  SECOND: "second",
  SEC: "second",
};

const TOKEN = /\{([^{}]+)\}/g;

function parts(now: Date): Record<Part, string> {
  const pad = (n: number) => String(n).padStart(2, "0");
  const year = String(now.getUTCFullYear()).padStart(4, "0");
  return {
    year,
    shortYear: year.slice(-2),
    month: pad(now.getUTCMonth() + 1),
    day: pad(now.getUTCDate()),
    hour: pad(now.getUTCHours()),
    minute: pad(now.getUTCMinutes()),
    second: pad(now.getUTCSeconds()),
  };
}

/**
 * Replaces the time tokens of a thread path with the current UTC time; unknown `{…}` stay as
 * they are.
 */
export function expandThreadPath(template: string, now: Date = new Date()): string {
  const values = parts(now);
  return template.replace(TOKEN, (whole, token: string) => {
    const part = EXACT[token] ?? ALIASES[token.toUpperCase()];
    return part === undefined ? whole : values[part];
  });
}
