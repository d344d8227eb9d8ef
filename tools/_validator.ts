// Private: JSON Schema validation with ajv, kept behind one small function so that no ajv type
// reaches a public signature. Schemas that declare draft-04/06/07 in `$schema` are compiled with
// ajv's draft-07 class; all others with its 2020-12 class (the default of Python's `jsonschema`,
// which the Python hosts use). Unknown keywords and formats are ignored (ajv `strict: false`).
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { JsonObject } from "@meshagent/api";

/** Checks a value; returns readable problems, an empty array when the value matches. */
export type SchemaCheck = (value: unknown) => string[];

/** At most this many problems are reported for one value. */
const MAX_PROBLEMS = 8;

const cache = new WeakMap<JsonObject, SchemaCheck>();
/**
 * Compiled checks by schema text: tools made anew for every turn (the runtime's turn toolkits,
 * client toolkits) bring equal schemas in new objects. Bounded, least recently used first out.
 */
const byText = new Map<string, SchemaCheck>();
const MAX_BY_TEXT = 512;
/**
 * [impl] ajv keeps every compiled function's generated code in its instance's scope, and
 * `removeSchema` does not release it (measured: ~16 KB per compile, forever). A fresh instance
 * every this many compiles lets the old scope go with the checks that still use it.
 */
const COMPILES_PER_INSTANCE = 256;
let compiles = 0;

function isDraft07(schema: JsonObject): boolean {
  const declared = schema.$schema;
  return typeof declared === "string" && /draft-0[4-7]/.test(declared);
}

// `addUsedSchema: false`: two tools whose schemas share an `$id` must not clash in one instance.
const options = { allErrors: true, strict: false, validateFormats: false, addUsedSchema: false };
let draft07Ajv: Ajv | undefined;
let draft2020Ajv: Ajv2020 | undefined;

function ajvFor(draft07: boolean): Ajv | Ajv2020 {
  if (++compiles % COMPILES_PER_INSTANCE === 0) {
    draft07Ajv = undefined;
    draft2020Ajv = undefined;
  }
  if (draft07) return draft07Ajv ??= new Ajv(options);
  return draft2020Ajv ??= new Ajv2020(options);
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "/" : error.instancePath;
  let text = `${where} ${error.message ?? `fails '${error.keyword}'`}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties") {
    text += ` ('${String(params.additionalProperty)}')`;
  } else if (error.keyword === "enum") {
    text += ` (${JSON.stringify(params.allowedValues)})`;
  } else if (error.keyword === "const") {
    text += ` (${JSON.stringify(params.allowedValue)})`;
  }
  return text;
}

/**
 * Compiles a JSON Schema. `defs` (a tool's `defs`) are merged into the schema's `$defs`, so that
 * `{"$ref": "#/$defs/x"}` resolves against either.
 *
 * @throws {Error} With ajv's explanation when the schema itself is invalid.
 */
export function compileSchema(schema: JsonObject, defs?: JsonObject | null): SchemaCheck {
  if (!defs) {
    const cached = cache.get(schema);
    if (cached) return cached;
  }
  const full: JsonObject = defs
    ? { ...schema, $defs: { ...defs, ...(schema.$defs as JsonObject | undefined) } }
    : schema;
  let text: string | undefined;
  try {
    text = JSON.stringify(full);
  } catch { /* not JSON (a cycle): compiled, not cached by text */ }
  const known = text === undefined ? undefined : byText.get(text);
  if (known) {
    byText.delete(text!);
    byText.set(text!, known);
    if (!defs) cache.set(schema, known);
    return known;
  }
  let validate: ValidateFunction;
  const ajv = ajvFor(isDraft07(full));
  try {
    validate = ajv.compile(full);
  } catch (e) {
    throw new Error(e instanceof Error ? e.message : String(e));
  } finally {
    // The compiled function keeps working; the instance must not keep every schema alive.
    ajv.removeSchema(full);
  }
  const check: SchemaCheck = (value) => {
    if (validate(value)) return [];
    const errors = validate.errors ?? [];
    const problems = errors.slice(0, MAX_PROBLEMS).map(describe);
    if (errors.length > MAX_PROBLEMS) problems.push(`and ${errors.length - MAX_PROBLEMS} more`);
    return problems;
  };
  if (!defs) cache.set(schema, check);
  if (text !== undefined) {
    byText.set(text, check);
    if (byText.size > MAX_BY_TEXT) byText.delete(byText.keys().next().value as string);
  }
  return check;
}
