// The nat and firewall keys of a node → the nftables table the lab wants there. Pure.
// Rules are rendered in nft syntax from validated values; each carries a comment naming it, so
// that plan can tell which rules are missing, extra or changed.
import { createHash } from 'node:crypto';
import { familyOf, parseHostPort } from './ip.js';
import { ownerMark } from './names.js';
import { CLAMP_MSS, icmpMatch, tcpFlagsMatch } from './nft-match.js';
import type { FirewallChainSpec, FirewallRuleSpec, NatRuleSpec, NodeSpec } from './spec.js';
import type { NftChain, NftHook, NftRule, NftTable } from './types.js';

export function nftTableName(lab: string): string {
  return `netlab-${lab}`;
}

/** Priorities as numbers: nft 1.0 accepts "dstnat" for prerouting but not for output. */
const PRIORITY = { dstnat: -100, filter: 0, srcnat: 100 } as const;

function ifaceMatch(key: 'iifname' | 'oifname', value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.startsWith('!') ? [`${key} != "${value.slice(1)}"`] : [`${key} "${value}"`];
}

function addressMatch(direction: 'saddr' | 'daddr', value: string | undefined): string[] {
  if (value === undefined) return [];
  return [`${familyOf(value) === 6 ? 'ip6' : 'ip'} ${direction} ${value}`];
}

function protoMatch(proto: string | undefined, port: number | undefined): string[] {
  if (proto === undefined) return [];
  if (port !== undefined) return [`${proto} dport ${port}`];
  return [`meta l4proto ${proto === 'icmpv6' ? 'ipv6-icmp' : proto}`];
}

/** "172.18.0.10:11211" / "[2001:db8::10]:80" / "172.18.0.10" → nft's "ip to 172.18.0.10:11211". */
export function natTarget(to: string): string {
  const target = parseHostPort(to);
  if (target?.ip.family !== 6) return `ip to ${to}`;
  // As written, so that the rule's text (and so its id) is the file's; a bare address loses its brackets.
  return `ip6 to ${target.port === undefined ? to.replace(/^\[(.*)\]$/, '$1') : to}`;
}

/** In the order the seed's iptables rules give them: -s, -d, -i, -o, -p --dport. */
function natMatches(rule: NatRuleSpec, local: boolean): string[] {
  return [
    ...addressMatch('saddr', rule.source),
    ...addressMatch('daddr', rule.destination),
    ...(local ? ['fib daddr type local'] : ifaceMatch('iifname', rule.in)),
    ...ifaceMatch('oifname', rule.out),
    ...protoMatch(rule.proto, rule.port),
  ];
}

function natAction(rule: NatRuleSpec): string {
  switch (rule.type) {
    case 'masquerade':
      return 'masquerade';
    case 'snat':
      return `snat ${natTarget(rule.to!)}`;
    case 'dnat':
      return `dnat ${natTarget(rule.to!)}`;
  }
}

/**
 * A firewall rule's protocol matches: an ICMP type and code, TCP flags and a port each imply
 * their protocol, as nft adds that dependency itself; only a bare proto is matched as such.
 */
function firewallProtoMatch(rule: FirewallRuleSpec): string[] {
  const { proto } = rule;
  if ((proto === 'icmp' || proto === 'icmpv6') && rule.icmp !== undefined) return icmpMatch(proto, rule.icmp, rule.code);
  if (proto === 'tcp' && rule.flags?.length) return [...(rule.port !== undefined ? [`tcp dport ${rule.port}`] : []), tcpFlagsMatch(rule.flags)];
  return protoMatch(proto, rule.port);
}

function firewallText(rule: FirewallRuleSpec): string {
  const state = rule.state?.length ? [`ct state ${rule.state.length === 1 ? rule.state[0] : `{ ${rule.state.join(', ')} }`}`] : [];
  return [
    ...ifaceMatch('iifname', rule.in),
    ...ifaceMatch('oifname', rule.out),
    ...addressMatch('saddr', rule.source),
    ...addressMatch('daddr', rule.destination),
    ...firewallProtoMatch(rule),
    ...state,
    rule.action === 'clamp-mss' ? CLAMP_MSS : rule.action,
  ].join(' ');
}

/** Ids are stable for the same rule in the same chain; a repeated rule gets its occurrence number. */
function withIds(chain: string, texts: string[]): NftRule[] {
  const seen = new Map<string, number>();
  return texts.map((text) => {
    const n = (seen.get(text) ?? 0) + 1;
    seen.set(text, n);
    const hash = createHash('sha256').update(`${chain}\n${text}\n${n}`).digest('hex').slice(0, 12);
    return { id: `netlab:${hash}`, text };
  });
}

function chain(name: string, type: NftChain['type'], hook: NftHook, priority: number, policy: NftChain['policy'], texts: string[]): NftChain {
  return { name, type, hook, priority, policy, rules: withIds(name, texts) };
}

export function desiredNftTable(node: NodeSpec): NftTable | undefined {
  const nat = node.nat ?? [];
  const firewall = node.firewall ?? {};
  const chains: NftChain[] = [];
  const line = (rule: NatRuleSpec, local = false) => [...natMatches(rule, local), natAction(rule)].join(' ');
  const dnat = nat.filter((r) => r.type === 'dnat');
  const snat = nat.filter((r) => r.type !== 'dnat');
  if (dnat.length) chains.push(chain('nat_prerouting', 'nat', 'prerouting', PRIORITY.dstnat, 'accept', dnat.map((r) => line(r))));
  // The seed's second DNAT rule: connections the node makes itself pass OUTPUT, not PREROUTING.
  const local = dnat.filter((r) => r.local);
  if (local.length) chains.push(chain('nat_output', 'nat', 'output', PRIORITY.dstnat, 'accept', local.map((r) => line(r, true))));
  if (snat.length) chains.push(chain('nat_postrouting', 'nat', 'postrouting', PRIORITY.srcnat, 'accept', snat.map((r) => line(r))));
  for (const hook of ['input', 'forward', 'output'] as const) {
    const spec: FirewallChainSpec | undefined = firewall[hook];
    if (!spec) continue;
    chains.push(chain(hook, 'filter', hook, PRIORITY.filter, spec.policy ?? 'accept', (spec.rules ?? []).map(firewallText)));
  }
  return chains.length ? { chains } : undefined;
}

/**
 * The nft script that replaces the lab's table atomically: one transaction, so no moment without
 * rules. The table's comment is the lab's mark, which the kernel keeps with it.
 */
export function nftReplaceScript(lab: string, table: NftTable | undefined): string {
  const name = nftTableName(lab);
  const lines = [`table inet ${name} {}`, `delete table inet ${name}`];
  if (table) {
    lines.push(`table inet ${name} {`, `  comment "${ownerMark(lab)}"`);
    for (const c of table.chains) {
      lines.push(`  chain ${c.name} {`, `    type ${c.type} hook ${c.hook} priority ${c.priority}; policy ${c.policy};`);
      for (const r of c.rules) lines.push(`    ${r.text} comment "${r.id}"`);
      lines.push('  }');
    }
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}
