// Private: the names a TypeScript module exports, read from its source text (declarations and
// re-exports, following `export * from` to local files). Used by the official-names test for
// type names, which a module's runtime object does not show.
import { dirname, join } from "node:path";

const DECLARATION =
  /^export\s+(?:declare\s+)?(?:default\s+)?(?:abstract\s+)?(?:async\s+)?(?:class|interface|type|function\*?|const|let|var|enum|namespace)\s+([A-Za-z_$][\w$]*)/gm;
const NAMED = /^export\s+(?:type\s+)?\{([^}]*)\}/gm;
const STAR = /^export\s+\*\s+from\s+["']([^"']+)["']/gm;

/**
 * Every name a module exports, values and types, each with the file that exports it, following
 * `export * from "./…"` to files on disk (`.ts`, `.d.ts`; a specifier without an extension tries
 * both).
 *
 * @param file The module's path.
 * @param seen Files read already (a cycle of `export *` is read once).
 * @returns The names, each with its file's basename.
 */
export async function exportedNames(
  file: string,
  seen: Set<string> = new Set(),
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (seen.has(file)) return names;
  seen.add(file);
  const text = await Deno.readTextFile(file);
  const here = file.split(/[\\/]/).at(-1)!;
  for (const m of text.matchAll(DECLARATION)) names.set(m[1], here);
  for (const m of text.matchAll(NAMED)) {
    for (const part of m[1].split(",")) {
      const name = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).at(-1)?.trim();
      if (name) names.set(name, here);
    }
  }
  for (const m of text.matchAll(STAR)) {
    const spec = m[1];
    if (!spec.startsWith(".")) continue;
    const base = join(dirname(file), spec);
    const candidates = /\.(d\.)?ts$/.test(base) ? [base] : [`${base}.d.ts`, `${base}.ts`];
    for (const candidate of candidates) {
      try {
        await Deno.stat(candidate);
      } catch {
        continue;
      }
      for (const [name, from] of await exportedNames(candidate, seen)) {
        if (!names.has(name)) names.set(name, from);
      }
      break;
    }
  }
  return names;
}
