// Private: the `$ref` strings of MeshSchema JSON, `#/$defs/<tag>` (protocol-data §2.6).
const PREFIX = "#/$defs/";

/** The `$ref` of an element type's tag. */
export function refTo(tagName: string): string {
  return PREFIX + tagName;
}

/** The tag a `$ref` names (a `$ref` without the `#/$defs/` prefix is taken as the tag). */
export function tagOfRef(ref: string): string {
  return ref.startsWith(PREFIX) ? ref.slice(PREFIX.length) : ref;
}
