// IP addresses and CIDRs: the one parser (strict, as a lab file must write them), canonical text
// (so that "2001:DB8::0100/64" in a file equals the kernel's "2001:db8::100/64"), and the
// arithmetic the checks and the planner need (network part, host bits, containment, ports).
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  bytes: number[];
  /** Canonical text: 172.18.0.1, 2001:db8::1. */
  text: string;
}

export interface Cidr {
  ip: Ip;
  length: number;
}

/** Strict: dotted quad for IPv4 (no "10.1" or octal), no zone id for IPv6. */
export function parseIp(text: string): Ip | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const ip = ipaddr.IPv4.parse(text);
    return { family: 4, bytes: ip.toByteArray(), text: ip.toString() };
  }
  if (!text.includes('%') && !text.includes('/') && ipaddr.IPv6.isValid(text)) {
    const ip = ipaddr.IPv6.parse(text);
    return { family: 6, bytes: ip.toByteArray(), text: ip.toRFC5952String() };
  }
  return undefined;
}

export type CidrResult = { cidr: Cidr } | { problem: 'no-length'; ip?: Ip } | { problem: 'bad-ip' } | { problem: 'bad-length'; ip: Ip };

export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = parseIp(text);
    return ip ? { problem: 'no-length', ip } : { problem: 'bad-ip' };
  }
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return { problem: 'bad-ip' };
  const lengthText = text.slice(slash + 1);
  const length = Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText) || length > maxLength(ip.family)) return { problem: 'bad-length', ip };
  return { cidr: { ip, length } };
}

/** "172.18.0.10/16": an interface address as the kernel prints it, host bits kept. */
export function cidrText(cidr: Cidr): string {
  return `${cidr.ip.text}/${cidr.length}`;
}

export function maxLength(family: Family): number {
  return family === 4 ? 32 : 128;
}

export function familyName(family: Family): string {
  return family === 4 ? 'IPv4' : 'IPv6';
}

export function exampleCidr(family: Family | undefined): string {
  return family === 6 ? '2001:db8::10/64' : '172.18.0.10/24';
}

/** The network part of an address: host bits cleared. */
function networkOf(cidr: Cidr): Ip {
  const bytes = cidr.ip.bytes.map((byte, i) => {
    const bits = Math.max(0, Math.min(8, cidr.length - i * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
  return ipFromBytes(cidr.ip.family, bytes);
}

function ipFromBytes(family: Family, bytes: number[]): Ip {
  const ip = ipaddr.fromByteArray(bytes);
  return { family, bytes, text: family === 4 ? ip.toString() : (ip as ipaddr.IPv6).toRFC5952String() };
}

export function hasHostBits(cidr: Cidr): boolean {
  return networkOf(cidr).text !== cidr.ip.text;
}

export function contains(net: Cidr, ip: Ip): boolean {
  return net.ip.family === ip.family && networkOf(net).text === networkOf({ ip, length: net.length }).text;
}

export function subnetText(cidr: Cidr): string {
  return `${networkOf(cidr).text}/${cidr.length}`;
}

/** fe80::/10, given parsed or as text. */
export function isLinkLocal6(ip: Ip | string): boolean {
  const parsed = typeof ip === 'string' ? parseIp(ip) : ip;
  return parsed?.family === 6 && parsed.bytes[0] === 0xfe && (parsed.bytes[1]! & 0xc0) === 0x80;
}

/** ADDR, ADDR:PORT, or [V6ADDR]:PORT. */
export function parseHostPort(text: string): { ip: Ip; port?: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    const ip = parseIp(bracketed[1]!);
    if (ip?.family !== 6) return undefined;
    return withPort(ip, bracketed[2]);
  }
  const plain = parseIp(text);
  if (plain) return { ip: plain };
  const v4 = /^([0-9.]+):(\d+)$/.exec(text);
  const ip = v4 ? parseIp(v4[1]!) : undefined;
  return ip ? withPort(ip, v4![2]) : undefined;
}

function withPort(ip: Ip, portText: string | undefined): { ip: Ip; port?: number } | undefined {
  if (portText === undefined) return { ip };
  const port = Number(portText);
  return isPort(port) ? { ip, port } : undefined;
}

export function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * Canonical text of an address the kernel or a validated file wrote. Not strict: what the
 * kernel prints is taken as it comes.
 */
export function canonicalIp(text: string): string {
  const strict = parseIp(text);
  if (strict) return strict.text;
  const parsed = ipaddr.parse(text);
  return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
}

export function familyOf(ip: string): Family {
  return ipaddr.parse(ipOfCidr(ip)).kind() === 'ipv6' ? 6 : 4;
}

/** "172.18.0.10/16" → "172.18.0.10/16", keeping host bits (an interface address). */
export function canonicalCidr(cidr: string): string {
  const [ip, len] = cidr.split('/');
  return `${canonicalIp(ip ?? '')}/${Number(len)}`;
}

/** A route destination: "default" stays, as does 0.0.0.0/0 or ::/0 (the kernel says "default"); a CIDR is canonicalised. */
export function canonicalDestination(to: string): string {
  if (to === 'default' || to.endsWith('/0')) return 'default';
  return canonicalCidr(to);
}

export function ipOfCidr(cidr: string): string {
  return cidr.split('/')[0] ?? cidr;
}

/** Whether ip lies inside the subnet of an interface address ("10.0.0.1/24" holds 10.0.0.7). */
export function subnetContains(cidr: string, ip: string): boolean {
  const [net, len] = ipaddr.parseCIDR(cidr);
  const addr = ipaddr.parse(ip);
  return addr.kind() === net.kind() && addr.match(net, len);
}

/** "2001:db8::1", "2001:db8::/64", "[2001:db8::1]:80", "!2001:db8::/32": an IPv6 address, however written. */
export function isIpv6Text(text: string | undefined): boolean {
  if (text === undefined) return false;
  const bare = text.replace(/^!/, '').replace(/^\[([^\]]*)\](:\d+)?$/, '$1').replace(/\/\d+$/, '');
  return bare.includes(':') && ipaddr.IPv6.isValid(bare);
}
