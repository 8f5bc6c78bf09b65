import { lookup as dnsLookup } from "node:dns";
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from "node:dns";
import { isIP } from "node:net";
import { permanentError } from "../../core/errors.js";
import type { AddressPolicy } from "./address-policy.js";

/** The `lookup` option of net.connect / tls.connect (and undici's `connect`). */
export type LookupFunction = (
  hostname: string,
  options: LookupOneOptions | LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

type AllLookup = (hostname: string, options: LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A DNS lookup for outbound connections that only ever yields addresses `policy` allows:
 * refused ones are dropped, and a name with nothing left fails the connection. Because the
 * socket connects to the address returned here, the check and the connection cannot see
 * two different DNS answers.
 */
export function guardedLookup(policy: AddressPolicy, lookup: AllLookup = dnsLookup as unknown as AllLookup): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const allowed = addresses.filter((entry) => policy.refusal(entry.address) === undefined);
      if (allowed.length === 0) {
        const reasons = addresses.map((entry) => policy.refusal(entry.address)).filter((reason) => reason !== undefined);
        return callback(refusedError(hostname, reasons[0] ?? "it resolves to no address"), []);
      }
      if ((options as LookupAllOptions).all) return callback(null, allowed);
      const first = allowed[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/** Refuses a URL whose host is a literal IP address the policy does not allow (literal addresses skip DNS lookups). */
export function checkLiteralHost(url: URL, policy: AddressPolicy): void {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) === 0) return;
  const refusal = policy.refusal(host);
  if (refusal !== undefined) throw refusedError(url.host, refusal);
}

function refusedError(host: string, reason: string): NodeJS.ErrnoException {
  const error = permanentError(`refusing to connect to ${host}: ${reason}`, { code: "webhooks.address_refused" }) as unknown as NodeJS.ErrnoException;
  return error;
}
