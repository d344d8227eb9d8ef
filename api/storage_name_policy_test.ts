import assert from "node:assert/strict";
import { storageNameViolation } from "./storage_name_policy.ts";

Deno.test("storage name policy: every control and bidirectional formatting character is refused", () => {
  const refused = [
    ...Array.from({ length: 0x20 }, (_, i) => i), // C0
    0x7f, // DEL
    ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i), // C1
    0x061c,
    0x200e,
    0x200f,
    0x2028,
    0x2029,
    0x202a,
    0x202b,
    0x202c,
    0x202d,
    0x202e,
    0x2066,
    0x2067,
    0x2068,
    0x2069,
  ];
  for (const codePoint of refused) {
    const name = `a${String.fromCodePoint(codePoint)}b.txt`;
    const v = storageNameViolation(`docs/${name}`);
    const hex = codePoint.toString(16).toUpperCase().padStart(4, "0");
    assert.equal(v?.codePoint, codePoint, hex);
    assert.equal(v.index, 6);
    assert.ok(v.character.startsWith(`U+${hex}`), v.character);
    // The message shows the character escaped: it cannot disguise the message itself.
    assert.ok(v.message.includes(`"docs/a\\u${hex}b.txt"`), v.message);
    assert.ok(!v.message.includes(String.fromCodePoint(codePoint)), v.message);
  }
  const rlo = storageNameViolation("invoice\u202Efdp.exe")!;
  assert.equal(
    rlo.message,
    'the storage path "invoice\\u202Efdp.exe" contains U+202E RIGHT-TO-LEFT OVERRIDE, a ' +
      "bidirectional formatting character: it can make a name look like another one in " +
      "listings; remove it",
  );
  assert.match(storageNameViolation("a\nb")!.message, /U\+000A LINE FEED, a control character/);
  // Only the first is reported, but every one is shown escaped.
  const two = storageNameViolation("x\u2066y\nz")!;
  assert.equal(two.codePoint, 0x2066);
  assert.ok(two.message.includes('"x\\u2066y\\u000Az"'), two.message);
});

Deno.test("storage name policy: letters of any script, emoji and joiners pass", () => {
  for (
    const name of [
      "plain.txt",
      "été/naïve café.md",
      "日本語/資料.pdf",
      "עברית.txt", // right-to-left letters are text, not formatting characters
      "العربية.txt",
      "🎉 party.txt",
      "family 👨‍👩‍👧.png", // U+200D ZERO WIDTH JOINER
      "flag 🏳️‍🌈.png", // U+FE0F VARIATION SELECTOR-16
      "नमस्ते.txt",
      "tab-free name with spaces",
      "a\u00a0b", // NO-BREAK SPACE is not a control character
    ]
  ) {
    assert.equal(storageNameViolation(name), undefined, name);
  }
});
