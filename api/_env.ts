/** Reads an environment variable on any runtime, never prompting and never throwing. */
export function readEnv(name: string): string | undefined {
  const deno = (globalThis as {
    Deno?: {
      env?: { get(key: string): string | undefined };
      permissions?: { querySync?(desc: { name: "env"; variable: string }): { state: string } };
    };
  }).Deno;
  if (deno?.env) {
    let state: string | undefined;
    try {
      state = deno.permissions?.querySync?.({ name: "env", variable: name }).state;
    } catch {
      state = undefined;
    }
    // "prompt": do not ask the user from inside a library; "denied": nothing to read.
    if (state === "prompt" || state === "denied") return undefined;
    try {
      return deno.env.get(name);
    } catch {
      return undefined; // NotCapable / PermissionDenied
    }
  }
  try {
    const process = (globalThis as { process?: { env?: Record<string, string | undefined> } })
      .process;
    return process?.env?.[name];
  } catch {
    return undefined;
  }
}
