// Private test helper: Yjs v1 updates a hostile participant can send in one sync chunk, encoded by
// hand (the bytes `Y.encodeStateAsUpdate` gives for the same changes), so that building one
// leaves no big Y.Doc in the sender's process: tests and benchmarks run the server in-process
// and measure its event loop meanwhile.

/** Writes Yjs v1 (lib0) varuints and strings into a buffer. */
class Writer {
  readonly out: Uint8Array;
  at = 0;

  constructor(size: number) {
    this.out = new Uint8Array(size);
  }

  uint(n: number): void {
    while (n > 127) {
      this.out[this.at++] = (n & 127) | 128;
      n = Math.floor(n / 128);
    }
    this.out[this.at++] = n;
  }

  ascii(s: string): void {
    this.uint(s.length);
    for (let i = 0; i < s.length; i++) this.out[this.at++] = s.charCodeAt(i);
  }

  bytes(): Uint8Array {
    return this.out.subarray(0, this.at);
  }
}

/**
 * An update from a new client that sets `keys` attributes `k<i>` (string values) on the root
 * element `xml` in one transaction: 200,000 keys are 4.4 MB, which Yjs takes over a second to
 * integrate, after which the sync toolkit's schema check refuses it (undeclared attributes).
 */
export function hostileAttributesUpdate(keys: number, client = 0x7ee17ee1): Uint8Array {
  const w = new Writer(keys * 32 + 64);
  w.uint(1); // one client
  w.uint(keys); // its structs
  w.uint(client);
  w.uint(0); // from clock 0
  for (let i = 0; i < keys; i++) {
    w.out[w.at++] = 8 | 0x20; // an item: ContentAny, with a parentSub, no origins
    w.uint(1); // its parent is a root type, by name
    w.ascii("xml");
    w.ascii(`k${i}`); // the attribute
    w.uint(1); // one value: a string
    w.out[w.at++] = 119;
    w.ascii(String(i));
  }
  w.uint(0); // no deletions
  return w.bytes();
}

/**
 * An update of `count` one-character insertions into the root element `xml`, each by a client of
 * its own (ids `first`, `first + 1`, …) and all at the same place (no origins). Yjs integrates
 * concurrent insertions at one place in descending client order, so each of these passes over
 * every earlier one by a smaller client id: after `concurrentInsertsUpdate(1, n)`, applying
 * `concurrentInsertsUpdate(n + 1, n)` takes time that grows with n² (measured: 5,000 after 5,000
 * take 3 s, 20,000 after 20,000 (260 KB) over a minute).
 */
export function concurrentInsertsUpdate(first: number, count: number): Uint8Array {
  const w = new Writer(count * 16 + 64);
  w.uint(count); // clients
  for (let client = first + count - 1; client >= first; client--) {
    w.uint(1); // one struct
    w.uint(client);
    w.uint(0); // clock 0
    w.out[w.at++] = 4; // an item: ContentString, no parentSub, no origins
    w.uint(1); // its parent is a root type, by name
    w.ascii("xml");
    w.ascii("x");
  }
  w.uint(0); // no deletions
  return w.bytes();
}
