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
 * An update of `items` single-character insertions into the root element `xml`, each from a
 * client of its own and all at the same place (no origins), so Yjs' conflict resolution compares
 * each with the ones before it: the time to apply grows with the square of `items` (20,000 items
 * are 0.3 MB and take about 0.25 s; a 16 MiB message could hold a million, about ten minutes).
 */
export function concurrentInsertsUpdate(items: number): Uint8Array {
  const w = new Writer(items * 16 + 64);
  w.uint(items); // clients
  // Yjs writes clients in descending id order; ids 1..items.
  for (let client = items; client >= 1; client--) {
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
