import { describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../src/identity/address-policy.js';

const NONE: ReadonlySet<string> = new Set();

// Every spelling a URL, a resolver or an operator could hand the directory fetcher, and what it must get.
const REFUSED: readonly [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['127.1', 'loopback, inet_aton short form'],
  ['0x7f.1', 'loopback, hex'],
  ['0x7f000001', 'loopback, one hex number'],
  ['2130706433', 'loopback, one decimal number'],
  ['0177.0.0.1', 'loopback, octal'],
  ['017700000001', 'loopback, one octal number'],
  ['127.0.0.1.', 'loopback, trailing dot'],
  ['0.0.0.0', 'this host'],
  ['0', 'this host, one number'],
  ['10.1.2.3', 'private'],
  ['100.64.0.1', 'shared address space (CGNAT)'],
  ['169.254.169.254', 'link local (cloud metadata)'],
  ['0xa9.0xfe.0xa9.0xfe', 'link local, hex'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private, last address'],
  ['192.0.0.9', 'PCP anycast'],
  ['192.0.0.170', 'NAT64 discovery'],
  ['192.0.2.1', 'TEST-NET-1'],
  ['192.31.196.1', 'AS112-v4'],
  ['192.52.193.1', 'AMT'],
  ['192.88.99.1', '6to4 relay anycast'],
  ['192.168.1.1', 'private'],
  ['192.175.48.1', 'AS112 direct delegation'],
  ['198.18.0.1', 'benchmarking'],
  ['198.51.100.7', 'TEST-NET-2'],
  ['203.0.113.9', 'TEST-NET-3'],
  ['224.0.0.1', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'limited broadcast'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback, uncompressed'],
  ['0000:0000:0000:0000:0000:0000:0000:0001', 'loopback, zero-padded'],
  ['[::1]', 'loopback, bracketed'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback, dotted'],
  ['::FFFF:7F00:1', 'IPv4-mapped loopback, hex, upper case'],
  ['0:0:0:0:0:ffff:7f00:0001', 'IPv4-mapped loopback, uncompressed'],
  ['::ffff:8.8.8.8', 'IPv4-mapped (a special-purpose block whatever it maps)'],
  ['::ffff:0:7f00:1', 'IPv4-translated (SIIT)'],
  ['::127.0.0.1', 'IPv4-compatible loopback (deprecated)'],
  ['::8.8.8.8', 'IPv4-compatible'],
  ['64:ff9b::7f00:1', 'NAT64 well-known prefix, loopback'],
  ['64:ff9b::8.8.8.8', 'NAT64 well-known prefix, dotted'],
  ['64:ff9b:1::a00:1', 'NAT64 local-use prefix'],
  ['64:FF9B:1:0:0:0:0:1', 'NAT64 local-use prefix, upper case, uncompressed'],
  ['2002:7f00:1::', '6to4 of 127.0.0.1'],
  ['2002:0808:0808::1', '6to4 of a public address'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ['2001::1', 'Teredo, compressed'],
  ['2001:1::1', 'PCP anycast'],
  ['2001:2::1', 'benchmarking'],
  ['2001:3::1', 'AMT'],
  ['2001:4:112::1', 'AS112-v6'],
  ['2001:20::1', 'ORCHIDv2'],
  ['2001:30::1', 'drone remote ID'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation (RFC 9637)'],
  ['2620:4f:8000::1', 'AS112 direct delegation'],
  ['100::1', 'discard-only'],
  ['100:0:0:1::1', 'dummy prefix'],
  ['5f00::1', 'SRv6 SIDs'],
  ['fc00::1', 'unique local'],
  ['FD12:3456::1', 'unique local, upper case'],
  ['fe80::1', 'link local'],
  ['fe80::1%eth0', 'link local with a zone id'],
  ['[fe80::1%25eth0]', 'link local, bracketed, URL-encoded zone id'],
  ['fec0::1', 'site local (deprecated)'],
  ['ff02::1', 'multicast'],
  ['4000::1', 'outside 2000::/3'],
  ['localhost', 'not an IP literal'],
  ['1.2.3.4.5', 'not an IP literal'],
  ['256.0.0.1', 'not an IP literal'],
  ['1::2::3', 'not an IP literal'],
  ['::ffff:127.0.0.01', 'not an IP literal (no octal in an IPv6 dotted tail)'],
];

const PUBLIC: readonly [string, string][] = [
  ['8.8.8.8', 'dotted'],
  ['0x8.0x8.0x8.0x8', 'hex parts'],
  ['134744072', 'one number'],
  ['192.0.1.1', 'next to 192.0.0.0/24'],
  ['100.128.0.1', 'next to 100.64.0.0/10'],
  ['172.32.0.1', 'next to 172.16.0.0/12'],
  ['2606:4700:4700::1111', 'compressed'],
  ['2606:4700:4700:0:0:0:0:1111', 'uncompressed'],
  ['2A00:1450:4001:82B::200E', 'upper case'],
  ['[2606:4700:4700::1111]', 'bracketed'],
  ['2001:200::1', 'next to 2001::/23'],
  ['2003::1', 'next to 2002::/16'],
];

describe('directory fetch address guard', () => {
  it.each(REFUSED)('refuses %s (%s)', (address) => {
    expect(isPublicAddress(address, NONE)).toBe(false);
  });

  it.each(PUBLIC)('allows public %s (%s)', (address) => {
    expect(isPublicAddress(address, NONE)).toBe(true);
  });

  it('matches the allowlist on the address, not its spelling; an IPv4-mapped address counts as its IPv4', () => {
    const allow = new Set(['127.0.0.1', '0:0:0:0:0:0:0:1']);
    for (const address of ['127.0.0.1', '0x7f.0.0.1', '2130706433', '::ffff:127.0.0.1', '::FFFF:7f00:1', '::1', '[::1]']) expect(isPublicAddress(address, allow)).toBe(true);
    // Other IPv4-embedding forms are other addresses: a NAT64 gateway or 6to4 relay would be dialled, not 127.0.0.1.
    for (const address of ['64:ff9b::7f00:1', '2002:7f00:1::', '::127.0.0.1', '127.0.0.2']) expect(isPublicAddress(address, allow)).toBe(false);
  });
});
