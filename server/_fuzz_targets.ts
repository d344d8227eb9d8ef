// Private: every fuzz target, one row each (run by server/_fuzz_targets_test.ts in CI and by
// bench/fuzz.ts for long runs; seed corpora in server/testdata/fuzz/<name>.json).
import type { FuzzTarget } from "./_fuzz_runner.ts";
import { framesTarget, packingTarget } from "./_fuzz_codec_targets.ts";
import { connectionTarget } from "./_fuzz_connection_target.ts";
import { sqliteTarget } from "./_fuzz_sqlite_target.ts";

/** Every fuzz target. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  framesTarget,
  packingTarget,
  connectionTarget(),
  sqliteTarget,
];
