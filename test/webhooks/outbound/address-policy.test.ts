import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { Agent, request } from "undici";
import { AddressPolicy, classifyAddress } from "../../../src/webhooks/outbound/address-policy.js";
import { checkLiteralHost, guardedLookup } from "../../../src/webhooks/outbound/guarded-lookup.js";

test("addresses are classified, IPv4-mapped and NAT64 IPv6 by the IPv4 address inside", () => {
  const cases: [string, string][] = [
    ["93.184.216.34", "public"],
    ["8.8.8.8", "public"],
    ["2606:4700:4700::1111", "public"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["fd00::1", "private"],
    ["169.254.169.254", "link_local"],
    ["fe80::1", "link_local"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["192.0.2.10", "reserved"],
    ["240.0.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link_local"],
    ["64:ff9b::10.0.0.1", "private"],
    ["::ffff:8.8.8.8", "public"],
  ];
  for (const [ip, kind] of cases) assert.equal(classifyAddress(ip), kind, ip);
});

test("the policy refuses non-public addresses by default, with a reason; allow lists and allow_private open them", () => {
  const strict = new AddressPolicy();
  assert.equal(strict.refusal("93.184.216.34"), undefined);
  assert.match(strict.refusal("127.0.0.1") ?? "", /127\.0\.0\.1 is a loopback address; requests to it are refused unless allowed/);
  assert.match(strict.refusal("169.254.169.254") ?? "", /link-local/);
  const listed = new AddressPolicy({ allow: ["10.1.2.0/24", "::1"] });
  assert.equal(listed.refusal("10.1.2.200"), undefined);
  assert.match(listed.refusal("10.1.3.1") ?? "", /private/);
  assert.equal(listed.refusal("::1"), undefined);
  const open = new AddressPolicy({ allowPrivate: true });
  assert.equal(open.refusal("192.168.0.10"), undefined);
  assert.equal(open.refusal("127.0.0.1"), undefined);
  assert.match(open.refusal("224.0.0.1") ?? "", /multicast/, "multicast stays refused");
  assert.throws(() => new AddressPolicy({ allow: ["intranet"] }), /not an IP address or CIDR range/);
  assert.throws(() => new AddressPolicy({ allow: ["10.0.0.0/40"] }), /prefix length must be 0–32/);
});

test("the guarded lookup drops refused addresses and fails a name that only resolves to them (DNS rebinding included)", async () => {
  const answers: Record<string, { address: string; family: number }[]> = {
    "mixed.example": [
      { address: "10.0.0.5", family: 4 },
      { address: "93.184.216.34", family: 4 },
    ],
    "internal.example": [{ address: "169.254.169.254", family: 4 }],
  };
  const fake = (hostname: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: { address: string; family: number }[]) => void): void =>
    callback(null, answers[hostname] ?? []);
  const lookup = guardedLookup(new AddressPolicy(), fake);
  const resolve = (hostname: string, all: boolean): Promise<unknown> =>
    new Promise((done, fail) => lookup(hostname, all ? { all: true } : {}, (error, address, family) => (error ? fail(error) : done(all ? address : { address, family }))));
  assert.deepEqual(await resolve("mixed.example", false), { address: "93.184.216.34", family: 4 });
  assert.deepEqual(await resolve("mixed.example", true), [{ address: "93.184.216.34", family: 4 }]);
  await assert.rejects(resolve("internal.example", false), (error: Error & { kind?: string }) => {
    assert.equal(error.kind, "permanent");
    assert.match(error.message, /refusing to connect to internal\.example: 169\.254\.169\.254 is a link-local address/);
    return true;
  });
});

test("a real request to a loopback server is refused by default and goes through when allowed", async (t) => {
  const server = createServer((_request, response) => response.end("ok"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const url = new URL(`http://localhost:${port}/hook`);

  const strict = new Agent({ connect: { lookup: guardedLookup(new AddressPolicy()) } });
  t.after(() => strict.close());
  await assert.rejects(request(url, { dispatcher: strict }), /refusing to connect to localhost: .* loopback address/);

  const allowed = new Agent({ connect: { lookup: guardedLookup(new AddressPolicy({ allow: ["127.0.0.1", "::1"] })) } });
  t.after(() => allowed.close());
  const response = await request(url, { dispatcher: allowed });
  assert.equal(response.statusCode, 200);
  assert.equal(await response.body.text(), "ok");

  // Literal addresses skip DNS: they are checked on the URL.
  assert.throws(() => checkLiteralHost(new URL(`http://127.0.0.1:${port}/`), new AddressPolicy()), /refusing to connect to 127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address/);
  assert.throws(() => checkLiteralHost(new URL("http://[::ffff:169.254.169.254]/"), new AddressPolicy()), /link-local/);
  assert.doesNotThrow(() => checkLiteralHost(new URL("http://93.184.216.34/"), new AddressPolicy()));
  assert.doesNotThrow(() => checkLiteralHost(new URL("http://hooks.example.com/"), new AddressPolicy()));
});
