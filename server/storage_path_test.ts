import assert from "node:assert/strict";
import { ErrorCode } from "@meshagent/api";
import {
  MAX_STORAGE_PATH_BYTES,
  MAX_STORAGE_SEGMENT_BYTES,
  normalizeStoragePath,
  RESERVED_STORAGE_NAME_PREFIX,
  StoragePathError,
} from "./storage_path.ts";

function rejects(path: unknown, messagePart: RegExp): void {
  assert.throws(
    () => normalizeStoragePath(path),
    (e: unknown) => {
      assert.ok(e instanceof StoragePathError, `expected a StoragePathError for ${String(path)}`);
      assert.equal(e.code, ErrorCode.STORAGE_INVALID_PATH);
      assert.equal(e.code, 3004);
      assert.match(e.message, messagePart);
      assert.equal(e.path, path);
      return true;
    },
  );
}

Deno.test("normalizeStoragePath strips leading ./ and / like the sync client", () => {
  assert.equal(normalizeStoragePath("a.txt"), "a.txt");
  assert.equal(normalizeStoragePath("./a.txt"), "a.txt");
  assert.equal(normalizeStoragePath("/a.txt"), "a.txt");
  assert.equal(normalizeStoragePath("././//./a.txt"), "a.txt");
  // §0.5: absolute paths are not rejected; they stay inside the room
  assert.equal(normalizeStoragePath("/etc/passwd"), "etc/passwd");
});

Deno.test("normalizeStoragePath collapses slashes, drops trailing / and . segments", () => {
  assert.equal(normalizeStoragePath("a//b///c"), "a/b/c");
  assert.equal(normalizeStoragePath("a/b/"), "a/b");
  assert.equal(normalizeStoragePath("a/./b/."), "a/b");
});

Deno.test("normalizeStoragePath maps the root spellings to the empty path", () => {
  for (const root of ["", ".", "./", "/", "//", "./.", "/./"]) {
    assert.equal(normalizeStoragePath(root), "", JSON.stringify(root));
  }
});

Deno.test("normalizeStoragePath keeps dot-folders, case and non-ASCII names", () => {
  assert.equal(normalizeStoragePath(".schemas/chat.json"), ".schemas/chat.json");
  assert.equal(normalizeStoragePath("Docs/README.md"), "Docs/README.md");
  assert.equal(normalizeStoragePath("données/été 😀.txt"), "données/été 😀.txt");
  assert.equal(normalizeStoragePath("...hidden"), "...hidden");
  assert.equal(normalizeStoragePath("a..b/c.."), "a..b/c..");
});

Deno.test("normalizeStoragePath rejects every .. segment", () => {
  rejects("..", /"\.\." segment/);
  rejects("../x", /"\.\." segment/);
  rejects("a/../../x", /"\.\." segment/);
  rejects("a/../b", /cannot go up/);
  rejects("/../etc/passwd", /"\.\." segment/);
  rejects("a/b/..", /"\.\." segment/);
});

Deno.test("normalizeStoragePath rejects NUL bytes and backslashes", () => {
  rejects("a\0b", /NUL/);
  rejects("\0", /NUL/);
  rejects("a\\b", /backslash/);
  rejects("..\\..\\windows", /backslash/);
  rejects("\\etc\\passwd", /backslash/);
});

Deno.test("normalizeStoragePath rejects lone surrogates and non-strings", () => {
  rejects("a\uD800b", /well-formed/);
  rejects(null, /must be a string, got null/);
  rejects(undefined, /must be a string, got undefined/);
  rejects(42, /must be a string, got number/);
  rejects(["a"], /must be a string/);
});

Deno.test("normalizeStoragePath rejects over-long names and paths", () => {
  const longest = "n".repeat(MAX_STORAGE_SEGMENT_BYTES);
  assert.equal(normalizeStoragePath(longest), longest);
  rejects("n".repeat(MAX_STORAGE_SEGMENT_BYTES + 1), /longer than 255 bytes/);
  // bytes, not characters: 128 two-byte characters are 256 bytes
  rejects("é".repeat(128), /longer than 255 bytes/);
  const deep = Array.from({ length: 10 }, () => "d".repeat(100)).join("/");
  assert.equal(normalizeStoragePath(deep), deep);
  const tooDeep = Array.from({ length: 11 }, () => "d".repeat(100)).join("/");
  assert.ok(tooDeep.length > MAX_STORAGE_PATH_BYTES);
  rejects(tooDeep, /longer than 1024 bytes/);
  // the limit applies after normalisation
  assert.equal(normalizeStoragePath("/".repeat(5000) + "a"), "a");
});

Deno.test("normalizeStoragePath reserves the server's internal names", () => {
  rejects(`${RESERVED_STORAGE_NAME_PREFIX}upload-123`, /reserved for the server/);
  rejects(`a/${RESERVED_STORAGE_NAME_PREFIX}x/b.txt`, /reserved/);
  assert.equal(normalizeStoragePath(".meshagent"), ".meshagent");
});
