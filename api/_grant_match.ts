// Private: how the grants match names against their allow-lists.

/** `null` allow-list = `allowIfUnset`; otherwise an exact match or a trailing `*` prefix match. */
export function matchesPattern(
  patterns: readonly string[] | null,
  value: string,
  allowIfUnset: boolean,
): boolean {
  if (patterns === null) return allowIfUnset;
  return patterns.some((pattern) =>
    pattern === value || (pattern.endsWith("*") && value.startsWith(pattern.slice(0, -1)))
  );
}

/** A grant without a namespace matches any namespace; with one, only exactly that namespace. */
export function namespaceMatches(
  grantNamespace: readonly string[] | null,
  namespace: readonly string[] | null | undefined,
): boolean {
  if (grantNamespace === null) return true;
  const asked = namespace ?? [];
  return grantNamespace.length === asked.length &&
    grantNamespace.every((value, index) => value === asked[index]);
}
