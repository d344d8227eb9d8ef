// Private test helper: starts hostile_sender.ts (a hostile participant in a process of its own)
// and follows what it prints.

const SENDER = new URL("./hostile_sender.ts", import.meta.url).pathname;

/** The answer the hostile participant got for its update. */
export interface HostileAnswer {
  ok?: true;
  code?: number;
  message?: string;
}

/** A running hostile participant, its document open and its update built. */
export interface HostileSender {
  /** Sends the update; resolves once it is handed to the socket. */
  send(): Promise<void>;
  /** The update's answer. */
  readonly answer: Promise<HostileAnswer>;
  /** Ends the process. */
  close(): Promise<void>;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Starts a hostile participant that opens `path` in the room and builds an update of `keys`
 * root attributes (see `hostileAttributesUpdate`).
 *
 * @returns Once it is ready to send.
 */
export async function startHostileSender(
  url: string,
  token: string,
  path: string,
  keys: number,
): Promise<HostileSender> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SENDER, url, token, path, String(keys)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const ready = deferred<void>();
  const sent = deferred<void>();
  const answer = deferred<HostileAnswer>();
  const reading = (async () => {
    let buffered = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line === "ready") ready.resolve();
        else if (line === "sent") sent.resolve();
        else if (line.startsWith("{")) answer.resolve(JSON.parse(line));
      }
    }
    const gone = new Error("the hostile sender exited");
    ready.reject(gone);
    sent.reject(gone);
    answer.reject(gone);
  })();
  const writer = child.stdin.getWriter();
  const close = async () => {
    await writer.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await reading;
  };
  const timer = setTimeout(
    () => ready.reject(new Error("the hostile sender is not ready")),
    60_000,
  );
  try {
    await ready.promise;
  } catch (e) {
    await close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return {
    async send() {
      await writer.write(new TextEncoder().encode("go\n"));
      await sent.promise;
    },
    answer: answer.promise,
    close,
  };
}
