// Private: the signal long-running commands stop on when the program gives them none.

/**
 * A signal aborted by SIGINT or SIGTERM (where the platform has them).
 *
 * @returns The signal.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(name, stop);
    } catch { /* not available here */ }
  }
  return controller.signal;
}
