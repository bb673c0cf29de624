/**
 * Pure IPv4 CIDR arithmetic and the subnet plan of the network component.
 */

export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  address: number;
  prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** True for a well-formed IPv4 CIDR whose address is the network address ("10.0.0.0/16"). */
export function isCidr(value: string): boolean {
  const m = CIDR.exec(value);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return false;
  const address = toNumber(octets);
  return (address & mask(prefix)) >>> 0 === address;
}

/** "10.0.0.0/16" -> { address, prefix }. Throws on a malformed block or host bits set. */
export function parseCidr(value: string): Cidr {
  if (!isCidr(value))
    throw new Error(`"${value}" is not an IPv4 CIDR block with its network address, e.g. 10.0.0.0/16`);
  const m = CIDR.exec(value)!;
  return { address: toNumber(m.slice(1, 5).map(Number)), prefix: Number(m[5]) };
}

export function formatCidr(c: Cidr): string {
  const a = c.address;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${c.prefix}`;
}

/** The `netnum`-th block of `newbits` more prefix bits inside `base` (Terraform's cidrsubnet). */
export function subnet(base: string, newbits: number, netnum: number): string {
  const c = parseCidr(base);
  const prefix = c.prefix + newbits;
  if (prefix > 32) throw new Error(`${base} has no room for /${prefix} subnets`);
  if (netnum < 0 || netnum >= 2 ** newbits)
    throw new Error(`${base} holds ${2 ** newbits} /${prefix} subnets; #${netnum} is out of range`);
  return formatCidr({ address: (c.address + netnum * 2 ** (32 - prefix)) >>> 0, prefix });
}

/** The address blocks of one availability zone. */
export interface ZoneSubnets {
  /** Load balancer and NAT gateways. */
  public: string;
  /** Application tasks; reaches the internet through NAT. */
  private: string;
  /** Data stores; no route out of the VPC at all. */
  isolated: string;
}

/** Zones the subnet plan has room for. */
export const MAX_ZONES = 6;

/**
 * Splits the VPC block into eighths: zones 0-5 take one eighth each for private subnets (the app
 * tier gets the most addresses), the seventh eighth holds the public subnets and the eighth the
 * isolated ones, each an eighth of an eighth. A /16 gives /19 private and /22 public and isolated
 * subnets. Adding a zone later never moves an existing subnet.
 */
export function planSubnets(vpcCidr: string, zones: number): ZoneSubnets[] {
  if (!Number.isInteger(zones) || zones < 1 || zones > MAX_ZONES)
    throw new Error(`the subnet plan holds 1 to ${MAX_ZONES} zones, not ${zones}`);
  return Array.from({ length: zones }, (_, i) => ({
    private: subnet(vpcCidr, 3, i),
    public: subnet(vpcCidr, 6, 48 + i),
    isolated: subnet(vpcCidr, 6, 56 + i),
  }));
}

function toNumber(octets: number[]): number {
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** An address range of either family, as inclusive bounds, for set arithmetic over rule sources. */
export interface AddressRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

const FAMILY_BITS = { 4: 32, 6: 128 } as const;

function ipv4Bits(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
}

function ipv6Bits(text: string): bigint | undefined {
  let head = text;
  let tail4: bigint | undefined;
  // A trailing dotted quad (::ffff:10.0.0.1) is the last 32 bits.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail4 = ipv4Bits(dotted[2]!);
    if (tail4 === undefined) return undefined;
    head = `${dotted[1]}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...right];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const bits = all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
  return tail4 === undefined ? bits : (bits & ~0xffffffffn) | tail4;
}

/**
 * The range a CIDR block covers, however it is spelled: IPv4 or IPv6, zeros compressed or not,
 * with host bits set ("10.0.0.1/0" is the whole space, as the prefix says). Undefined when the
 * text is not a CIDR block.
 */
export function addressRange(cidr: string): AddressRange | undefined {
  const m = /^\s*([0-9a-fA-F:.]+)\/(\d{1,3})\s*$/.exec(cidr);
  if (!m) return undefined;
  const family = m[1]!.includes(":") ? 6 : 4;
  const address = family === 4 ? ipv4Bits(m[1]!) : ipv6Bits(m[1]!);
  const prefix = Number(m[2]);
  const bits = FAMILY_BITS[family];
  if (address === undefined || prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const first = (address >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n };
}

/**
 * The address families whose whole space the blocks cover together: `[4]` for "0.0.0.0/0", and
 * also for "0.0.0.0/1" + "128.0.0.0/1"; `[6]` for "::/0" or "0:0::/1" + "8000::/1". A rule open
 * to such a set is open to the internet, whichever way it is written.
 */
export function worldFamilies(cidrs: readonly string[]): Array<4 | 6> {
  const ranges = cidrs.map(addressRange).filter((r): r is AddressRange => r !== undefined);
  return ([4, 6] as const).filter((family) => {
    const mine = ranges.filter((r) => r.family === family).sort((a, b) => (a.first < b.first ? -1 : 1));
    let next = 0n; // the first address not yet covered
    for (const r of mine) {
      if (r.first > next) return false;
      if (r.last + 1n > next) next = r.last + 1n;
    }
    return next === 1n << BigInt(FAMILY_BITS[family]);
  });
}
