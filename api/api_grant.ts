import { initGrant, readGrant, writeGrant } from "./_grant_fields.ts";

/**
 * The constructor options of grant `G`: each of its fields, optional except the `Required` ones.
 * A field left out (or null, for a flag) takes its default.
 *
 * @example
 * ```ts
 * import type { GrantOptions, TableGrant } from "@meshagent/api";
 *
 * const options: GrantOptions<TableGrant, "name"> = { name: "docs", write: true };
 * ```
 */
export type GrantOptions<G, Required extends keyof G = never> =
  & {
    -readonly [
      // deno-lint-ignore ban-types
      K in keyof G as K extends Required ? never : G[K] extends Function ? never : K
    ]?: G[K];
  }
  & { -readonly [K in Required]: G[K] };

/**
 * The base of the grants of an {@linkcode ApiScope} and of the entries inside them. A grant class
 * declares its fields and registers one table of them (wire name, aliases, kind, default); making
 * a grant from options, {@linkcode ApiGrant.toJson} and {@linkcode ApiGrant.fromJson} work from
 * that table, and the class adds its permission checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ApiGrant, QueuesGrant } from "@meshagent/api";
 *
 * const grant = QueuesGrant.fromJson({ send: ["jobs"], list: false });
 * assert(grant instanceof ApiGrant);
 * assert.deepEqual(grant.toJson(), { send: ["jobs"], list: false });
 * assert.deepEqual(new QueuesGrant().toJson(), {});
 * ```
 */
export abstract class ApiGrant {
  /**
   * Sets the fields from `options`; fields left out take the defaults of the class's table.
   *
   * @param options The field values.
   */
  protected constructor(options: object) {
    initGrant(this, new.target, options);
  }

  /**
   * Serialises the fields that differ from their defaults, in wire order (an entry's required
   * strings always).
   *
   * @returns The wire JSON object.
   */
  toJson(): Record<string, unknown> {
    return writeGrant(this);
  }

  /**
   * Parses the wire JSON: snake_case and the TS client's camelCase spellings are read, null or
   * absent fields take their defaults.
   *
   * @param json The grant's JSON value.
   * @param path Field path used in error messages (default: where the grant sits in a scope,
   *   e.g. `queues`).
   * @returns The grant.
   * @throws {ApiScopeError} When a field has the wrong type.
   */
  static fromJson<G extends ApiGrant>(
    this: new (options: never) => G,
    json: unknown,
    path?: string,
  ): G {
    return readGrant(this, json, path);
  }
}
