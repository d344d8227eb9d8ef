/**
 * The domains an agent's browser refuses (the official default list, agents-sources.md §5);
 * subdomains are refused too.
 */
export const BLOCKED_DOMAINS: readonly string[] = [
  "maliciousbook.com",
  "evilvideos.com",
  "darkwebforum.com",
  "shadytok.com",
  "suspiciouspins.com",
  "ilanbigio.com",
];

/** Thrown when a browser is sent to (or ends up on) a blocked URL. */
export class BlockedUrlError extends Error {
  /** `blocked_url`. */
  readonly code = "blocked_url";
  /** The URL. */
  readonly url: string;

  /**
   * Creates the value.
   *
   * @param url The blocked URL.
   * @param domain The blocked domain it is on.
   */
  constructor(url: string, domain: string) {
    super(`Blocked URL: ${url} (the domain ${domain} is on the computer's blocklist)`);
    this.name = "BlockedUrlError";
    this.url = url;
  }
}

/**
 * The blocked domain a URL is on, or null.
 *
 * @param url The URL (unparsable URLs are not blocked).
 * @param domains The blocklist (default {@linkcode BLOCKED_DOMAINS}).
 * @returns The domain, or null.
 */
export function blockedDomain(
  url: string,
  domains: readonly string[] = BLOCKED_DOMAINS,
): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return null;
  }
  if (host === "") return null;
  for (const domain of domains) {
    const blocked = domain.toLowerCase().replace(/^\.+|\.$/g, "");
    if (host === blocked || host.endsWith(`.${blocked}`)) return domain;
  }
  return null;
}

/**
 * Whether a URL is on a blocked domain (or a subdomain of one).
 *
 * @param url The URL.
 * @param domains The blocklist (default {@linkcode BLOCKED_DOMAINS}).
 * @returns True when blocked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBlockedUrl } from "@meshagent/computers";
 * assert.equal(isBlockedUrl("https://a.shadytok.com/"), true);
 * assert.equal(isBlockedUrl("https://notshadytok.com/"), false);
 * assert.equal(isBlockedUrl("http://x.test/", ["x.test"]), true);
 * ```
 */
export function isBlockedUrl(url: string, domains: readonly string[] = BLOCKED_DOMAINS): boolean {
  return blockedDomain(url, domains) !== null;
}

/**
 * Throws {@linkcode BlockedUrlError} for a URL on a blocked domain.
 *
 * @param url The URL.
 * @param domains The blocklist (default {@linkcode BLOCKED_DOMAINS}).
 * @throws {BlockedUrlError} When the URL is blocked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BlockedUrlError, checkUrl } from "@meshagent/computers";
 * assert.throws(() => checkUrl("https://evilvideos.com/"), BlockedUrlError);
 * checkUrl("https://example.com/");
 * ```
 */
export function checkUrl(url: string, domains: readonly string[] = BLOCKED_DOMAINS): void {
  const domain = blockedDomain(url, domains);
  if (domain !== null) throw new BlockedUrlError(url, domain);
}
