import assert from "node:assert/strict";
import { ipv4, ipv6, nonPublicReason, refusalOf, type Resolve } from "./_url_guard.ts";

Deno.test("url guard: IPv4 and IPv6 parsing", () => {
  assert.equal(ipv4("127.0.0.1"), 0x7f000001);
  assert.equal(ipv4("255.255.255.255"), 0xffffffff);
  for (const bad of ["1.2.3", "1.2.3.4.5", "256.0.0.1", "0x7f.0.0.1", "1.2.3.-4", "", "a.b.c.d"]) {
    assert.equal(ipv4(bad), undefined, bad);
  }
  assert.equal(ipv6("::"), 0n);
  assert.equal(ipv6("::1"), 1n);
  assert.equal(ipv6("1::"), 1n << 112n);
  assert.equal(ipv6("1:2:3:4:5:6:7:8"), 0x0001_0002_0003_0004_0005_0006_0007_0008n);
  assert.equal(ipv6("1:2:3:4:5:6:7::"), 0x0001_0002_0003_0004_0005_0006_0007_0000n);
  assert.equal(ipv6("::ffff:127.0.0.1"), ipv6("::ffff:7f00:1"));
  assert.equal(ipv6("FE80::1%eth0"), ipv6("fe80::1"));
  for (
    const bad of [
      "1:::2",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "g::",
      "12345::",
      "::1.2.3",
    ]
  ) {
    assert.equal(ipv6(bad), undefined, bad);
  }
});

Deno.test("url guard: non-public IPv4 and IPv6 addresses are named, public ones pass", () => {
  const refused: [string, RegExp][] = [
    ["127.0.0.1", /loopback address \(127\.0\.0\.0\/8\)/],
    ["127.255.255.254", /loopback/],
    ["0.0.0.0", /unspecified/],
    ["10.1.2.3", /private address \(10\.0\.0\.0\/8\)/],
    ["172.16.0.0", /private address \(172\.16\.0\.0\/12\)/],
    ["172.31.255.255", /private address \(172\.16\.0\.0\/12\)/],
    ["192.168.1.1", /private address \(192\.168\.0\.0\/16\)/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.255", /carrier-grade NAT/],
    ["169.254.169.254", /^the cloud metadata address$/],
    ["169.254.1.1", /link-local address \(169\.254\.0\.0\/16\)/],
    ["168.63.129.16", /Azure/],
    ["192.0.0.8", /IETF/],
    ["192.0.2.1", /documentation/],
    ["198.19.255.255", /benchmarking/],
    ["203.0.113.7", /documentation/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["240.0.0.1", /reserved/],
    ["::", /unspecified/],
    ["::1", /loopback/],
    ["[::1]", /loopback/],
    ["::ffff:127.0.0.1", /IPv6 form \(::ffff:0:0\/96\) of 127\.0\.0\.1, a loopback address/],
    ["::ffff:a9fe:a9fe", /of 169\.254\.169\.254, the cloud metadata address/],
    ["::ffff:0:a00:1", /of 10\.0\.0\.1, a private address/],
    ["::7f00:1", /IPv4-compatible/],
    ["64:ff9b::a00:1", /of 10\.0\.0\.1/],
    ["64:ff9b:1::1", /NAT64/],
    ["2002:7f00:1::1", /6to4|of 127\.0\.0\.1/],
    ["2001::1", /Teredo/],
    ["2001:db8::1", /documentation/],
    ["fc00::1", /unique local/],
    ["fd00:ec2::254", /unique local/],
    ["fe80::1", /link-local/],
    ["febf:ffff::1", /link-local/],
    ["fec0::1", /site-local/],
    ["ff02::1", /multicast/],
    ["not-an-ip", /not an IP address/],
  ];
  for (const [address, why] of refused) {
    const reason = nonPublicReason(address);
    assert.ok(reason !== undefined, `${address} should be refused`);
    assert.match(reason, why, address);
  }
  for (
    const address of [
      "8.8.8.8",
      "1.1.1.1",
      "172.15.255.255",
      "172.32.0.0",
      "100.63.255.255",
      "100.128.0.0",
      "169.253.255.255",
      "169.255.0.0",
      "192.167.255.255",
      "192.169.0.0",
      "223.255.255.255",
      "2606:4700:4700::1111",
      "2a00:1450:4001::200e",
      "::ffff:8.8.8.8",
      "64:ff9b::808:808",
      "2002:808:808::1",
      "fbff::1",
      "fe7f::1",
    ]
  ) {
    assert.equal(nonPublicReason(address), undefined, address);
  }
});

Deno.test("url guard: hosts in every form new URL normalises are checked without DNS", async () => {
  const refused: [string, RegExp][] = [
    ["http://127.0.0.1:8080/x", /the host 127\.0\.0\.1 is a loopback address/],
    ["http://0x7f.1/", /the host 127\.0\.0\.1 is a loopback/],
    ["http://2130706433/", /the host 127\.0\.0\.1 is a loopback/],
    ["http://017700000001/", /the host 127\.0\.0\.1 is a loopback/],
    ["http://127.1/", /the host 127\.0\.0\.1 is a loopback/],
    ["http://0/", /the host 0\.0\.0\.0 is an unspecified/],
    ["http://[::]/", /the host \[::\] is the unspecified/],
    ["http://[::1]:9/", /the host \[::1\] is the loopback/],
    ["http://[::ffff:127.0.0.1]/", /the host \[::ffff:7f00:1\] is an IPv6 form .* of 127\.0\.0\.1/],
    ["http://[0:0:0:0:0:ffff:a9fe:a9fe]/", /of 169\.254\.169\.254, the cloud metadata/],
    [
      "http://169.254.169.254/latest/meta-data/",
      /the host 169\.254\.169\.254 is the cloud metadata/,
    ],
    ["https://0xa9fea9fe/", /the host 169\.254\.169\.254 is the cloud metadata/],
    ["http://localhost:3000/", /the host localhost is a loopback name/],
    ["http://LocalHost./", /the host localhost\. is a loopback name/],
    ["http://api.localhost/", /the host api\.localhost is a loopback name/],
    ["http://[fe80::1]/", /link-local/],
  ];
  const neverCalled: Resolve = () => {
    throw new Error("no DNS look-up expected for a literal or localhost");
  };
  for (const [href, why] of refused) {
    const reason = await refusalOf(new URL(href), neverCalled);
    assert.ok(reason !== undefined, `${href} should be refused`);
    assert.match(reason, why, href);
  }
  assert.equal(await refusalOf(new URL("https://8.8.8.8/x"), neverCalled), undefined);
  assert.equal(await refusalOf(new URL("https://[2606:4700::1111]/"), neverCalled), undefined);
  // Without a resolver (browsers) names are not checked.
  assert.equal(await refusalOf(new URL("https://example.com/"), undefined), undefined);
});

Deno.test("url guard: names are refused when any A or AAAA address is not public, or none resolves", async () => {
  const notFound = () => new Deno.errors.NotFound("no records found");
  const records: Record<string, { A?: string[] | Error; AAAA?: string[] | Error }> = {
    "public.test": { A: ["93.184.215.14"], AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"] },
    "only-v4.test": { A: ["93.184.215.14"], AAAA: notFound() },
    "metadata.test": { A: ["169.254.169.254"], AAAA: notFound() },
    "mixed.test": { A: ["93.184.215.14"], AAAA: ["::1"] },
    "private6.test": { A: notFound(), AAAA: ["fd12:3456::1"] },
    "nothing.test": { A: notFound(), AAAA: notFound() },
    "broken.test": { A: ["93.184.215.14"], AAAA: new Error("connection refused") },
  };
  const asked: string[] = [];
  const fake: Resolve = (host, type) => {
    asked.push(`${host} ${type}`);
    const answer = records[host]?.[type] ?? notFound();
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  };
  const check = (host: string) => refusalOf(new URL(`https://${host}/file`), fake);
  assert.equal(await check("public.test"), undefined);
  assert.equal(await check("only-v4.test"), undefined);
  assert.deepEqual(asked.slice(0, 2), ["public.test A", "public.test AAAA"]);
  assert.equal(
    await check("metadata.test"),
    "the host metadata.test resolves to 169.254.169.254, the cloud metadata address",
  );
  assert.match((await check("mixed.test"))!, /resolves to ::1, the loopback address/);
  assert.match((await check("private6.test"))!, /resolves to fd12:3456::1, a private/);
  assert.match((await check("nothing.test"))!, /the host nothing\.test does not resolve/);
  assert.match((await check("broken.test"))!, /could not be checked: .*connection refused/);
  // A trailing dot is looked up without it.
  assert.equal(await check("public.test."), undefined);

  const aborted = AbortSignal.abort(new DOMException("stop", "AbortError"));
  await assert.rejects(refusalOf(new URL("https://public.test/"), fake, aborted), /stop/);
});
