/** Options of {@linkcode syncToolkit}: where a room's Yjs work runs, and its time limit. */
export interface SyncToolkitOptions {
  /**
   * Where the room's Yjs work runs (decoding, applying and checking updates, encoding states,
   * compaction, document JSON): `worker` (default) in a Deno Worker of the room's own, taken on
   * first use and handed back when the room ends or has had no document open for
   * `workerIdleMs` (kept warm for the next room a while, then stopped), so a huge or crafted
   * update stalls that room's documents only; `inline` on the server's event loop (no time
   * limit; for benchmarks and tests that compare the two, and embedders that cannot start
   * workers).
   */
  isolation?: "worker" | "inline";
  /**
   * The longest one piece of a room's document work (one update, a load, a compaction) may
   * take, in milliseconds (default 10000; 0: none). Past it the room's worker is stopped: an
   * update is refused with error 1009, the room's open documents are loaded again from storage
   * and the log in a new worker, and the work that waited behind it then runs there. `worker`
   * isolation only.
   */
  timeLimitMs?: number;
  /**
   * How long a room keeps its worker with no document open, in milliseconds (default 30000).
   */
  workerIdleMs?: number;
}
