// Private: the grants of an ApiScope described as data (spec §3.3). Each grant class registers one
// table — per field its wire name, the spellings also accepted on input, its kind and its
// default — and the one reader, writer and initialiser below serve every grant from its table.
//
// Wire rules, the same for every grant:
// - Inside a grant, an allow-list that is null/absent means "unrestricted".
// - The writer writes only fields that differ from their default, in snake_case and table
//   order, so the common value is `{}`; an entry's required strings are always written.
// - The reader accepts snake_case and the camelCase spellings the TS client writes, counts null
//   as absent, and rejects a value of the wrong type with an `ApiScopeError` naming its path
//   (fail closed) instead of reading it as "unrestricted".
import { ApiScopeError } from "./api_scope_error.ts";

type JsonRecord = Record<string, unknown>;

/** A grant class as the tables see it: it is made from its options. */
export interface GrantClass<G = object> {
  new (options: never): G;
}

interface Named {
  /** The snake_case name written on the wire. */
  readonly wire: string;
  /** Other spellings accepted on input (the TS client's camelCase). */
  readonly aliases: readonly string[];
}

/** true/false with a default. */
export interface FlagField extends Named {
  readonly kind: "flag";
  readonly default: boolean;
}

/** An allow-list of names or patterns; absent (null) = unrestricted. */
export interface NamesField extends Named {
  readonly kind: "names";
}

/** A string an entry cannot go without; `inherit`: when absent, taken from the enclosing entry. */
export interface TextField extends Named {
  readonly kind: "text";
  readonly inherit: boolean;
}

/** A list of entry grants; absent (null) = unrestricted. */
export interface EntriesField<E = unknown> extends Named {
  readonly kind: "entries";
  readonly of: GrantClass<E>;
  /** Fields the entries inherit when they leave them out: entry field → this grant's field. */
  readonly pass: Readonly<Record<string, string>>;
}

/** One nested grant: absent = null, or with `always` the grant with its defaults (always written). */
export interface NestedField<E = unknown> extends Named {
  readonly kind: "nested";
  readonly of: GrantClass<E>;
  readonly always: boolean;
}

/** One field of a grant table. */
export type Field = FlagField | NamesField | TextField | EntriesField | NestedField;

type FieldFor<V> = [V] extends [boolean] ? FlagField
  : [V] extends [readonly string[] | null] ? NamesField
  : [V] extends [string] ? TextField
  : [V] extends [readonly (infer E)[] | null] ? EntriesField<E>
  : [V] extends [(infer E) | null] ? NestedField<NonNullable<E>>
  : never;

/** The table of grant `G`: one field for each of its data properties, of the matching kind. */
export type GrantTable<G> = {
  // deno-lint-ignore ban-types
  [K in keyof G as G[K] extends Function ? never : K]-?: FieldFor<G[K]>;
};

/**
 * A flag.
 *
 * @param wire Wire name.
 * @param fallback The default.
 * @param aliases Other accepted spellings.
 */
export function flag(wire: string, fallback: boolean, aliases: string[] = []): FlagField {
  return { kind: "flag", wire, aliases, default: fallback };
}

/**
 * An allow-list (null = unrestricted).
 *
 * @param wire Wire name.
 * @param aliases Other accepted spellings.
 */
export function names(wire: string, aliases: string[] = []): NamesField {
  return { kind: "names", wire, aliases };
}

/**
 * A required string.
 *
 * @param wire Wire name.
 * @param aliases Other accepted spellings.
 */
export function text(wire: string, aliases: string[] = []): TextField {
  return { kind: "text", wire, aliases, inherit: false };
}

/**
 * A string that, when absent, is taken from the enclosing entry (see `EntriesField.pass`).
 *
 * @param wire Wire name.
 */
export function inherited(wire: string): TextField {
  return { kind: "text", wire, aliases: [], inherit: true };
}

/**
 * A list of entries.
 *
 * @param wire Wire name.
 * @param of The entry grant class.
 * @param options Other accepted spellings; fields passed down to the entries.
 */
export function entries<E>(
  wire: string,
  of: GrantClass<E>,
  options: { aliases?: string[]; pass?: Record<string, string> } = {},
): EntriesField<E> {
  return { kind: "entries", wire, aliases: options.aliases ?? [], of, pass: options.pass ?? {} };
}

/**
 * A nested grant.
 *
 * @param wire Wire name.
 * @param of The nested grant class.
 * @param always Never null: absent means the defaults, and it is always written.
 */
export function nested<E>(wire: string, of: GrantClass<E>, always = false): NestedField<E> {
  return { kind: "nested", wire, aliases: [], of, always };
}

interface GrantSpec {
  /** Where the grant sits in a scope, for error paths (`queues`, `dataset.tables[]`). */
  readonly path: string;
  readonly fields: ReadonlyArray<readonly [string, Field]>;
  /** Wire names of the required strings: an entry must be an object that has them. */
  readonly required: readonly string[];
}

const SPECS = new WeakMap<object, GrantSpec>();

/**
 * Registers the table of a grant class (call it in the class's `static` block).
 *
 * @param cls The grant class.
 * @param path Where the grant sits in a scope, for error paths.
 * @param table One field per data property, in wire order.
 */
export function describeGrant<G>(
  cls: abstract new (...args: never[]) => G,
  path: string,
  table: GrantTable<G>,
): void {
  const fields = Object.entries(table as Record<string, Field>);
  const required = fields.flatMap(([, f]) => f.kind === "text" && !f.inherit ? [f.wire] : []);
  SPECS.set(cls, { path, fields, required });
}

function specOf(cls: object): GrantSpec {
  const spec = SPECS.get(cls);
  if (!spec) throw new TypeError(`${(cls as { name?: string }).name} has no grant table`);
  return spec;
}

/**
 * The default path of a grant class in error messages.
 *
 * @param cls The grant class.
 */
export function grantPath(cls: object): string {
  return specOf(cls).path;
}

/**
 * Sets the fields of a new grant from its options, with defaults; lists are copied and frozen.
 *
 * @param grant The grant being constructed.
 * @param cls Its class (`new.target`).
 * @param options The constructor options.
 */
export function initGrant(grant: object, cls: object, options: object): void {
  const target = grant as JsonRecord;
  const given = options as JsonRecord;
  for (const [key, f] of specOf(cls).fields) {
    const value = given[key];
    switch (f.kind) {
      case "flag":
        target[key] = value ?? f.default;
        break;
      case "names":
      case "entries":
        target[key] = value === undefined || value === null
          ? null
          : Object.freeze([...value as unknown[]]);
        break;
      case "text":
        target[key] = value;
        break;
      case "nested":
        target[key] = value ?? (f.always ? new f.of({} as never) : null);
        break;
    }
  }
}

/**
 * The wire JSON of a grant: its fields in table order, each only when it is not the default.
 *
 * @param grant The grant.
 */
export function writeGrant(grant: object): Record<string, unknown> {
  const json: JsonRecord = {};
  const values = grant as JsonRecord;
  for (const [key, f] of specOf(grant.constructor).fields) {
    const value = values[key];
    switch (f.kind) {
      case "flag":
        if (value !== f.default) json[f.wire] = value;
        break;
      case "names":
        if (value !== null) json[f.wire] = [...value as string[]];
        break;
      case "text":
        json[f.wire] = value;
        break;
      case "entries":
        if (value !== null) json[f.wire] = (value as object[]).map(toJson);
        break;
      case "nested":
        if (value !== null) json[f.wire] = toJson(value as object);
        break;
    }
  }
  return json;
}

function toJson(grant: object): unknown {
  return (grant as { toJson(): unknown }).toJson();
}

/**
 * Reads the wire JSON of a grant.
 *
 * @param cls The grant class.
 * @param json The JSON value.
 * @param path Its path, for errors (default: the class's).
 * @param inherited Values the enclosing entry passes down (see `EntriesField.pass`).
 * @returns The grant.
 * @throws {ApiScopeError} When the value or one of its fields has the wrong shape.
 */
export function readGrant<G>(
  cls: GrantClass<G>,
  json: unknown,
  path?: string,
  inherited: JsonRecord = {},
): G {
  const spec = specOf(cls);
  const at = path ?? spec.path;
  const obj = spec.required.length > 0 ? asEntry(json, at, spec.required) : asRecord(json, at);
  const options: JsonRecord = {};
  for (const [key, f] of spec.fields) {
    const value = field(obj, f);
    const where = `${at}.${f.wire}`;
    switch (f.kind) {
      case "flag":
        if (value !== undefined && typeof value !== "boolean") {
          throw new ApiScopeError(where, `expected true or false, got ${describe(value)}`);
        }
        options[key] = value;
        break;
      case "names":
        if (value !== undefined && !isStringList(value)) {
          throw new ApiScopeError(
            where,
            `expected an array of strings or null, got ${describe(value)}`,
          );
        }
        options[key] = value;
        break;
      case "text": {
        const text = value ?? (f.inherit ? inherited[key] : undefined);
        if (typeof text !== "string") {
          throw new ApiScopeError(where, `expected a string, got ${describe(text ?? obj[f.wire])}`);
        }
        options[key] = text;
        break;
      }
      case "entries": {
        if (value === undefined) break;
        if (!Array.isArray(value)) {
          throw new ApiScopeError(where, `expected an array or null, got ${describe(value)}`);
        }
        const passed: JsonRecord = {};
        for (const [child, mine] of Object.entries(f.pass)) passed[child] = options[mine];
        options[key] = value.map((item, i) => readGrant(f.of, item, `${where}[${i}]`, passed));
        break;
      }
      case "nested":
        if (value !== undefined) options[key] = readGrant(f.of, value, where);
        else if (!f.always) options[key] = null;
        break;
    }
  }
  return new cls(options as never);
}

/** The first of the wire name and its aliases that is set (null counts as absent). */
function field(obj: JsonRecord, f: Field): unknown {
  for (const key of [f.wire, ...f.aliases]) {
    const value = obj[key];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/**
 * Whether a value is a JSON object (not null, not an array).
 *
 * @param value The value.
 */
export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function asRecord(value: unknown, path: string): JsonRecord {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new ApiScopeError(path, `expected an object, got ${describe(value)}`);
  return value;
}

function asEntry(value: unknown, path: string, required: readonly string[]): JsonRecord {
  if (isRecord(value)) return value;
  const shape = required.length === 1
    ? `an object with a ${required[0]}`
    : `{${required.join(", ")}}`;
  throw new ApiScopeError(path, `expected ${shape}, got ${describe(value)}`);
}

/**
 * A short description of a JSON value for error messages.
 *
 * @param value The value.
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `a ${typeof value}`;
}
