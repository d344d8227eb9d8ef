import assert from "node:assert/strict";
import { expandThreadPath } from "./_thread_path_template.ts";

Deno.test("thread path tokens: exact-case short forms, any-case word aliases, unknown tokens kept", () => {
  const at = new Date(Date.UTC(2026, 2, 4, 5, 6, 7)); // 2026-03-04 05:06:07 UTC
  assert.equal(
    expandThreadPath("{YYYY}/{YY}-{MM}-{DD} {HH}:{mm}:{SS}", at),
    "2026/26-03-04 05:06:07",
  );
  assert.equal(
    expandThreadPath("{year}{yr}{Month}{mon}{day}{hour}{minute}{min}{second}{sec}{ss}", at),
    "202626030304050606070707",
  );
  assert.equal(expandThreadPath("{nope}/{mm}{MM}/{ {}", at), "{nope}/0603/{ {}");
});
