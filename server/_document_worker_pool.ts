// Private: the Workers that run rooms' DocumentEngines (see _document_engine_runner.ts), and the
// few idle ones kept for the next room.
//
// A new worker costs its room's first document open about 100-250 ms: the isolate, loading Yjs
// and @meshagent/api, and running Yjs' code cold. So a room that is done with its worker (it
// ended, or had no document open for a while) hands it back here, emptied, instead of stopping it;
// the next room that needs one takes it, with its code already warm. A worker serves one room at
// a time, so rooms stay isolated from each other; one that was stopped at the time limit or failed
// is never kept. Idle workers are stopped after a while, and when a RoomServer shuts down.

const ENTRY = new URL("./_document_engine_entry.ts", import.meta.url).href;

/** [impl] At most this many idle workers are kept (a room's burst of closes keeps a couple warm). */
export const IDLE_DOCUMENT_WORKERS = 2;
/** [impl] How long an idle worker is kept, in milliseconds (its memory is returned after). */
export const IDLE_DOCUMENT_WORKER_MS = 30_000;

interface Idle {
  worker: Worker;
  /** True once it answered the `clear` that emptied it. */
  cleared: boolean;
  timer: ReturnType<typeof setTimeout>;
}

const idle: Idle[] = [];
let live = 0;

/** How many document workers are running in this process, idle ones included (for tests). */
export function liveDocumentWorkers(): number {
  return live;
}

/** How many idle document workers are kept (for tests). */
export function idleDocumentWorkers(): number {
  return idle.length;
}

/**
 * A worker for a room: an idle one (ready, its engine empty) if there is one, else a new one
 * (which posts `{ready: true}` once its modules are loaded).
 */
export function takeDocumentWorker(name: string): { worker: Worker; ready: boolean } {
  const i = idle.findIndex((entry) => entry.cleared);
  if (i >= 0) {
    const [entry] = idle.splice(i, 1);
    clearTimeout(entry.timer);
    entry.worker.onmessage = null;
    entry.worker.onerror = null;
    return { worker: entry.worker, ready: true };
  }
  live++;
  return { worker: new Worker(ENTRY, { type: "module", name }), ready: false };
}

/** Stops a worker. */
export function stopDocumentWorker(worker: Worker): void {
  worker.terminate();
  live--;
}

/**
 * Takes back a worker its room is done with (no call of its own pending, its modules loaded): it
 * is emptied and kept for the next room, or stopped when enough are kept.
 */
export function releaseDocumentWorker(worker: Worker): void {
  if (idle.length >= IDLE_DOCUMENT_WORKERS) return stopDocumentWorker(worker);
  const drop = () => {
    const i = idle.indexOf(entry);
    if (i < 0) return;
    idle.splice(i, 1);
    clearTimeout(entry.timer);
    stopDocumentWorker(worker);
  };
  const entry: Idle = { worker, cleared: false, timer: setTimeout(drop, IDLE_DOCUMENT_WORKER_MS) };
  // It never keeps a process alive by itself.
  (entry.timer as { unref?: () => void }).unref?.();
  worker.onmessage = (event: MessageEvent<{ id?: number }>) => {
    if (event.data?.id === 0) entry.cleared = true;
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    drop();
  };
  idle.push(entry);
  worker.postMessage({ id: 0, op: "clear", args: {} });
}

/** Stops every idle worker (a RoomServer that shuts down calls it). */
export function stopIdleDocumentWorkers(): void {
  for (const entry of idle.splice(0)) {
    clearTimeout(entry.timer);
    stopDocumentWorker(entry.worker);
  }
}
