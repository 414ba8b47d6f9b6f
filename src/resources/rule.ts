// A policy routing rule (`rules:`, `ip rule`): IPv4 packets chosen by source, destination,
// interfaces or mark look up another table, or are refused. The kernel's own three rules
// (local, main, default) are never the lab's.
import { canonicalCidr } from '../model/ip.js';
import { ROUTE_PROTOCOL } from '../model/names.js';
import { ruleKey, type NodeState, type RuleState } from '../model/types.js';
import { markedObjects } from './marked.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type RuleChange = ChangeBase & { kind: 'rule'; rule: RuleState };

const KERNEL_TABLES: Readonly<Record<string, number>> = { default: 253, main: 254, local: 255 };

/** The fields of `ip -j rule show` that netlab reads. */
interface IpRuleJson {
  priority?: number;
  src?: string;
  srclen?: number;
  dst?: string;
  dstlen?: number;
  iif?: string;
  oif?: string;
  fwmark?: string;
  fwmask?: string;
  table?: string;
  action?: string;
  protocol?: string;
}

function prefix(address: string | undefined, length: number | undefined): string | undefined {
  if (address === undefined || address === 'all') return undefined;
  return canonicalCidr(`${address}/${length ?? 32}`);
}

/** The rules every namespace starts with: 0 lookup local, 32766 lookup main, 32767 lookup default. */
function isKernelRule(json: IpRuleJson): boolean {
  const defaults: Record<number, string> = { 0: 'local', 32766: 'main', 32767: 'default' };
  // `ip -d` says protocol kernel for them, plain `ip` nothing.
  const kernelMade = json.protocol === undefined || json.protocol === 'kernel';
  return json.priority !== undefined && defaults[json.priority] === json.table && (json.src ?? 'all') === 'all' && json.dst === undefined && kernelMade;
}

export function parseRule(json: IpRuleJson): RuleState {
  const rule: RuleState = { priority: json.priority ?? 0 };
  const from = prefix(json.src, json.srclen);
  const to = prefix(json.dst, json.dstlen);
  if (from) rule.from = from;
  if (to) rule.to = to;
  if (json.iif) rule.iif = json.iif;
  if (json.oif) rule.oif = json.oif;
  if (json.fwmark) rule.fwmark = Number(json.fwmark);
  if (json.fwmask && Number(json.fwmask) !== 0xffffffff) rule.fwmask = Number(json.fwmask);
  if (json.action === 'blackhole' || json.action === 'unreachable' || json.action === 'prohibit') rule.action = json.action;
  else if (json.table !== undefined) rule.table = KERNEL_TABLES[json.table] ?? Number(json.table);
  if (json.protocol && json.protocol !== 'unspec') rule.protocol = json.protocol;
  return rule;
}

function parseRules(answer: unknown[], node: NodeState): void {
  for (const json of answer as IpRuleJson[]) {
    if (json.priority === undefined || isKernelRule(json)) continue;
    const rule = parseRule(json);
    node.rules.set(ruleKey(rule), rule);
  }
}

/** The rule's selector and what it does, as `ip rule` writes them. */
export function ruleArgs(r: RuleState): string {
  const parts = [`priority ${r.priority}`];
  if (r.from) parts.push(`from ${r.from}`);
  if (r.to) parts.push(`to ${r.to}`);
  if (r.iif) parts.push(`iif ${r.iif}`);
  if (r.oif) parts.push(`oif ${r.oif}`);
  if (r.fwmark !== undefined) parts.push(`fwmark ${r.fwmark}${r.fwmask !== undefined ? `/${r.fwmask}` : ''}`);
  parts.push(r.action ?? `lookup ${r.table}`);
  return parts.join(' ');
}

function sameRule(a: RuleState, b: RuleState): boolean {
  const { protocol: _a, ...x } = a;
  const { protocol: _b, ...y } = b;
  return JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
}

export const ruleResource: NodeResource<RuleChange> = {
  kind: 'rule',
  plural: 'routing rules',
  id: (c) => `rule/${c.node}/${c.rule.priority}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands(c) {
    const del = { tool: 'ip' as const, line: `rule del priority ${c.rule.priority}` };
    const add = { tool: 'ip' as const, line: `rule add ${ruleArgs(c.rule)} proto ${ROUTE_PROTOCOL}` };
    // ip rule has no replace: a changed rule is deleted and added again by the same process.
    return c.action === 'delete' ? [del] : c.action === 'update' ? [del, add] : [add];
  },
  summary: (c) => `rule on ${c.node}: ${ruleArgs(c.rule)}`,
  ipRead: { line: 'rule show', parse: parseRules },

  labsOwn(want, have, recorded) {
    const { mine, conflicts } = markedObjects(have.rules, want.rules, recorded, (r) => `a rule with priority ${r.priority} already exists in node ${have.node} and is not the lab's — give the file's rule another priority, or remove it (ip rule del priority ${r.priority})`);
    return { view: { rules: mine }, conflicts };
  },
  recordKey: (c) => (c.action === 'delete' ? undefined : ruleKey(c.rule)),
  recordKeys: (want) => [...want.rules.keys()].sort(),

  diff(n: NodeDiff) {
    const base = { node: n.want.node, netns: n.want.netns, kind: 'rule' as const };
    for (const key of [...n.want.rules.keys()].sort()) {
      const rule = n.want.rules.get(key)!;
      const have = n.current.rules.get(key);
      if (have && sameRule(rule, have)) continue;
      n.emit({ ...base, action: have ? 'update' : 'create', rule, reason: have ? `rule ${ruleArgs(have)} → ${ruleArgs(rule)}` : `rule ${rule.priority} missing` });
    }
    for (const key of [...n.current.rules.keys()].sort()) {
      if (n.want.rules.has(key)) continue;
      const rule = n.current.rules.get(key)!;
      n.emit({ ...base, action: 'delete', rule, reason: `rule ${ruleArgs(rule)} is not in the file` });
    }
  },
};
