// Deno-only: hands memory that a flood of input left behind back to the system.
//
// Why: socket reads arrive in buffers of up to 64 KiB from the C heap. After a flood (60 sockets
// sending a GiB between them) those buffers are garbage, but an idle process may not collect
// them for a long time, and glibc keeps the pages of what it frees: the RSS stayed 60-100 MB
// above where it started (bench/README.md). A full GC frees the buffers (and lets V8 shrink its
// heap), and glibc's `malloc_trim` returns the freed pages; with both it came back within 10 MB.
import v8 from "node:v8";
import vm from "node:vm";

const LIBC = "libc.so.6";
const SYMBOLS = { malloc_trim: { parameters: ["usize"], result: "i32" } } as const;
/** Unknown until the first call; false when this process cannot trim. */
let canTrim: boolean | undefined;
/** V8's `gc`, made on first use; null when it cannot be had. */
let collect: (() => void) | null | undefined;

/**
 * Runs a full garbage collection and then glibc's `malloc_trim(0)`, each if it can: the GC
 * through `--expose-gc` set at run time (the function comes from a new `node:vm` context, so
 * nothing is added to this one), the trim on Linux with glibc and the ffi permission granted.
 * It pauses the event loop for the length of a full GC (milliseconds to tens of milliseconds).
 *
 * @returns What ran.
 */
export function releaseMemory(): { collected: boolean; trimmed: boolean } {
  if (collect === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      const gc = vm.runInNewContext("gc");
      collect = typeof gc === "function" ? gc as () => void : null;
    } catch {
      collect = null;
    }
  }
  collect?.();
  return { collected: collect !== null, trimmed: mallocTrim() };
}

function mallocTrim(): boolean {
  if (canTrim === undefined) {
    try {
      canTrim = Deno.build.os === "linux" &&
        Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    } catch {
      canTrim = false;
    }
  }
  if (!canTrim) return false;
  let library: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    library = Deno.dlopen(LIBC, SYMBOLS);
  } catch {
    canTrim = false; // not glibc (musl has no malloc_trim)
    return false;
  }
  try {
    library.symbols.malloc_trim(0n);
    return true;
  } finally {
    library.close();
  }
}
