/** The version of `@meshagent/adapters` (kept equal to adapters/deno.json; a test checks it). */
export const ADAPTERS_VERSION = "0.1.0";
