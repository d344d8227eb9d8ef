// Private: the entry of a room's document Worker (started by _document_engine_runner.ts). Once its
// modules are loaded it posts `{ready: true}`; then it answers each message `{id, op, args}` with
// `{id, result}` or `{id, error: {message, code}}`, in the order received, with a DocumentEngine
// of its own. The buffers of a result are transferred, not copied: the engine never returns one
// it keeps.
import {
  DocumentEngine,
  engineErrorOf,
  type EngineOp,
  transferablesOf,
} from "./_document_engine.ts";

/** What a worker's global scope offers (typed here: the window types are the workspace's). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<{ id: number; op: EngineOp; args: never }>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
const engine = new DocumentEngine();

scope.onmessage = (event) => {
  const { id, op, args } = event.data;
  let result: unknown;
  try {
    result = engine.run(op, args);
  } catch (error) {
    scope.postMessage({ id, error: engineErrorOf(error) });
    return;
  }
  scope.postMessage({ id, result }, transferablesOf(op, result as never));
};
scope.postMessage({ ready: true });
