// A firewall rule's ICMP type and code, TCP flags and clamp-mss action: each with the protocol it
// needs, each name one nft knows, and clamp-mss only where the packet has a route.
import { icmpNames, isIcmpValue, splitFlags, TCP_FLAGS, type IcmpProto } from '../../model/nft-match.js';
import type { Path } from '../problem.js';
import type { FirewallRuleSpec } from '../spec.js';
import { didYouMean } from '../text.js';
import { report, type Ctx } from './context.js';

export function checkFirewallMatches(ctx: Ctx, rule: FirewallRuleSpec, chain: 'input' | 'forward' | 'output', path: Path): void {
  checkIcmp(ctx, rule, path);
  checkFlags(ctx, rule, path);
  checkClampMss(ctx, rule, chain, path);
}

function checkIcmp(ctx: Ctx, rule: FirewallRuleSpec, path: Path): void {
  if (rule.code !== undefined && rule.icmp === undefined) {
    report(ctx, [...path, 'code'], `code ${rule.code} needs icmp, the type it is a code of`, 'e.g. {proto: icmp, icmp: destination-unreachable, code: frag-needed}', 'key');
  }
  if (rule.icmp === undefined) return;
  const proto = rule.proto;
  if (proto !== 'icmp' && proto !== 'icmpv6') {
    const why = proto === undefined ? 'needs proto' : `does not go with proto ${proto}`;
    report(ctx, [...path, 'icmp'], `icmp ${rule.icmp} ${why}`, 'add proto: icmp (IPv4) or proto: icmpv6 (IPv6)');
    return;
  }
  checkIcmpValue(ctx, proto, 'type', rule.icmp, [...path, 'icmp']);
  if (rule.code !== undefined) checkIcmpValue(ctx, proto, 'code', rule.code, [...path, 'code']);
}

function checkIcmpValue(ctx: Ctx, proto: IcmpProto, what: 'type' | 'code', value: string | number, path: Path): void {
  if (isIcmpValue(proto, what, value)) return;
  const names = icmpNames(proto, what);
  const key = what === 'type' ? 'icmp' : 'code';
  if (typeof value === 'number') {
    report(ctx, path, `${key} ${value} is not an ${proto} ${what}`, `use 0..255 or a name: ${names.join(', ')}`);
    return;
  }
  const otherProto = proto === 'icmp' ? 'icmpv6' : 'icmp';
  const other = isIcmpValue(otherProto, what, value) ? ` (${value} is an ${otherProto} ${what}: proto: ${otherProto}?)` : '';
  const hint =
    value === 'frag-needed' && proto === 'icmpv6'
      ? 'ICMPv6 says "fragmentation needed" as icmp: packet-too-big, with no code'
      : what === 'type' && isIcmpValue(proto, 'code', value)
        ? `${value} is a code: write icmp: destination-unreachable, code: ${value}`
        : `use one of: ${names.join(', ')}${didYouMean(value, [...names])}`;
  report(ctx, path, `${key} ${JSON.stringify(value)} is not an ${proto} ${what} nft knows${other}`, hint);
}

function checkFlags(ctx: Ctx, rule: FirewallRuleSpec, path: Path): void {
  if (rule.flags === undefined) return;
  if (rule.proto !== 'tcp') {
    report(ctx, [...path, 'flags'], `flags ${rule.proto === undefined ? 'need proto' : `do not go with proto ${rule.proto}`}`, 'TCP flags need proto: tcp');
  }
  const { set, clear } = splitFlags(rule.flags);
  rule.flags.forEach((flag, i) => {
    const name = flag.startsWith('!') ? flag.slice(1) : flag;
    if (!(TCP_FLAGS as readonly string[]).includes(name)) {
      report(ctx, [...path, 'flags', i], `flags: ${JSON.stringify(flag)} is not a TCP flag`, `use ${TCP_FLAGS.join(', ')}, each with a leading "!" for clear${didYouMean(name, [...TCP_FLAGS])}`);
    }
  });
  for (const flag of set.filter((f) => clear.includes(f))) {
    report(ctx, [...path, 'flags'], `flags has ${flag} both set and clear ("!${flag}")`, 'a flag is set or clear: keep one');
  }
}

/** The kernel knows the route's MTU once a packet is routed: forward and output, not input. */
function checkClampMss(ctx: Ctx, rule: FirewallRuleSpec, chain: 'input' | 'forward' | 'output', path: Path): void {
  if (rule.action !== 'clamp-mss') return;
  if (rule.proto !== undefined && rule.proto !== 'tcp') {
    report(ctx, [...path, 'proto'], `clamp-mss sets a TCP option: it does not go with proto ${rule.proto}`, 'use proto: tcp, or leave proto out');
  }
  if (chain === 'input') {
    report(ctx, [...path, 'action'], 'clamp-mss in the input chain has no route onward to clamp to', 'put it in forward (connections routed through this node) or output (its own)');
  }
}

