// Policy routing rules: a priority of their own, IPv4 selectors that parse, interfaces the node
// has, and a table to look up unless the rule refuses the packet.
import { hasHostBits, parseCidr, parseIp, subnetText } from '../../model/ip.js';
import { kindOf } from '../../model/spec.js';
import type { Path } from '../problem.js';
import { didYouMean } from '../text.js';
import { deviceList, devicesOf, lineOf, nodeEntries, report, type Ctx } from './context.js';

function checkSelector(ctx: Ctx, text: string, path: Path, key: 'from' | 'to'): void {
  const ip = parseIp(text);
  const parsed = ip ? undefined : parseCidr(text);
  const family = ip?.family ?? (parsed && 'cidr' in parsed ? parsed.cidr.ip.family : undefined);
  if (family === undefined) return report(ctx, path, `${key} ${JSON.stringify(text)} is neither an address nor a CIDR`, `e.g. ${key}: 192.0.2.0/24`);
  if (family === 6) return report(ctx, path, `${key} ${text} is IPv6: netlab's rules are IPv4 rules for now`, 'write an IPv4 selector, or leave IPv6 to routes');
  if (parsed && 'cidr' in parsed && hasHostBits(parsed.cidr)) report(ctx, path, `${text} has host bits set`, `did you mean ${subnetText(parsed.cidr)}?`);
}

export function checkRules(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const devices = devicesOf(ctx, name, node);
    const tables = Object.keys(node.tables ?? {});
    const seen = new Map<number, Path>();
    (node.rules ?? []).forEach((rule, i) => {
      const path = ['nodes', name, 'rules', i];
      const first = seen.get(rule.priority);
      if (first) report(ctx, [...path, 'priority'], `rule priority ${rule.priority} is declared twice in node ${name} (first at line ${lineOf(ctx, first)})`, 'a rule is known by its priority: give each its own');
      else seen.set(rule.priority, [...path, 'priority']);
      if (rule.from !== undefined) checkSelector(ctx, rule.from, [...path, 'from'], 'from');
      if (rule.to !== undefined) checkSelector(ctx, rule.to, [...path, 'to'], 'to');
      for (const key of ['iif', 'oif'] as const) {
        const dev = rule[key];
        if (dev === undefined || kindOf(node) !== 'netns' || devices.has(dev)) continue;
        report(ctx, [...path, key], `${key} ${dev} is not an interface or bridge of node ${name} (it has: ${deviceList(devices)})`, `name one of them${didYouMean(dev, [...devices])}`);
      }
      const lookup = rule.action === undefined || rule.action === 'lookup';
      if (lookup && rule.table === undefined) report(ctx, path, `rule ${rule.priority} looks up no table`, 'add table: NAME or NUMBER, or action: blackhole, unreachable or prohibit');
      if (!lookup && rule.table !== undefined) report(ctx, [...path, 'table'], `rule ${rule.priority} is ${rule.action}: it looks up no table`, 'remove table, or action');
      if (typeof rule.table === 'string' && rule.table !== 'main' && !tables.includes(rule.table)) {
        report(ctx, [...path, 'table'], `table ${rule.table} is not a table of node ${name} (${tables.length ? `its tables: ${tables.join(', ')}` : 'it names none'})`, `name it under tables:, or write its number${didYouMean(rule.table, tables)}`);
      }
    });
  }
}
