// Interfaces a node makes by `kind:`: no link makes the same name, each kind's keys and only
// those, a parent the node has, ids in range, remote or group (not both), addresses that parse.
import { parseIp } from '../../model/ip.js';
import { parseEndpoint } from '../../model/names.js';
import { kindOf } from '../../model/spec.js';
import { ALL_KIND_KEYS, BOND_MODES, KIND_KEYS, MACVLAN_MODES, REQUIRED_KEYS, VIRTUAL_KINDS, type VirtualKind } from '../../model/virtual.js';
import type { Path } from '../problem.js';
import type { InterfaceSpec, NodeSpec } from '../spec.js';
import { didYouMean, nameList } from '../text.js';
import { devicesOf, nodeEntries, own, report, type Ctx } from './context.js';

const ID_RANGE: Partial<Record<VirtualKind, [number, number, string]>> = {
  vxlan: [1, 16777215, 'a VXLAN VNI'],
  vlan: [1, 4094, 'a VLAN id'],
};

/** Tables a vrf cannot take: the kernel's own (local 255, main 254, default 253). */
const RESERVED_TABLES = new Set([253, 254, 255]);

type Keyed = InterfaceSpec & Record<string, unknown>;

export function checkVirtualInterfaces(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [ifname, iface] of Object.entries(node.interfaces ?? {})) {
      const path = ['nodes', name, 'interfaces', ifname];
      if (iface.kind === undefined) checkNoKindKeys(ctx, ifname, iface as Keyed, path);
      else checkKind(ctx, name, node, ifname, iface as Keyed, path);
    }
  }
}

/** `learning` is also a bridge port's flag, so only the keys no port has are a kind's alone. */
function checkNoKindKeys(ctx: Ctx, ifname: string, iface: Keyed, path: Path): void {
  for (const key of ALL_KIND_KEYS) {
    if (key === 'learning' || iface[key] === undefined) continue;
    const kinds = VIRTUAL_KINDS.filter((k) => KIND_KEYS[k].includes(key));
    report(ctx, [...path, key], `${key} of ${ifname}: only an interface with kind ${orList(kinds)} has it`, `add kind: ${kinds[0]} to make ${ifname} inside the node, or remove ${key}`, 'key');
  }
}

function orList(words: readonly string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : words.join('');
}

function checkKind(ctx: Ctx, name: string, node: NodeSpec, ifname: string, iface: Keyed, path: Path): void {
  const kind = iface.kind!;
  const made = ctx.topology.claims.get(name)?.get(ifname);
  if (made) {
    report(ctx, [...path, 'kind'], `${ifname} of node ${name} is made by ${made.label}, so it cannot also be a ${kind}`, `give the ${kind} another name, or remove kind`, 'key');
    return;
  }
  for (const key of ALL_KIND_KEYS) {
    if (iface[key] === undefined || KIND_KEYS[kind].includes(key) || key === 'learning') continue;
    const takes = KIND_KEYS[kind].length > 0 ? `its keys: ${KIND_KEYS[kind].join(', ')}` : 'it takes none of the kinds\' keys';
    report(ctx, [...path, key], `${key} is not a key of kind ${kind} (${takes})`, `remove ${key}`, 'key');
  }
  for (const key of REQUIRED_KEYS[kind]) {
    if (iface[key] === undefined) report(ctx, [...path, 'kind'], `${ifname} is a ${kind} and needs ${key}`, requiredHint(kind, key), 'key');
  }
  if (iface.parent !== undefined && KIND_KEYS[kind].includes('parent')) checkParent(ctx, name, node, ifname, kind, iface.parent, [...path, 'parent']);
  const range = ID_RANGE[kind];
  if (range && iface.id !== undefined && (iface.id < range[0] || iface.id > range[1])) {
    report(ctx, [...path, 'id'], `id ${iface.id} of ${ifname} is out of range for ${range[2]}`, `write an id from ${range[0]} to ${range[1]}`);
  }
  if (iface.mode !== undefined && KIND_KEYS[kind].includes('mode')) {
    const modes: readonly string[] = kind === 'macvlan' ? MACVLAN_MODES : BOND_MODES;
    if (!modes.includes(iface.mode)) report(ctx, [...path, 'mode'], `mode ${iface.mode} is not a mode of kind ${kind}`, `write one of ${modes.join(', ')}`);
  }
  if (kind === 'vrf' && iface.table !== undefined && RESERVED_TABLES.has(iface.table)) {
    report(ctx, [...path, 'table'], `table ${iface.table} of vrf ${ifname} is one of the kernel's own (253 default, 254 main, 255 local)`, 'give the vrf a table of its own, e.g. table: 10');
  }
  checkAddresses(ctx, ifname, kind, iface, path);
}

function requiredHint(kind: VirtualKind, key: string): string {
  const examples: Record<string, string> = { parent: 'parent: eth0', id: kind === 'vlan' ? 'id: 10' : 'id: 42', table: 'table: 10', remote: 'remote: 192.0.2.2' };
  return `add ${examples[key] ?? `${key}: ...`}`;
}

/** A parent of the same node (or, for a macvlan, NODE:IFNAME of another): what it rides on must be there. */
function checkParent(ctx: Ctx, name: string, node: NodeSpec, ifname: string, kind: VirtualKind, parent: string, path: Path): void {
  const across = parseEndpoint(parent);
  if (across) {
    if (kind !== 'macvlan') {
      report(ctx, path, `parent ${parent} of ${kind} ${ifname}: only a macvlan may ride on another node's interface`, `name an interface of node ${name}`);
      return;
    }
    if (kindOf(node) === 'host') {
      report(ctx, path, `parent ${parent} of macvlan ${ifname}: node ${name} is kind host, and a macvlan is placed in another node only when that is a namespace`, `make the macvlan in node ${across.node} and name its parent there`);
      return;
    }
    const other = own(ctx.spec.nodes, across.node);
    if (!other) {
      report(ctx, path, `parent ${parent} of macvlan ${ifname} names node ${across.node}, which the lab does not have`, `name a node of the lab${didYouMean(across.node, Object.keys(ctx.spec.nodes))}`);
      return;
    }
    checkParentIn(ctx, across.node, other, ifname, kind, across.ifname, path, false);
    return;
  }
  checkParentIn(ctx, name, node, ifname, kind, parent, path, true);
}

function checkParentIn(ctx: Ctx, name: string, node: NodeSpec, ifname: string, kind: VirtualKind, parent: string, path: Path, sameNode: boolean): void {
  const devices = devicesOf(ctx, name, node);
  devices.delete('lo');
  if (sameNode) devices.delete(ifname);
  if (sameNode && parent === ifname) {
    report(ctx, path, `${kind} ${ifname} cannot be its own parent`, `name another interface of node ${name}`);
  } else if (!devices.has(parent)) {
    const has = devices.size > 0 ? `it has: ${nameList(devices)}` : `it has no interfaces`;
    const declare = kindOf(node) === 'netns' ? `or add a link that creates ${name}:${parent}` : `or declare the machine's ${parent} under nodes.${name}.interfaces`;
    report(ctx, path, `parent ${parent} of ${kind} ${ifname} is not an interface of node ${name} (${has})`, `name one of them, ${declare}${didYouMean(parent, [...devices])}`);
  }
}

function checkAddresses(ctx: Ctx, ifname: string, kind: VirtualKind, iface: Keyed, path: Path): void {
  const families = new Map<string, number>();
  for (const key of ['local', 'remote', 'group'] as const) {
    const text = iface[key];
    if (text === undefined || !KIND_KEYS[kind].includes(key)) continue;
    const ip = parseIp(text);
    if (!ip) {
      report(ctx, [...path, key], `${key} ${JSON.stringify(text)} of ${ifname} is not an IP address`, `write an address alone, e.g. ${key}: ${key === 'group' ? '239.1.1.1' : '192.0.2.1'}`);
      continue;
    }
    families.set(key, ip.family);
    const multicast = ip.family === 4 ? Number(ip.text.split('.')[0]) >= 224 && Number(ip.text.split('.')[0]) <= 239 : ip.text.toLowerCase().startsWith('ff');
    if (key === 'group' && !multicast) report(ctx, [...path, key], `group ${ip.text} of ${ifname} is no multicast address`, 'write a multicast group (224.0.0.0/4, ff00::/8), or use remote: for one far end');
    if (key !== 'group' && multicast) report(ctx, [...path, key], `${key} ${ip.text} of ${ifname} is a multicast address`, kind === 'vxlan' && key === 'remote' ? `write it as group: ${ip.text}` : 'write a unicast address');
  }
  if (iface.remote !== undefined && iface.group !== undefined) {
    report(ctx, [...path, 'group'], `vxlan ${ifname} has both remote and group`, 'give one: remote for one far end, group to flood to a multicast group', 'key');
  }
  if (kind === 'vxlan' && iface.group !== undefined && iface.parent === undefined) {
    report(ctx, [...path, 'group'], `vxlan ${ifname} floods to group ${iface.group} but names no parent to send it on`, 'add parent: the underlay interface', 'key');
  }
  const seen = [...families.values()];
  if (new Set(seen).size > 1) report(ctx, [...path, 'local'], `${ifname} mixes IPv4 and IPv6 in ${[...families.keys()].join(' and ')}`, 'use one family for the underlay');
}
