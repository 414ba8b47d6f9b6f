// NAT and firewall rules: address and interface matches, one family per rule, ports with a
// protocol that has them, and what each NAT type and firewall chain can match.
import { contains, familyName, hasHostBits, parseCidr, parseHostPort, parseIp, subnetText, type Family, type Ip } from '../../model/ip.js';
import { kindOf } from '../../model/spec.js';
import type { Path } from '../problem.js';
import type { NodeSpec } from '../spec.js';
import { didYouMean } from '../text.js';
import { addressesOf } from './addresses.js';
import { deviceList, devicesOf, nodeEntries, report, warn, type Ctx } from './context.js';
import { checkFirewallMatches } from './firewall-matches.js';
import { ifnameMessage } from './ifnames.js';

/** An IP or CIDR to match; its family, or null after reporting a problem. */
function checkAddressMatch(ctx: Ctx, text: string, path: Path, key: string): Family | null {
  const ip = parseIp(text);
  if (ip) return ip.family;
  const parsed = parseCidr(text);
  if ('cidr' in parsed) {
    if (!hasHostBits(parsed.cidr)) return parsed.cidr.ip.family;
    report(
      ctx,
      path,
      `${key} ${text} has host bits set`,
      `did you mean ${subnetText(parsed.cidr)}? (or ${parsed.cidr.ip.text} for one address)`,
    );
    return null;
  }
  report(ctx, path, `${key} ${JSON.stringify(text)} is neither an IP address nor a CIDR`, 'e.g. 172.18.0.0/16 or 172.18.0.10');
  return null;
}

/** `in`/`out`: an interface or bridge of the node, after an optional '!'. */
function checkIfnameMatch(ctx: Ctx, name: string, node: NodeSpec, key: 'in' | 'out', text: string, path: Path): void {
  const ifname = text.startsWith('!') ? text.slice(1) : text;
  if (ifname === '') {
    report(ctx, path, `${key}: ${JSON.stringify(text)} names no interface`, `write ${key}: "!eth0" to match every interface but eth0`);
    return;
  }
  const problem = ifnameMessage(ifname, ` in ${key}: ${JSON.stringify(text)}`);
  if (problem) {
    report(ctx, path, problem.message, problem.hint);
    return;
  }
  const devices = devicesOf(ctx, name, node);
  if (kindOf(node) === 'netns' && !devices.has(ifname)) {
    report(
      ctx,
      path,
      `${key}: ${ifname} is not an interface or bridge of node ${name} (it has: ${deviceList(devices)})`,
      `name one of them${didYouMean(ifname, [...devices])}`,
    );
  }
}

/** Families of the addresses in one rule must agree: a rule is for IPv4 or for IPv6. */
function checkFamilies(ctx: Ctx, families: RuleFamily[]): Family | undefined {
  const known = families.filter((f): f is RuleFamily & { family: Family } => f.family !== null);
  const first = known[0];
  for (const other of known.slice(1)) {
    if (other.family !== first!.family) {
      report(
        ctx,
        other.path,
        `${other.key} is ${familyName(other.family)} but ${first!.key} is ${familyName(first!.family)}`,
        'a rule matches one family: split it into two rules',
      );
      return undefined;
    }
  }
  return first?.family;
}

function checkPortProto(ctx: Ctx, rule: { port?: number; proto?: string }, path: Path): void {
  if (rule.port === undefined) return;
  if (rule.proto === undefined) report(ctx, [...path, 'port'], `port ${rule.port} needs proto`, 'add proto: tcp or proto: udp');
  else if (rule.proto !== 'tcp' && rule.proto !== 'udp') {
    report(
      ctx,
      [...path, 'port'],
      `port ${rule.port} does not go with proto ${rule.proto}`,
      'a port needs proto: tcp or proto: udp',
    );
  }
}

export function checkNat(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    (node.nat ?? []).forEach((rule, i) => {
      const path = ['nodes', name, 'nat', i];
      checkPortProto(ctx, rule, path);
      if (rule.in !== undefined) checkIfnameMatch(ctx, name, node, 'in', rule.in, [...path, 'in']);
      if (rule.out !== undefined) checkIfnameMatch(ctx, name, node, 'out', rule.out, [...path, 'out']);
      const families = matchFamilies(ctx, rule, path);
      const to = checkNatTarget(ctx, rule, path);
      if (to) families.push({ family: to, path: [...path, 'to'], key: `to ${rule.to}` });
      checkFamilies(ctx, families);
      checkNatHooks(ctx, rule, path);
    });
  }
}

/** The family of an address in a rule, where it is written, and how to name it in a message. */
interface RuleFamily {
  family: Family | null;
  path: Path;
  key: string;
}

function matchFamilies(ctx: Ctx, rule: { source?: string; destination?: string }, path: Path): RuleFamily[] {
  const families: RuleFamily[] = [];
  for (const key of ['source', 'destination'] as const) {
    const text = rule[key];
    if (text === undefined) continue;
    families.push({ family: checkAddressMatch(ctx, text, [...path, key], key), path: [...path, key], key: `${key} ${text}` });
  }
  return families;
}

/** The family of `to` when it is valid; reports a missing, misplaced or malformed one. */
/** Whether some address of some node of the lab has a subnet holding ip. */
function inLabSubnet(ctx: Ctx, ip: Ip): boolean {
  return nodeEntries(ctx.spec).some(([name]) => addressesOf(ctx, name).cidrs.some((cidr) => contains(cidr, ip)));
}

function checkNatTarget(ctx: Ctx, rule: NonNullable<NodeSpec['nat']>[number], path: Path): Family | undefined {
  if (rule.type === 'masquerade') {
    if (rule.to !== undefined) {
      report(
        ctx,
        [...path, 'to'],
        'a masquerade rule takes no to',
        "it uses the address of the outgoing interface: remove to, or use type: snat",
        'key',
      );
    }
    return undefined;
  }
  if (rule.to === undefined) {
    const example = rule.type === 'snat' ? 'to: 198.51.100.100' : 'to: 172.18.0.10:8080';
    report(
      ctx,
      path,
      `a ${rule.type} rule has no "to"`,
      `add ${rule.type === 'snat' ? 'an address' : 'ADDR or ADDR:PORT'}, e.g. ${example}`,
    );
    return undefined;
  }
  if (rule.type === 'snat') {
    const ip = parseIp(rule.to);
    if (!ip) report(ctx, [...path, 'to'], `snat to ${JSON.stringify(rule.to)} is not an IP address`, 'e.g. to: 198.51.100.100');
    return ip?.family;
  }
  const target = parseHostPort(rule.to);
  if (!target) {
    report(
      ctx,
      [...path, 'to'],
      `dnat to ${JSON.stringify(rule.to)} is not ADDR or ADDR:PORT`,
      'e.g. to: 172.18.0.10:8080, or to: "[2001:db8::10]:8080" for IPv6',
    );
  } else if (!inLabSubnet(ctx, target.ip)) {
    warn(
      ctx,
      [...path, 'to'],
      `dnat to ${target.ip.text} is in no subnet of the lab: mapped connections would leave the lab's namespaces`,
      'check the address, or add the namespace that has it',
    );
  }
  return target?.ip.family;
}

/** Source NAT runs after routing (no input interface), dnat before it (no output interface). */
function checkNatHooks(ctx: Ctx, rule: NonNullable<NodeSpec['nat']>[number], path: Path): void {
  if (rule.type !== 'dnat' && rule.in !== undefined) {
    report(
      ctx,
      [...path, 'in'],
      `a ${rule.type} rule cannot match in`,
      'source NAT happens after routing, on the way out: match out instead',
      'key',
    );
  }
  if (rule.type === 'dnat' && rule.out !== undefined) {
    report(
      ctx,
      [...path, 'out'],
      'a dnat rule cannot match out',
      'dnat happens before routing, when the output interface is not known yet: match in instead',
      'key',
    );
  }
  if (rule.local !== undefined && rule.type !== 'dnat') {
    report(ctx, [...path, 'local'], `local is only for dnat rules, not ${rule.type}`, 'remove local', 'key');
  }
}

/** The chain whose packets have no interface on that side. */
const NO_INTERFACE = {
  out: { chain: 'input', why: 'packets to this node have no output interface' },
  in: { chain: 'output', why: 'packets from this node have no input interface' },
} as const;

export function checkFirewall(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const chain of ['input', 'forward', 'output'] as const) {
      (node.firewall?.[chain]?.rules ?? []).forEach((rule, i) => {
        const path = ['nodes', name, 'firewall', chain, 'rules', i];
        checkPortProto(ctx, rule, path);
        for (const key of ['out', 'in'] as const) {
          const value = rule[key];
          if (value === undefined) continue;
          if (chain === NO_INTERFACE[key].chain) {
            report(ctx, [...path, key], `a rule of the ${chain} chain cannot match ${key}`, `${NO_INTERFACE[key].why}: remove ${key}`, 'key');
          } else checkIfnameMatch(ctx, name, node, key, value, [...path, key]);
        }
        const family = checkFamilies(ctx, matchFamilies(ctx, rule, path));
        checkIcmpFamily(ctx, rule.proto, family, path);
        checkFirewallMatches(ctx, rule, chain, path);
      });
    }
  }
}

/** Each ICMP's family, and the proto that would match the other. */
const ICMP = { icmp: { family: 4, other: 'icmpv6' }, icmpv6: { family: 6, other: 'icmp' } } as const;

function checkIcmpFamily(ctx: Ctx, proto: string | undefined, family: Family | undefined, path: Path): void {
  const icmp = proto === 'icmp' || proto === 'icmpv6' ? ICMP[proto] : undefined;
  if (icmp === undefined || family === undefined || family === icmp.family) return;
  report(ctx, [...path, 'proto'], `proto ${proto} is ${familyName(icmp.family)} but the rule matches ${familyName(family)} addresses`, `use proto: ${icmp.other}`);
}
