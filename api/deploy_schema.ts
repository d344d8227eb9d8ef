import type { MeshSchema } from "./mesh_schema.ts";
import { MeshSchemaValidationError } from "./mesh_schema_error.ts";
import type { StorageClient } from "./storage_client.ts";

/** The folder of a room's schemas: `.schemas/<name>.json` serves documents `*.<name>`. */
export const SCHEMAS_FOLDER = ".schemas";

/**
 * Checks a schema name for {@linkcode deploySchema}: it names `.schemas/<name>.json`, the schema
 * of documents whose extension is `<name>`, so it cannot contain a dot (nor a slash).
 *
 * @param name The schema name.
 * @throws {MeshSchemaValidationError} When the name is empty or has a `.` or `/`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateSchemaName } from "@meshagent/api";
 * validateSchemaName("page");
 * assert.throws(() => validateSchemaName("page.json"));
 * ```
 */
export function validateSchemaName(name: string): void {
  if (name.includes(".")) {
    throw new MeshSchemaValidationError(`schema name cannot contain '.' (got ${name})`);
  }
  if (name === "" || name.includes("/")) {
    throw new MeshSchemaValidationError(
      `a schema name is one path segment, like "page" (got ${JSON.stringify(name)})`,
    );
  }
}

/**
 * Uploads a schema to the room as `.schemas/<name>.json`, where the room's `sync` finds it for
 * documents ending in `.<name>` (the official SDKs' `deploySchema`).
 *
 * @param options The room (anything with a `storage` client), the schema, its name, and whether
 *   to replace an existing one (default true).
 * @throws {MeshSchemaValidationError} On a bad name; a RoomError (3005) when it exists and
 *   `overwrite` is false.
 *
 * @example Deploying a schema (needs a running room, so shown without running it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { deploySchema, MeshSchema, type RoomClient } from "@meshagent/api";
 * async function setUp(room: RoomClient, schema: MeshSchema) {
 *   await deploySchema({ room, schema, name: "page" }); // documents *.page now use it
 * }
 * assert(typeof setUp === "function");
 * ```
 */
export async function deploySchema(options: {
  room: { storage: StorageClient };
  schema: MeshSchema;
  name: string;
  overwrite?: boolean;
}): Promise<void> {
  validateSchemaName(options.name);
  const bytes = new TextEncoder().encode(JSON.stringify(options.schema.toJson()));
  await options.room.storage.upload(`${SCHEMAS_FOLDER}/${options.name}.json`, bytes, {
    overwrite: options.overwrite ?? true,
    mimeType: "application/json",
  });
}
