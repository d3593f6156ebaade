/**
 * The IANA IPv4 and IPv6 Special-Purpose Address Registries (iana-ipv4-special-registry, iana-ipv6-special-registry,
 * as of 2025-10), plus the few blocks outside them that a directory fetch must not reach either (multicast, the
 * deprecated IPv4-compatible and site-local blocks). Every entry is refused, "globally reachable" ones included: no
 * key directory lives on an anycast relay or a documentation prefix, and several (NAT64, 6to4, Teredo) embed an
 * IPv4 address the fetch would end up reaching. Kept as data so a registry update is a one-line change.
 */
export interface SpecialBlock {
  readonly block: string;
  readonly name: string;
  readonly rfc: string;
}

export const IPV4_SPECIAL: readonly SpecialBlock[] = [
  { block: '0.0.0.0/8', name: 'This network', rfc: 'RFC 791 §3.2' },
  { block: '10.0.0.0/8', name: 'Private-Use', rfc: 'RFC 1918' },
  { block: '100.64.0.0/10', name: 'Shared Address Space', rfc: 'RFC 6598' },
  { block: '127.0.0.0/8', name: 'Loopback', rfc: 'RFC 1122 §3.2.1.3' },
  { block: '169.254.0.0/16', name: 'Link Local', rfc: 'RFC 3927' },
  { block: '172.16.0.0/12', name: 'Private-Use', rfc: 'RFC 1918' },
  // Covers 192.0.0.0/29 DS-Lite (RFC 7335), .8 dummy (RFC 7600), .9 PCP anycast (RFC 7723), .10 TURN anycast
  // (RFC 8155), .170/.171 NAT64/DNS64 discovery (RFC 8880).
  { block: '192.0.0.0/24', name: 'IETF Protocol Assignments', rfc: 'RFC 6890 §2.1' },
  { block: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737' },
  { block: '192.31.196.0/24', name: 'AS112-v4', rfc: 'RFC 7535' },
  { block: '192.52.193.0/24', name: 'AMT', rfc: 'RFC 7450' },
  { block: '192.88.99.0/24', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526' },
  { block: '192.168.0.0/16', name: 'Private-Use', rfc: 'RFC 1918' },
  { block: '192.175.48.0/24', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534' },
  { block: '198.18.0.0/15', name: 'Benchmarking', rfc: 'RFC 2544' },
  { block: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737' },
  { block: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737' },
  { block: '224.0.0.0/4', name: 'Multicast (IANA IPv4 Multicast Address Space registry)', rfc: 'RFC 5771' },
  // Includes 255.255.255.255/32, Limited Broadcast (RFC 919 §7, RFC 8190).
  { block: '240.0.0.0/4', name: 'Reserved', rfc: 'RFC 1112 §4' },
];

export const IPV6_SPECIAL: readonly SpecialBlock[] = [
  // ::/128 Unspecified and ::1/128 Loopback (RFC 4291) lie inside it; so does ::ffff:0:0:0/96 (SIIT, RFC 2765).
  { block: '::/96', name: 'IPv4-compatible (deprecated), Unspecified, Loopback', rfc: 'RFC 4291 §2.5.2, §2.5.3, §2.5.5.1' },
  { block: '::ffff:0:0/96', name: 'IPv4-mapped Address', rfc: 'RFC 4291 §2.5.5.2' },
  { block: '64:ff9b::/96', name: 'IPv4-IPv6 Translat.', rfc: 'RFC 6052' },
  { block: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translat. (local use)', rfc: 'RFC 8215' },
  { block: '100::/64', name: 'Discard-Only Address Block', rfc: 'RFC 6666' },
  { block: '100:0:0:1::/64', name: 'Dummy IPv6 Prefix', rfc: 'RFC 9780' },
  // Covers TEREDO 2001::/32 (RFC 4380), PCP/TURN/DNS-SD anycast 2001:1::1-3 (RFC 7723, 8155, 9665), Benchmarking
  // 2001:2::/48 (RFC 5180), AMT 2001:3::/32 (RFC 7450), AS112-v6 2001:4:112::/48 (RFC 7535), ORCHID 2001:10::/28
  // (RFC 4843), ORCHIDv2 2001:20::/28 (RFC 7343), Drone Remote ID 2001:30::/28 (RFC 9374).
  { block: '2001::/23', name: 'IETF Protocol Assignments', rfc: 'RFC 2928' },
  { block: '2001:db8::/32', name: 'Documentation', rfc: 'RFC 3849' },
  { block: '2002::/16', name: '6to4', rfc: 'RFC 3056' },
  { block: '2620:4f:8000::/48', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534' },
  { block: '3fff::/20', name: 'Documentation', rfc: 'RFC 9637' },
  { block: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602' },
  { block: 'fc00::/7', name: 'Unique-Local', rfc: 'RFC 4193' },
  { block: 'fe80::/10', name: 'Link-Local Unicast', rfc: 'RFC 4291' },
  { block: 'fec0::/10', name: 'Site-Local (deprecated; IANA IPv6 Address Space registry)', rfc: 'RFC 3879' },
  { block: 'ff00::/8', name: 'Multicast (IANA IPv6 Address Space registry)', rfc: 'RFC 4291 §2.7' },
];

/**
 * IANA allocates unicast only from 2000::/3 (IPv6 Address Space registry); everything else is reserved or one of the
 * blocks above. An address outside it is refused even if a future registry entry is missing here.
 */
export const IPV6_GLOBAL_UNICAST = '2000::/3';
