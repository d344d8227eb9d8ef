// The tool call form's model: a tool's JSON input schema read into form fields (one table of
// JSON types → inputs), and the filled-in form read back into arguments. Web-standard code only.

/** One field of a tool call form. */
export interface FormField {
  /** The property name. */
  name: string;
  /** How it is edited. */
  input: "text" | "number" | "checkbox" | "select" | "json";
  /** Whether the schema requires it. */
  required: boolean;
  /** The schema's description, if any. */
  description: string;
  /** The choices of an `enum`. */
  choices: string[];
}

/** How each JSON schema type is edited and read back; other types are edited as JSON. */
const KINDS: Readonly<
  Record<string, { input: FormField["input"]; read: (raw: string | boolean) => unknown }>
> = {
  string: { input: "text", read: (raw) => String(raw) },
  number: { input: "number", read: (raw) => Number(raw) },
  integer: { input: "number", read: (raw) => Number(raw) },
  boolean: { input: "checkbox", read: (raw) => raw === true || raw === "true" },
};

function typeOf(schema: Record<string, unknown>): string {
  const type = schema.type;
  if (Array.isArray(type)) return String(type.find((t) => t !== "null") ?? "string");
  return typeof type === "string" ? type : "json";
}

/**
 * The form fields of a tool's input schema (its top-level `properties`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formFields } from "./_schema_form.ts";
 * const fields = formFields({ type: "object", properties: { a: { type: "number" } }, required: ["a"] });
 * assert.deepEqual(fields, [{ name: "a", input: "number", required: true, description: "", choices: [] }]);
 * ```
 *
 * @param schema The input schema (a JSON schema of an object).
 * @returns The fields, in the schema's order.
 */
export function formFields(schema: unknown): FormField[] {
  if (!schema || typeof schema !== "object") return [];
  const s = schema as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  const required = new Set(s.required ?? []);
  return Object.entries(s.properties ?? {}).map(([name, property]) => {
    const choices = Array.isArray(property.enum) ? property.enum.map(String) : [];
    return {
      name,
      input: choices.length > 0 ? "select" : KINDS[typeOf(property)]?.input ?? "json",
      required: required.has(name),
      description: typeof property.description === "string" ? property.description : "",
      choices,
    };
  });
}

/** Thrown when a JSON field does not parse: names the field. */
export class FormValueError extends Error {
  /**
   * Creates the value.
   *
   * @param message Which field and why.
   */
  constructor(message: string) {
    super(message);
    this.name = "FormValueError";
  }
}

/**
 * Reads filled-in values back into tool arguments; empty optional fields are left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formArguments, formFields } from "./_schema_form.ts";
 * const schema = { type: "object", properties: { a: { type: "number" }, tags: { type: "array" } } };
 * assert.deepEqual(formArguments(formFields(schema), { a: "2", tags: '["x"]' }), { a: 2, tags: ["x"] });
 * ```
 *
 * @param fields The form's fields.
 * @param values The raw values by field name (text, or a checkbox's boolean).
 * @returns The arguments.
 * @throws {FormValueError} When a JSON field does not parse or a required field is empty.
 */
export function formArguments(
  fields: readonly FormField[],
  values: Readonly<Record<string, string | boolean>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.input !== "checkbox" && (raw === undefined || raw === "")) {
      if (field.required) throw new FormValueError(`${field.name} is required`);
      continue;
    }
    if (field.input === "json") {
      try {
        out[field.name] = JSON.parse(String(raw));
      } catch (e) {
        throw new FormValueError(`${field.name} is not valid JSON: ${(e as Error).message}`);
      }
    } else if (field.input === "select") out[field.name] = String(raw);
    else {
      const kind = Object.values(KINDS).find((k) => k.input === field.input)!;
      out[field.name] = kind.read(raw ?? false);
    }
  }
  return out;
}
