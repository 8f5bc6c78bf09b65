import { AddressPolicy, classifyAddress } from "./address-policy.js";
import type { AddressPolicyOptions } from "./address-policy.js";

/** The address policy of `webhooks.outbound`, whose refusals name the config keys that lift them. */
export class OutboundAddressPolicy extends AddressPolicy {
  constructor(options: AddressPolicyOptions = {}) {
    super(options);
  }

  override refusal(ip: string): string | undefined {
    if (super.refusal(ip) === undefined) return undefined;
    const kind = classifyAddress(ip);
    const privateKind = kind === "private" || kind === "loopback" || kind === "link_local";
    const allowEntry = `allow: ["${ip}"]`;
    return `${ip} is a ${kind.replace("_", "-")} address; allow it with ${privateKind ? `allow_private: true or ${allowEntry}` : allowEntry}`;
  }
}
