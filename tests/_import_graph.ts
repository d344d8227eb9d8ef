// The workspace's import graph, read from `deno info --json`, and the loops in it: files that
// import each other (directly or around a circle) and packages whose imports — tests included —
// come back to themselves. `tests/import_graph_test.ts` fails on either; run this file to print
// them: `deno run --allow-read --allow-write --allow-run tests/_import_graph.ts`.

/** File → the files it imports (both relative to the repository root). */
export type ImportGraph = ReadonlyMap<string, ReadonlySet<string>>;

/** One loop: the files (or packages) around it, and for a package loop the file import behind each step. */
export interface ImportLoop {
  /** The loop's nodes in import order; the last imports the first. */
  readonly nodes: readonly string[];
  /** Every node of the tangle the loop belongs to (more than `nodes` when circles overlap). */
  readonly tangle: readonly string[];
  /** Package loops only: per step `nodes[i] → nodes[i + 1]`, one file import that makes it. */
  readonly because?: readonly string[];
}

const SOURCE = /\.(ts|tsx|mts|js|mjs|jsx)$/;
const SKIPPED_DIRS = new Set(["node_modules", "dist", "coverage"]);

/** The repository root (the folder above `tests/`). */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/**
 * Every source file under `root`, skipping hidden folders, node_modules, dist and coverage.
 *
 * @param root Absolute path of the repository.
 * @returns Paths relative to `root`, sorted.
 */
export async function sourceFiles(root: string = ROOT): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(root + dir)) {
      if (entry.name.startsWith(".")) continue;
      const path = dir + entry.name;
      if (entry.isDirectory && !SKIPPED_DIRS.has(entry.name)) await walk(path + "/");
      else if (entry.isFile && SOURCE.test(entry.name)) found.push(path);
    }
  }
  await walk("");
  return found.sort();
}

interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier?: string };
    type?: { specifier?: string };
  }[];
}

/**
 * Reads the import graph of `files` (value and type imports, static and dynamic) from one
 * `deno info --json` over a root module that imports them all.
 *
 * @param files Paths relative to `root`.
 * @param root Absolute path of the repository (its deno.json resolves the imports).
 * @returns The graph, restricted to files under `root`.
 */
export async function readImportGraph(
  files: readonly string[],
  root: string = ROOT,
): Promise<ImportGraph> {
  const prefix = new URL(root, "file:///").href;
  const dir = await Deno.makeTempDir({ prefix: "import_graph_" });
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(
      entry,
      files.map((file) => `import ${JSON.stringify(prefix + file)};\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", `${root}deno.json`, entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const graph = new Map<string, Set<string>>();
    for (const module of info.modules) {
      if (!module.specifier.startsWith(prefix)) continue;
      const deps = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          if (target?.startsWith(prefix)) deps.add(decodeURI(target.slice(prefix.length)));
        }
      }
      graph.set(decodeURI(module.specifier.slice(prefix.length)), deps);
    }
    for (const [file, deps] of graph) {
      for (const dep of await docExampleImports(file, root)) if (graph.has(dep)) deps.add(dep);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A relative import in a JSDoc example: `` * import { X } from "./x.ts"; `` inside a fence. */
const DOC_IMPORT = /^\s*\*\s*(?:import|export)\b[^"'\n]*?["'](\.{1,2}\/[^"']+)["']/;

/**
 * The files a module's JSDoc examples import by relative path. `deno test --doc` compiles each
 * example as a module of its own next to the file, so an example's relative import is an import
 * of the file: `a.ts`'s example importing `./b.ts` while `b.ts` imports `a.ts` is a loop too.
 *
 * @param file Path relative to `root`.
 * @param root Absolute path of the repository.
 * @returns Paths relative to `root`.
 */
export async function docExampleImports(file: string, root: string = ROOT): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(root + file);
  } catch {
    return [];
  }
  const found: string[] = [];
  let inFence = false;
  for (const line of text.split("\n")) {
    if (/^\s*\*\s*```/.test(line)) {
      inFence = !inFence;
      continue;
    }
    const m = inFence ? DOC_IMPORT.exec(line) : null;
    if (!m) continue;
    const target = new URL(m[1], new URL(file, "file:///")).pathname.slice(1);
    if (target !== file) found.push(target);
  }
  return found;
}

/**
 * The loops of a graph: one per strongly connected component with more than one node (or a node
 * that imports itself), each given as one concrete circle through that component.
 *
 * @param graph Node → the nodes it imports.
 * @returns The loops, each starting at its smallest node, sorted.
 */
export function findLoops(graph: ImportGraph): ImportLoop[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.has(node)) components.push(component);
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components
    .map((component) => ({
      nodes: circleThrough(graph, new Set(component)),
      tangle: component.sort(),
    }))
    .sort((a, b) => a.nodes[0].localeCompare(b.nodes[0]));
}

/** A shortest circle from the component's smallest node back to it, inside the component. */
function circleThrough(graph: ImportGraph, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0];
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const next of [...(graph.get(queue[i]) ?? [])].sort()) {
      if (next === start) {
        const path = [queue[i]];
        while (path[0] !== start) path.unshift(parent.get(path[0])!);
        return path;
      }
      if (component.has(next) && !parent.has(next)) {
        parent.set(next, queue[i]);
        queue.push(next);
      }
    }
  }
  return [start];
}

/**
 * The package a file belongs to: its top folder (`api`, `server`, `tests`…), or `.` for a file
 * at the root.
 *
 * @param file Path relative to the root.
 * @returns The package name.
 */
export function packageOf(file: string): string {
  const slash = file.indexOf("/");
  return slash < 0 ? "." : file.slice(0, slash);
}

/**
 * The loops between packages: package A imports package B when any file of A (a test too)
 * imports a file of B.
 *
 * @param graph The file graph.
 * @returns The package loops, each step with one file import that makes it.
 */
export function findPackageLoops(graph: ImportGraph): ImportLoop[] {
  const packages = new Map<string, Set<string>>();
  const witness = new Map<string, string>();
  for (const [file, deps] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    const from = packageOf(file);
    if (!packages.has(from)) packages.set(from, new Set());
    for (const dep of [...deps].sort()) {
      const to = packageOf(dep);
      if (to === from) continue;
      packages.get(from)!.add(to);
      if (!witness.has(`${from} ${to}`)) witness.set(`${from} ${to}`, `${file} imports ${dep}`);
    }
  }
  return findLoops(packages).map(({ nodes, tangle }) => ({
    nodes,
    tangle,
    because: nodes.map((node, i) => witness.get(`${node} ${nodes[(i + 1) % nodes.length]}`)!),
  }));
}

/**
 * Writes a loop for people: `a.ts → b.ts → a.ts`, then the other members of its tangle and, for a
 * package loop, the file import behind each step.
 *
 * @param loop The loop.
 * @returns The text, one fact per line.
 */
export function describeLoop(loop: ImportLoop): string {
  const lines = [[...loop.nodes, loop.nodes[0]].join(" → ")];
  const others = loop.tangle.filter((node) => !loop.nodes.includes(node));
  if (others.length > 0) lines.push(`    tangled with: ${others.join(", ")}`);
  for (const reason of loop.because ?? []) lines.push(`    ${reason}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const graph = await readImportGraph(await sourceFiles());
  const files = findLoops(graph);
  const packages = findPackageLoops(graph);
  for (const loop of files) console.log(`file loop: ${describeLoop(loop)}`);
  for (const loop of packages) console.log(`package loop: ${describeLoop(loop)}`);
  console.log(
    `${graph.size} files: ${files.length} file loops, ${packages.length} package loops`,
  );
  if (files.length + packages.length > 0) Deno.exit(1);
}
