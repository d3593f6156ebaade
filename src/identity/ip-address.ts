/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/**
 * Parses an IP literal the way the system resolver and the WHATWG URL parser read one, so no spelling slips past a
 * check on the parsed form: IPv4 in inet_aton's forms (1 to 4 parts, each decimal, 0x-hex or 0-octal: 0x7f.1,
 * 2130706433, 0177.0.0.1, with an optional trailing dot); IPv6 in any case, compressed or not, with a dotted IPv4
 * tail, in brackets, with a zone id (%eth0, dropped: it picks an interface, not an address). Undefined when it is not
 * an IP literal.
 */
export function parseIp(text: string): IpAddress | undefined {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.includes(':')) {
    const zone = s.indexOf('%');
    const bytes = parseIpv6(zone === -1 ? s : s.slice(0, zone));
    return bytes === undefined ? undefined : { family: 6, bytes };
  }
  const bytes = parseIpv4(s);
  return bytes === undefined ? undefined : { family: 4, bytes };
}

function parseIpv4(s: string, strict = false): Uint8Array | undefined {
  const parts = (s.endsWith('.') && !strict ? s.slice(0, -1) : s).split('.');
  if (parts.length === 0 || parts.length > 4 || (strict && parts.length !== 4)) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = strict ? (/^(0|[1-9]\d{0,2})$/.test(part) ? Number(part) : NaN) : ipv4Number(part);
    if (Number.isNaN(n)) return undefined;
    numbers.push(n);
  }
  // inet_aton: the last part fills every byte the earlier ones leave.
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  const value = numbers.reduce((acc, n, i) => acc + n * 256 ** (3 - i), 0) + last;
  return Uint8Array.of(Math.floor(value / 2 ** 24) % 256, Math.floor(value / 2 ** 16) % 256, Math.floor(value / 2 ** 8) % 256, value % 256);
}

function ipv4Number(part: string): number {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part.slice(1), 8);
  if (/^(0|[1-9]\d*)$/.test(part)) return Number(part);
  return NaN;
}

function parseIpv6(s: string): Uint8Array | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece, true);
        if (v4 === undefined) return undefined;
        out.push(v4[0]! * 256 + v4[1]!, v4[2]! * 256 + v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  // A dotted tail is only legal at the very end.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** True when `ip` lies in `cidr` (same family; e.g. `10.0.0.0/8`, `2002::/16`). */
export function inBlock(ip: IpAddress, cidr: { readonly family: 4 | 6; readonly bytes: Uint8Array; readonly prefix: number }): boolean {
  if (ip.family !== cidr.family) return false;
  for (let bit = 0; bit < cidr.prefix; bit += 8) {
    const take = Math.min(8, cidr.prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((ip.bytes[bit / 8]! & mask) !== (cidr.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

/** A CIDR block parsed once; throws on a malformed one (they are constants). */
export function parseBlock(cidr: string): { family: 4 | 6; bytes: Uint8Array; prefix: number } {
  const [address, length] = cidr.split('/');
  const ip = parseIp(address ?? '');
  const prefix = Number(length);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > ip.bytes.length * 8) throw new TypeError(`bad CIDR block ${cidr}`);
  return { ...ip, prefix };
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed), for allowlist matching. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [...ip.bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!);
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

/** The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for: sockets dial it as that IPv4. */
export function unmapIpv4(ip: IpAddress): IpAddress | undefined {
  if (ip.family !== 6 || ip.bytes.subarray(0, 10).some((b) => b !== 0) || ip.bytes[10] !== 0xff || ip.bytes[11] !== 0xff) return undefined;
  return { family: 4, bytes: ip.bytes.slice(12) };
}
