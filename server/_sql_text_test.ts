import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { RoomError } from "@meshagent/api";
import { RoomDatabase } from "./room_database.ts";
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

Deno.test("isBlankSql is true exactly for the text that SQLite prepares to a null statement", () => {
  // Found by fuzzing RoomDatabase: "\uFEFF" or " \v" as a query prepared to a null statement,
  // and reading it crashed the process with a segmentation fault.
  assert.ok(isBlankSql("\uFEFF"));
  assert.ok(isBlankSql(" \v"));
  assert.ok(isBlankSql(";\uFEFF -- c"));
  assert.ok(!isBlankSql("\v"), "SQLite refuses a vertical tab that starts a token");
  assert.ok(!isBlankSql("\uFEFFSELECT 1"));
  // Every string of up to 3 characters from a hostile alphabet (NUL aside: SQL with a NUL is
  // refused before it is prepared): when SQLite prepares it without an error it holds no
  // statement, and isBlankSql must say so.
  const db = new DatabaseSync(":memory:");
  const alphabet = [" ", "\t", "\n", "\v", "\f", "\r", ";", "-", "/", "*", "\uFEFF", "'"];
  alphabet.push("\u00a0", "\u2028", "\u3000", "\x01", "\x1f", "\x7f", "x");
  let checked = 0;
  const visit = (text: string): void => {
    if (text.length > 0 && !/[a-z]/i.test(text)) {
      let prepared = true;
      try {
        db.prepare(text); // never used: a null statement must not be touched
      } catch {
        prepared = false;
      }
      // Without comments and byte-order marks (which this side calls blank in a few more
      // places than SQLite, where it refuses them as errors), both ways.
      if (prepared || !/[-/\uFEFF]/.test(text)) {
        assert.equal(isBlankSql(text), prepared, JSON.stringify(text));
      }
      checked++;
    }
    if (text.length < 3) { for (const ch of alphabet) visit(text + ch); }
  };
  visit("");
  db.close();
  assert.ok(checked > 5000);
});

Deno.test("a RoomDatabase refuses blank SQL by SQLite's rules instead of crashing", () => {
  const dir = Deno.makeTempDirSync();
  const db = new RoomDatabase({ dir });
  try {
    db.createDatabase({ name: "main" });
    for (const query of ["\uFEFF", " \v", "\0", "SELECT 1; \v"]) {
      const runs: ((request: { database: string; query: string }) => unknown)[] = [
        (r) => db.openSqlQuery(r),
        (r) => db.executeSql(r),
        (r) => db.executeSqlStatement(r),
      ];
      for (const run of runs) {
        try {
          const result = run({ database: "main", query });
          // "SELECT 1; \v" is one statement and a blank rest.
          assert.equal(query, "SELECT 1; \v", JSON.stringify(result));
        } catch (e) {
          assert.ok(e instanceof RoomError && e.code === 1002, String(e));
        }
      }
    }
  } finally {
    db.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
