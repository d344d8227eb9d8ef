// Reading the environment where there may be none (browsers) or no permission (deno without
// --allow-env): both count as "unset".

/**
 * The value of an environment variable, or undefined when it is unset, blank, or cannot be read.
 *
 * @param name The variable.
 * @returns Its value, trimmed, or undefined.
 */
export function readEnv(name: string): string | undefined {
  try {
    const deno = (globalThis as { Deno?: { env?: { get(name: string): string | undefined } } })
      .Deno;
    const value = deno?.env?.get(name);
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  } catch {
    return undefined;
  }
}
