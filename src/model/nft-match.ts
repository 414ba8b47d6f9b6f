// The ICMP and TCP matches a firewall rule may make, and the names nft knows for them. Pure: one
// table for the checks (which names exist) and for the renderer (what nft is told).

/** nft's names of ICMP types (`nft describe icmp type`). */
export const ICMP_TYPES = [
  'echo-reply', 'destination-unreachable', 'source-quench', 'redirect', 'echo-request', 'router-advertisement', 'router-solicitation',
  'time-exceeded', 'parameter-problem', 'timestamp-request', 'timestamp-reply', 'info-request', 'info-reply', 'address-mask-request', 'address-mask-reply',
] as const;

/** nft's names of ICMPv6 types (`nft describe icmpv6 type`). */
export const ICMPV6_TYPES = [
  'destination-unreachable', 'packet-too-big', 'time-exceeded', 'parameter-problem', 'echo-request', 'echo-reply', 'mld-listener-query',
  'mld-listener-report', 'mld-listener-done', 'mld-listener-reduction', 'nd-router-solicit', 'nd-router-advert', 'nd-neighbor-solicit',
  'nd-neighbor-advert', 'nd-redirect', 'router-renumbering', 'ind-neighbor-solicit', 'ind-neighbor-advert', 'mld2-listener-report',
] as const;

/** nft's names of ICMP codes; frag-needed is "fragmentation needed", what PMTU discovery needs. */
export const ICMP_CODES = ['net-unreachable', 'host-unreachable', 'prot-unreachable', 'port-unreachable', 'frag-needed', 'net-prohibited', 'host-prohibited', 'admin-prohibited'] as const;

/** nft's names of ICMPv6 codes (of destination-unreachable). */
export const ICMPV6_CODES = ['no-route', 'admin-prohibited', 'addr-unreachable', 'port-unreachable', 'policy-fail', 'reject-route'] as const;

export const TCP_FLAGS = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ecn', 'cwr'] as const;

export type IcmpProto = 'icmp' | 'icmpv6';

/** The names one ICMP knows for its types or codes. */
export function icmpNames(proto: IcmpProto, what: 'type' | 'code'): readonly string[] {
  if (what === 'type') return proto === 'icmp' ? ICMP_TYPES : ICMPV6_TYPES;
  return proto === 'icmp' ? ICMP_CODES : ICMPV6_CODES;
}

/** A type or code as the file writes it: a name nft knows, or a number 0..255. */
export function isIcmpValue(proto: IcmpProto, what: 'type' | 'code', value: string | number): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 255;
  return icmpNames(proto, what).includes(value);
}

/** "icmp type destination-unreachable icmp code frag-needed": what nft matches. */
export function icmpMatch(proto: IcmpProto, type: string | number, code: string | number | undefined): string[] {
  return [`${proto} type ${type}`, ...(code !== undefined ? [`${proto} code ${code}`] : [])];
}

/** ["syn", "!ack"] → the flags set and the flags clear. */
export function splitFlags(flags: readonly string[]): { set: string[]; clear: string[] } {
  return { set: flags.filter((f) => !f.startsWith('!')), clear: flags.filter((f) => f.startsWith('!')).map((f) => f.slice(1)) };
}

/**
 * [syn, "!rst"] → "tcp flags & (syn | rst) == syn": of the flags named, those without "!" are
 * set and those with it are clear; the others do not matter. (nft's shorter "syn / syn,rst"
 * takes no mask of one flag.)
 */
export function tcpFlagsMatch(flags: readonly string[]): string {
  const { set, clear } = splitFlags(flags);
  const mask = TCP_FLAGS.filter((f) => set.includes(f) || clear.includes(f));
  const value = TCP_FLAGS.filter((f) => set.includes(f));
  return `tcp flags & (${mask.join(' | ')}) == ${value.length ? value.join(' | ') : '0x0'}`;
}

/** The statement of the clamp-mss action: each SYN's MSS option set to what the route's MTU allows. */
export const CLAMP_MSS = 'tcp option maxseg size set rt mtu';
