// Private: the address check of save_file_from_url (SSRF guard). Works everywhere; resolving
// host names uses Deno.resolveDns where it exists (Deno, Deno Deploy) and is skipped elsewhere
// (browsers), where only IP literals and `localhost` names are checked.

/** Resolves a host name to addresses of one record type (the shape of `Deno.resolveDns`). */
export type Resolve = (
  host: string,
  type: "A" | "AAAA",
  signal?: AbortSignal,
) => Promise<string[]>;

type Range<T> = readonly [net: T, bits: number, cidr: string, why: string];

const PRIVATE = "a private address";
const DOCUMENTATION = "a documentation address";

/** Embedded IPv4 addresses in these IPv6 ranges are checked as IPv4. */
const EMBEDS_V4 = "embeds v4";

const V4_RANGES: readonly Range<number>[] = [
  [ipv4("0.0.0.0")!, 8, "0.0.0.0/8", 'an unspecified ("this network") address'],
  [ipv4("10.0.0.0")!, 8, "10.0.0.0/8", PRIVATE],
  [ipv4("100.64.0.0")!, 10, "100.64.0.0/10", "a shared carrier-grade NAT address"],
  [ipv4("127.0.0.0")!, 8, "127.0.0.0/8", "a loopback address"],
  [ipv4("169.254.169.254")!, 32, "169.254.169.254", "the cloud metadata address"],
  [ipv4("169.254.0.0")!, 16, "169.254.0.0/16", "a link-local address"],
  [ipv4("168.63.129.16")!, 32, "168.63.129.16", "the Azure platform (wire server) address"],
  [ipv4("172.16.0.0")!, 12, "172.16.0.0/12", PRIVATE],
  [ipv4("192.0.0.0")!, 24, "192.0.0.0/24", "an IETF protocol assignment address"],
  [ipv4("192.0.2.0")!, 24, "192.0.2.0/24", DOCUMENTATION],
  [ipv4("192.88.99.0")!, 24, "192.88.99.0/24", "a 6to4 relay anycast address"],
  [ipv4("192.168.0.0")!, 16, "192.168.0.0/16", PRIVATE],
  [ipv4("198.18.0.0")!, 15, "198.18.0.0/15", "a benchmarking address"],
  [ipv4("198.51.100.0")!, 24, "198.51.100.0/24", DOCUMENTATION],
  [ipv4("203.0.113.0")!, 24, "203.0.113.0/24", DOCUMENTATION],
  [ipv4("224.0.0.0")!, 4, "224.0.0.0/4", "a multicast address"],
  [ipv4("240.0.0.0")!, 4, "240.0.0.0/4", "a reserved or broadcast address"],
];

const V6_RANGES: readonly Range<bigint>[] = [
  [ipv6("::")!, 128, "::", "the unspecified address"],
  [ipv6("::1")!, 128, "::1", "the loopback address"],
  [ipv6("::ffff:0:0")!, 96, "::ffff:0:0/96", EMBEDS_V4], // IPv4-mapped
  [ipv6("::ffff:0:0:0")!, 96, "::ffff:0:0:0/96", EMBEDS_V4], // IPv4-translated
  [ipv6("::")!, 96, "::/96", "a deprecated IPv4-compatible address"],
  [ipv6("64:ff9b::")!, 96, "64:ff9b::/96", EMBEDS_V4], // NAT64
  [ipv6("64:ff9b:1::")!, 48, "64:ff9b:1::/48", "a local-use NAT64 address"],
  [ipv6("100::")!, 64, "100::/64", "a discard-only address"],
  [ipv6("2001::")!, 23, "2001::/23", "an IETF protocol assignment address (e.g. Teredo)"],
  [ipv6("2001:db8::")!, 32, "2001:db8::/32", DOCUMENTATION],
  [ipv6("2002::")!, 16, "2002::/16", EMBEDS_V4], // 6to4: the IPv4 address is bits 16..47
  [ipv6("3fff::")!, 20, "3fff::/20", DOCUMENTATION],
  [ipv6("5f00::")!, 16, "5f00::/16", "a segment-routing (SRv6) address"],
  [ipv6("fc00::")!, 7, "fc00::/7", "a private (unique local) address"],
  [ipv6("fe80::")!, 10, "fe80::/10", "a link-local address"],
  [ipv6("fec0::")!, 10, "fec0::/10", "a deprecated site-local address"],
  [ipv6("ff00::")!, 8, "ff00::/8", "a multicast address"],
];

/** The value of a dotted-quad IPv4 address (`a.b.c.d`, decimal), or undefined. */
export function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** The value of an IPv6 address (with `::` and an optional dotted-quad tail), or undefined. */
export function ipv6(text: string): bigint | undefined {
  let s = text.toLowerCase();
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(":");
  if (lastColon < 0) return undefined;
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4(tail);
    if (v4 === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string) => half === "" ? [] : half.split(":");
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const count = head.length + rest.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head, ...Array(8 - count).fill("0"), ...rest];
  let value = 0n;
  for (const group of all) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

function v4Text(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

function whyV4(value: number): string | undefined {
  for (const [net, bits, cidr, why] of V4_RANGES) {
    const shift = 32 - bits;
    const same = shift === 32 || Math.floor(value / 2 ** shift) === Math.floor(net / 2 ** shift);
    if (same) return bits === 32 ? why : `${why} (${cidr})`;
  }
  return undefined;
}

/**
 * Why an IP address is not a public internet address, or undefined when it is one.
 *
 * @param address An IPv4 (dotted quad) or IPv6 address, with or without `[]`.
 * @returns e.g. `"a loopback address (127.0.0.0/8)"`; an unparsable address is refused too.
 */
export function nonPublicReason(address: string): string | undefined {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const v4 = ipv4(bare);
  if (v4 !== undefined) return whyV4(v4);
  const v6 = ipv6(bare);
  if (v6 === undefined) return "not an IP address this check understands";
  for (const [net, bits, cidr, why] of V6_RANGES) {
    const shift = BigInt(128 - bits);
    if (v6 >> shift !== net >> shift) continue;
    if (why !== EMBEDS_V4) return bits === 128 ? why : `${why} (${cidr})`;
    const embedded = cidr === "2002::/16"
      ? Number((v6 >> 80n) & 0xffffffffn)
      : Number(v6 & 0xffffffffn);
    const inner = whyV4(embedded);
    return inner && `an IPv6 form (${cidr}) of ${v4Text(embedded)}, ${inner}`;
  }
  return undefined;
}

/** The resolver of this runtime: `Deno.resolveDns`, or undefined where there is none. */
export function runtimeResolver(): Resolve | undefined {
  const deno = (globalThis as { Deno?: { resolveDns?: typeof Deno.resolveDns } }).Deno;
  const resolveDns = deno?.resolveDns;
  if (typeof resolveDns !== "function") return undefined;
  return (host, type, signal) => resolveDns(host, type, signal ? { signal } : undefined);
}

function isLocalhostName(name: string): boolean {
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * Why the host of a URL is not on the public internet, or undefined when it is.
 *
 * IP literals (in the forms `new URL` normalises them to) are checked directly; `localhost`
 * and `*.localhost` are loopback by name; other names are resolved (A and AAAA) and refused
 * when any address is not public, or when the name does not resolve. Without a resolver
 * (`resolve` undefined, e.g. in browsers) names other than `localhost` pass.
 *
 * Residual risk (DNS rebinding): the name is resolved here and again by `fetch` when it
 * connects, so a name whose answer changes between the two (a tiny TTL, an attacker's DNS
 * server) can pass this check and then connect to a private address. `fetch` offers no way to
 * connect to the address checked here; deployments that must close this gap put the fetcher
 * behind an egress proxy or firewall that refuses private ranges. A configured HTTP(S) proxy
 * likewise resolves names itself.
 *
 * @param url The URL to check (http or https).
 * @param resolve The resolver, or undefined to check literals and localhost names only.
 * @param signal Cancels the DNS look-ups.
 * @returns A sentence naming the host and why it is refused, or undefined.
 * @throws The signal's reason when it aborts.
 */
export async function refusalOf(
  url: URL,
  resolve: Resolve | undefined,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const host = url.hostname;
  if (host.startsWith("[")) {
    const why = nonPublicReason(host);
    return why && `the host ${host} is ${why}`;
  }
  if (ipv4(host) !== undefined) {
    const why = nonPublicReason(host);
    return why && `the host ${host} is ${why}`;
  }
  const name = host.replace(/\.+$/, "");
  if (name === "" || isLocalhostName(name)) {
    return `the host ${host} is a loopback name (localhost)`;
  }
  if (!resolve) return undefined;
  const results = await Promise.allSettled([
    resolve(name, "A", signal),
    resolve(name, "AAAA", signal),
  ]);
  signal?.throwIfAborted();
  const addresses: string[] = [];
  for (const result of results) {
    if (result.status === "fulfilled") {
      addresses.push(...result.value);
    } else if ((result.reason as Error)?.name !== "NotFound") {
      // A look-up that failed (not "no such records") may hide an address fetch would use.
      const message = result.reason instanceof Error ? result.reason.message : result.reason;
      return `the host ${host} could not be checked: its DNS look-up failed (${message})`;
    }
  }
  if (addresses.length === 0) return `the host ${host} does not resolve to any address`;
  for (const address of addresses) {
    const why = nonPublicReason(address);
    if (why) return `the host ${host} resolves to ${address}, ${why}`;
  }
  return undefined;
}
