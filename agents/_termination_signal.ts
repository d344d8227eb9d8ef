// Deno-only: SIGTERM/SIGINT as an AbortSignal, for SingleRoomAgent.run(). On other runtimes (a
// browser, Deno Deploy) there is nothing to listen to and the returned signal never aborts.

/** A signal that aborts on SIGTERM or SIGINT, and a function that removes the listeners. */
export interface TerminationSignal {
  /** Aborts (with the signal's name as reason) when the process is asked to stop. */
  readonly signal: AbortSignal;
  /** Removes the OS signal listeners. Safe to call more than once. */
  dispose(): void;
}

interface DenoSignals {
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** Listens for SIGTERM and SIGINT while the returned value is not disposed. */
export function listenForTermination(): TerminationSignal {
  const controller = new AbortController();
  const deno = (globalThis as { Deno?: DenoSignals }).Deno;
  const installed: [string, () => void][] = [];
  if (deno && typeof deno.addSignalListener === "function") {
    for (const name of SIGNALS) {
      const handler = () => controller.abort(name);
      try {
        deno.addSignalListener(name, handler);
        installed.push([name, handler]);
      } catch {
        // Not supported here (e.g. SIGTERM on Windows), or no permission: nothing to listen to.
      }
    }
  }
  return {
    signal: controller.signal,
    dispose() {
      for (const [name, handler] of installed.splice(0)) {
        try {
          deno!.removeSignalListener(name, handler);
        } catch {
          // removed already
        }
      }
    },
  };
}
