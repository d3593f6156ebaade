import { formatIp, inBlock, parseBlock, parseIp, unmapIpv4, type IpAddress } from './ip-address.js';
import { IPV4_SPECIAL, IPV6_GLOBAL_UNICAST, IPV6_SPECIAL } from './special-addresses.js';

// Where a fetch named by an untrusted request must never go (SSRF): every special-purpose block, parsed once.
const BLOCKS = [...IPV4_SPECIAL, ...IPV6_SPECIAL].map((entry) => ({ ...entry, ...parseBlock(entry.block) }));
const GLOBAL_UNICAST = parseBlock(IPV6_GLOBAL_UNICAST);

/** Why `address` may not be dialled (the registry entry it falls in), or undefined when it is a public unicast address. */
export function specialPurpose(address: IpAddress): string | undefined {
  const block = BLOCKS.find((b) => inBlock(address, b));
  if (block !== undefined) return `${block.block} ${block.name} (${block.rfc})`;
  if (address.family === 6 && !inBlock(address, GLOBAL_UNICAST)) return `outside ${IPV6_GLOBAL_UNICAST}, the only IPv6 block IANA allocates for unicast`;
  return undefined;
}

const canonicalAllow = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

/** The allowlist's IP literals in canonical form, computed once per set: `0:0::1` and `::1` are one address. */
function canonical(allow: ReadonlySet<string>): ReadonlySet<string> {
  let set = canonicalAllow.get(allow);
  if (set === undefined) {
    set = new Set([...allow].flatMap((entry) => {
      const ip = parseIp(entry);
      return ip === undefined ? [] : [formatIp(ip)];
    }));
    canonicalAllow.set(allow, set);
  }
  return set;
}

/**
 * Why a directory fetch may not connect to `address` (an IP literal, any spelling), or undefined when it may: public
 * unicast, or allowlisted. Every form that embeds or reaches IPv4 (IPv4-mapped, NAT64, 6to4, Teredo, IPv4-compatible)
 * is refused as its registry entry says; an IPv4-mapped address passes only when the IPv4 address it maps is
 * allowlisted, as that is what the socket reaches.
 */
export function addressRefusal(address: string, allow: ReadonlySet<string>): string | undefined {
  const ip = parseIp(address);
  if (ip === undefined) return `${address} is not an IP address`;
  const allowed = canonical(allow);
  const mapped = unmapIpv4(ip);
  if (allowed.has(formatIp(ip)) || (mapped !== undefined && allowed.has(formatIp(mapped)))) return undefined;
  const why = specialPurpose(ip);
  return why === undefined ? undefined : `${address} is in ${why}`;
}

/** True when a directory fetch may connect to `address` (see addressRefusal). */
export function isPublicAddress(address: string, allow: ReadonlySet<string>): boolean {
  return addressRefusal(address, allow) === undefined;
}
