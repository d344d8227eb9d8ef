import assert from "node:assert/strict";
import { pythonJsonDumps, pythonJsonRedump } from "./python_json.ts";

// Expected texts printed by CPython 3's json.dumps for the same values.
const DUMPS: [unknown, string][] = [
  [
    {
      event: "room.call",
      data: {
        room_name: "démo",
        room_url: "ws://127.0.0.1/rooms/démo",
        token: "eyJ.a.b",
        arguments: { q: "a/b", emoji: "😀", ctl: "\x00\x1f\x7f", esc: '"\\\n\r\t\b\f' },
      },
    },
    '{"event": "room.call", "data": {"room_name": "d\\u00e9mo", "room_url": ' +
    '"ws://127.0.0.1/rooms/d\\u00e9mo", "token": "eyJ.a.b", "arguments": {"q": "a/b", ' +
    '"emoji": "\\ud83d\\ude00", "ctl": "\\u0000\\u001f\\u007f", "esc": "\\"\\\\\\n\\r\\t\\b\\f"}}}',
  ],
  [
    [0.1, 1e-7, 1.25e-10, 123.5, 2.5e-5, 0.0001, 12345678.9, 1e15 + 0.5, -3.75],
    "[0.1, 1e-07, 1.25e-10, 123.5, 2.5e-05, 0.0001, 12345678.9, 1000000000000000.5, -3.75]",
  ],
  [
    { nested: [[], {}, [{ a: null, b: true, c: false }]], int: 9007199254740991, neg: -12 },
    '{"nested": [[], {}, [{"a": null, "b": true, "c": false}]], "int": 9007199254740991, ' +
    '"neg": -12}',
  ],
];

Deno.test("pythonJsonDumps writes what CPython's json.dumps writes", () => {
  for (const [value, expected] of DUMPS) assert.equal(pythonJsonDumps(value), expected);
});

Deno.test("pythonJsonDumps refuses what is not JSON", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.throws(() => pythonJsonDumps(cycle), TypeError);
  assert.throws(() => pythonJsonDumps({ n: 1n }), TypeError);
});

Deno.test("pythonJsonRedump is json.dumps(json.loads(text)): key order, big ints, floats", () => {
  assert.equal(
    pythonJsonRedump(
      '{"b":1,"1":2.50,"big":12345678901234567890,"dup":1,"x":[1E5, -0, 1.0],"dup":2}',
    ),
    '{"b": 1, "1": 2.5, "big": 12345678901234567890, "dup": 2, "x": [100000.0, 0, 1.0]}',
  );
  assert.equal(pythonJsonRedump('  [ "\\u00e9\\/" , 1e-7 ]  '), '["\\u00e9/", 1e-07]');
  // A fixed point for every text pythonJsonDumps writes.
  for (const [, text] of DUMPS) assert.equal(pythonJsonRedump(text), text);
});

Deno.test("pythonJsonRedump refuses text that is not JSON", () => {
  for (const bad of ["", "{", '{"a":}', "[1,]", "tru", '"\u0001"', "1 2", "{'a':1}"]) {
    assert.throws(() => pythonJsonRedump(bad), SyntaxError, bad);
  }
});
