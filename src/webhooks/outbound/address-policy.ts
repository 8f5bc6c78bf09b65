import { BlockList, isIP } from "node:net";

/** Where an address points, as far as a request to it is concerned. */
export type AddressKind = "public" | "private" | "loopback" | "link_local" | "unspecified" | "multicast" | "reserved";

type Range = readonly [string, number];

const RANGES: Record<Exclude<AddressKind, "public">, { v4: readonly Range[]; v6: readonly Range[] }> = {
  unspecified: { v4: [["0.0.0.0", 8]], v6: [["::", 128]] },
  loopback: { v4: [["127.0.0.0", 8]], v6: [["::1", 128]] },
  // Cloud metadata services (169.254.169.254, fd00:ec2::254) live here.
  link_local: { v4: [["169.254.0.0", 16]], v6: [["fe80::", 10]] },
  private: {
    v4: [
      ["10.0.0.0", 8],
      ["172.16.0.0", 12],
      ["192.168.0.0", 16],
      ["100.64.0.0", 10],
    ],
    v6: [["fc00::", 7]],
  },
  multicast: { v4: [["224.0.0.0", 4]], v6: [["ff00::", 8]] },
  reserved: {
    v4: [
      ["192.0.0.0", 24],
      ["192.0.2.0", 24],
      ["198.18.0.0", 15],
      ["198.51.100.0", 24],
      ["203.0.113.0", 24],
      ["240.0.0.0", 4],
    ],
    v6: [
      ["2001:db8::", 32],
      ["100::", 64],
    ],
  },
};

const LISTS: [Exclude<AddressKind, "public">, BlockList][] = Object.entries(RANGES).map(([kind, ranges]) => {
  const list = new BlockList();
  for (const [address, prefix] of ranges.v4) list.addSubnet(address, prefix, "ipv4");
  for (const [address, prefix] of ranges.v6) list.addSubnet(address, prefix, "ipv6");
  return [kind as Exclude<AddressKind, "public">, list];
});

/** What kind of address `ip` is; IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address inside. */
export function classifyAddress(ip: string): AddressKind {
  const embedded = embeddedIpv4(ip);
  const address = embedded ?? ip;
  const family = isIP(address) === 6 ? "ipv6" : "ipv4";
  for (const [kind, list] of LISTS) if (list.check(address, family)) return kind;
  return "public";
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIpv4(ip: string): string | undefined {
  if (isIP(ip) !== 6) return undefined;
  const lower = ip.toLowerCase();
  for (const prefix of ["::ffff:", "64:ff9b::"]) {
    if (!lower.startsWith(prefix)) continue;
    const rest = lower.slice(prefix.length);
    if (isIP(rest) === 4) return rest;
    const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
    if (hex) {
      const high = parseInt(hex[1] as string, 16);
      const low = parseInt(hex[2] as string, 16);
      return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
    }
  }
  return undefined;
}

export interface AddressPolicyOptions {
  /** Let requests reach private, loopback and link-local addresses (a development setting). Default false. */
  allowPrivate?: boolean;
  /** Addresses or CIDR ranges reachable even though they are not public, e.g. "10.1.2.0/24" or "127.0.0.1". */
  allow?: readonly string[];
}

/**
 * Decides which resolved addresses an outbound request may connect to: public ones always,
 * others only when allowed by config. Checked on the address actually connected to (after
 * DNS), so a name that resolves to 127.0.0.1 — or changes its answer between a check and
 * the connection (DNS rebinding) — cannot reach an internal service.
 */
export class AddressPolicy {
  readonly #allowPrivate: boolean;
  readonly #allowed = new BlockList();

  constructor(options: AddressPolicyOptions = {}) {
    this.#allowPrivate = options.allowPrivate ?? false;
    for (const entry of options.allow ?? []) {
      const [address, prefixText] = entry.split("/") as [string, string | undefined];
      const family = isIP(address);
      if (family === 0) throw new Error(`"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.0/8 or fd00::/8)`);
      const type = family === 6 ? "ipv6" : "ipv4";
      const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw new Error(`"${entry}": the prefix length must be 0–${family === 6 ? 128 : 32}`);
      this.#allowed.addSubnet(address, prefix, type);
    }
  }

  /** undefined when `ip` may be connected to, else why not. */
  refusal(ip: string): string | undefined {
    const kind = classifyAddress(ip);
    if (kind === "public") return undefined;
    if (this.#allowed.check(ip, isIP(ip) === 6 ? "ipv6" : "ipv4")) return undefined;
    if (this.#allowPrivate && (kind === "private" || kind === "loopback" || kind === "link_local")) return undefined;
    return `${ip} is a ${kind.replace("_", "-")} address; requests to it are refused unless allowed in config (allow_private_networks, or an allow list entry)`;
  }
}
