import assert from "node:assert/strict";
import {
  decodeFileSegment,
  encodeFileSegment,
  fragmentProblem,
  isBlankSql,
  leadingKeyword,
  quoteIdent,
} from "./_sql_text.ts";

Deno.test("quoteIdent doubles double quotes", () => {
  assert.equal(quoteIdent("plain"), '"plain"');
  assert.equal(quoteIdent('a"b'), '"a""b"');
  assert.equal(quoteIdent('"; DROP TABLE x; --'), '"""; DROP TABLE x; --"');
});

Deno.test("encodeFileSegment keeps safe characters, escapes the rest, and round trips", () => {
  assert.equal(encodeFileSegment("main_db-1", "name"), "main_db-1");
  assert.equal(encodeFileSegment("../x", "name"), "~2E~2E~2Fx");
  assert.equal(encodeFileSegment("é", "name"), "~C3~A9");
  for (const name of ["../x", "a/b\\c", "~", "..", "ünï ✓", "a.sqlite", "x".repeat(128)]) {
    const encoded = encodeFileSegment(name, "name");
    assert.match(encoded, /^[A-Za-z0-9_~-]+$/);
    assert.equal(decodeFileSegment(encoded), name);
  }
  assert.equal(decodeFileSegment("bad.name"), null);
  assert.equal(decodeFileSegment("~ZZ"), null);
  assert.equal(decodeFileSegment("~C3"), null); // not UTF-8
  assert.throws(() => encodeFileSegment("", "name"), /non-empty/);
  assert.throws(() => encodeFileSegment("x".repeat(201), "name"), /too long/);
});

Deno.test("isBlankSql and leadingKeyword skip whitespace, semicolons and comments", () => {
  assert.ok(isBlankSql(""));
  assert.ok(isBlankSql(" ;\n; -- c\n/* block */"));
  assert.ok(isBlankSql("/* unterminated"));
  assert.ok(!isBlankSql("-- c\nSELECT 1"));
  assert.equal(leadingKeyword("  /* x */ -- y\n vacuum into 'f'"), "VACUUM");
  assert.equal(leadingKeyword("; select 1"), "SELECT");
  assert.equal(leadingKeyword("(select 1)"), "");
});

Deno.test("fragmentProblem accepts expressions and refuses anything that escapes them", () => {
  for (
    const ok of [
      "id = 1",
      "name = 'it''s; fine)'",
      '"odd)col" = 2',
      "[x)] > 0",
      "`b(` IS NULL",
      "a IN (1, (2), 3) -- trailing comment",
      "x = 1 /* ; ) */",
      "blob = X'00FF'",
    ]
  ) {
    assert.equal(fragmentProblem(ok), null, ok);
  }
  const bad: [string, RegExp][] = [
    ["1) OR (1", /did not open/],
    ["1; DROP TABLE t", /;/],
    ["(1", /open/],
    ["'open", /quote/],
    ['"open', /quote/],
    ["[open", /identifier/],
    ["1 /* open", /comment/],
    ["", /empty/],
    ["  -- only a comment", /empty/],
    ["a\0b", /NUL/],
  ];
  for (const [fragment, pattern] of bad) {
    assert.match(fragmentProblem(fragment) ?? "", pattern, fragment);
  }
});
