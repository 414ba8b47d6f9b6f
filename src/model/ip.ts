// Canonical text for addresses, so that "2001:DB8::0100/64" in a file equals the kernel's "2001:db8::100/64".
import ipaddr from 'ipaddr.js';
import type { Family } from './types.js';

export function familyOf(ip: string): Family {
  return ipaddr.parse(ip.split('/')[0] ?? ip).kind() === 'ipv6' ? 6 : 4;
}

export function canonicalIp(ip: string): string {
  const parsed = ipaddr.parse(ip);
  return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
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

export function isIpv6(text: string): boolean {
  return ipaddr.IPv6.isValid(text);
}
