// L2 state on bridges: a port's VLANs (access, trunk, native) and the static forwarding entries
// (`fdb:`). VLANs belong to a port of a bridge with `vlans: true`; an entry without dst to a
// bridge port, one with dst to a VXLAN device; no entry twice in one table.
import { parseIp } from '../../model/ip.js';
import { isResolved } from '../../model/layout.js';
import { kindOf } from '../../model/spec.js';
import type { Path } from '../problem.js';
import type { NodeSpec, PortSpec } from '../spec.js';
import { lineOf, nodeEntries, own, report, type Ctx } from './context.js';

export function checkBridgeL2(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [ifname, iface] of Object.entries(node.interfaces ?? {})) {
      const bridge = bridgeOf(ctx, name, node, ifname);
      // One that is no bridge port is reported with the port flags (interfaces.ts).
      if (bridge !== undefined) checkPortVlans(ctx, name, node, bridge, ifname, iface, ['nodes', name, 'interfaces', ifname]);
    }
    checkFdb(ctx, name, node);
  }
  for (const link of ctx.layout.links) {
    const written = ctx.spec.links?.[link.index];
    if (!written || Array.isArray(written) || written.port === undefined) continue;
    for (const end of link.ends) {
      if (!isResolved(end) || end.bridge === undefined) continue;
      const node = own(ctx.spec.nodes, end.node);
      if (node) checkPortVlans(ctx, end.node, node, end.bridge, end.port ?? end.ifname, written.port, ['links', link.index, 'port']);
    }
  }
}

/** The bridge an interface of the node is a port of: its master, or the bridge a link makes it a port of. */
function bridgeOf(ctx: Ctx, name: string, node: NodeSpec, ifname: string): string | undefined {
  const made = ctx.topology.claims.get(name)?.get(ifname);
  if (made?.kind === 'port') return made.bridge;
  const master = own(node.interfaces, ifname)?.master;
  return master !== undefined && own(node.bridges, master) ? master : undefined;
}

const VLAN_HINT = 'a VLAN id is 1 to 4094';

function checkVid(ctx: Ctx, vid: number, path: Path, what: string): void {
  if (vid < 1 || vid > 4094) report(ctx, path, `${what} ${vid} is no VLAN id`, VLAN_HINT);
}

function checkPortVlans(ctx: Ctx, name: string, node: NodeSpec, bridge: string, ifname: string, port: PortSpec, path: Path): void {
  const keys = (['access', 'trunk', 'native'] as const).filter((k) => port[k] !== undefined);
  if (keys.length === 0) return;
  if (!own(node.bridges, bridge)?.vlans) {
    report(ctx, [...path, keys[0]!], `${keys[0]} of ${ifname}: bridge ${bridge} of node ${name} does not filter VLANs`, `add vlans: true to nodes.${name}.bridges.${bridge}, or remove ${keys.join(' and ')}`, 'key');
    return;
  }
  if (port.access !== undefined && (port.trunk !== undefined || port.native !== undefined)) {
    const other = port.trunk !== undefined ? 'trunk' : 'native';
    report(ctx, [...path, other], `${ifname} has both access and ${other}: a port is an access port (one untagged VLAN) or a trunk (tagged VLANs, native for the untagged ones)`, `keep access: ${port.access}, or trunk: [...] with native:`, 'key');
  }
  if (port.native !== undefined && port.trunk === undefined && port.access === undefined) {
    report(ctx, [...path, 'native'], `native of ${ifname} needs trunk: it names the untagged VLAN of a trunk port`, `write access: ${port.native} for a port in that VLAN alone, or add trunk: [...]`, 'key');
  }
  if (port.access !== undefined) checkVid(ctx, port.access, [...path, 'access'], 'access');
  if (port.native !== undefined) checkVid(ctx, port.native, [...path, 'native'], 'native');
  const seen = new Set<number>();
  (port.trunk ?? []).forEach((vid, i) => {
    checkVid(ctx, vid, [...path, 'trunk', i], 'trunk VLAN');
    if (seen.has(vid)) report(ctx, [...path, 'trunk', i], `trunk of ${ifname} lists VLAN ${vid} twice`, 'remove one');
    seen.add(vid);
  });
}

const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

function checkFdb(ctx: Ctx, name: string, node: NodeSpec): void {
  const declared = new Map<string, Path>();
  (node.fdb ?? []).forEach((entry, i) => {
    const path = ['nodes', name, 'fdb', i];
    const bridge = bridgeOf(ctx, name, node, entry.dev);
    if (entry.dst === undefined && bridge === undefined) {
      report(ctx, [...path, 'dev'], `dev ${entry.dev} of a forwarding entry is no bridge port of node ${name}`, 'name a port (an interface with master: BRIDGE, or the port a link to the bridge makes), or give dst: for a VXLAN device', 'value');
    }
    if (entry.dst !== undefined) checkRemote(ctx, name, node, entry.dev, entry.dst, [...path, 'dst']);
    if (entry.vlan !== undefined) {
      if (entry.dst !== undefined) report(ctx, [...path, 'vlan'], 'vlan is for bridge entries; an entry with dst is in the VXLAN device\'s own table', 'remove vlan or dst', 'key');
      else if (bridge !== undefined && !own(node.bridges, bridge)?.vlans) report(ctx, [...path, 'vlan'], `vlan of a forwarding entry on ${entry.dev}: bridge ${bridge} of node ${name} does not filter VLANs`, `add vlans: true to nodes.${name}.bridges.${bridge}, or remove vlan`, 'key');
      else if (entry.vlan >= 1 && entry.vlan <= 4094 && bridge !== undefined) checkMember(ctx, entry.dev, entry.vlan, [...path, 'vlan'], portOf(ctx, name, node, entry.dev));
      else checkVid(ctx, entry.vlan, [...path, 'vlan'], 'vlan');
    }
    if (!MAC.test(entry.mac)) {
      report(ctx, [...path, 'mac'], `mac ${JSON.stringify(entry.mac)} is not a MAC address`, 'write 6 hex octets separated by ":", e.g. mac: "02:00:00:00:00:01"');
      return;
    }
    const mac = entry.mac.toLowerCase();
    if (parseInt(mac.slice(0, 2), 16) & 1) report(ctx, [...path, 'mac'], `mac ${mac} is a multicast address, which a forwarding entry cannot hold`, 'name a unicast MAC (the lowest bit of its first octet clear)');
    else if (mac === '00:00:00:00:00:00' && entry.dst === undefined) report(ctx, [...path, 'mac'], `mac ${mac} is all zeros, which only a VXLAN entry with dst may be (flood to that remote)`, 'name the MAC of the host behind the port');
    const key = entry.dst !== undefined ? `${entry.dev} ${mac} dst ${parseIp(entry.dst)?.text ?? entry.dst}` : `${bridge ?? entry.dev} ${mac} vlan ${entry.vlan ?? ''}`;
    const first = declared.get(key);
    const where = entry.dst !== undefined ? `to ${entry.dst} on ${entry.dev}` : `on bridge ${bridge ?? entry.dev}${entry.vlan !== undefined ? ` in VLAN ${entry.vlan}` : ''}`;
    if (first) report(ctx, [...path, 'mac'], `forwarding entry ${mac} ${where} is declared twice in node ${name} (first at line ${lineOf(ctx, first)})`, 'a MAC is behind one port of a bridge: remove one');
    else declared.set(key, [...path, 'mac']);
  });
}

/** The port settings the file gives a port: on the interface, over the link's `port:`. */
function portOf(ctx: Ctx, name: string, node: NodeSpec, dev: string): PortSpec {
  const link = ctx.layout.links.find((l) => l.ends.some((e) => isResolved(e) && e.node === name && e.port === dev));
  const written = link ? ctx.spec.links?.[link.index] : undefined;
  const fromLink = written && !Array.isArray(written) ? written.port : undefined;
  return { ...fromLink, ...own(node.interfaces, dev) };
}

/** The kernel takes an entry for a VLAN only on a port that is a member of it (VLAN 1 when the file gives none). */
function checkMember(ctx: Ctx, dev: string, vlan: number, path: Path, port: PortSpec): void {
  const member = port.access !== undefined || port.trunk !== undefined || port.native !== undefined ? [port.access, port.native, ...(port.trunk ?? [])].includes(vlan) : vlan === 1;
  if (!member) report(ctx, path, `${dev} is no member of VLAN ${vlan}, so the kernel takes no forwarding entry for it there`, `add ${vlan} to ${dev}'s access or trunk, or name a VLAN it carries`);
}

/** dst: an IP address, on a VXLAN device (in a host or attach node, one the machine has may be meant). */
function checkRemote(ctx: Ctx, name: string, node: NodeSpec, dev: string, dst: string, path: Path): void {
  if (!parseIp(dst) || dst.includes('/')) report(ctx, path, `dst ${JSON.stringify(dst)} is not an IP address`, 'write the VXLAN remote\'s address alone, e.g. dst: 192.0.2.2');
  const iface = own(node.interfaces, dev) as { kind?: string } | undefined;
  if (iface?.kind === 'vxlan' || (iface === undefined && kindOf(node) !== 'netns')) return;
  report(ctx, path, `dst of a forwarding entry needs a VXLAN device, and ${dev} of node ${name} is none`, `name an interface with kind: vxlan, or remove dst for a bridge entry`, 'key');
}
