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
