// The interfaces section of a node: each names something the node will have; master, mac, port flags.
import { isResolved } from '../../model/layout.js';
import { ifnameProblem } from '../../model/names.js';
import { kindOf } from '../../model/spec.js';
import { MASTER_KINDS } from '../../model/virtual.js';
import type { Path } from '../problem.js';
import type { NodeSpec } from '../spec.js';
import { didYouMean } from '../text.js';
import { deviceKey, nodeEntries, own, report, type Claim, type Ctx } from './context.js';
import { checkIfname } from './ifnames.js';

export function checkInterfaces(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [ifname, iface] of Object.entries(node.interfaces ?? {})) {
      const path = ['nodes', name, 'interfaces', ifname];
      const made = ctx.topology.claims.get(name)?.get(ifname);
      checkInterfaceName(ctx, name, node, ifname, made, path);
      if (iface.master !== undefined) checkMaster(ctx, name, node, ifname, iface.master, made, [...path, 'master']);
      if (iface.mac !== undefined) checkMac(ctx, iface.mac, [...path, 'mac']);
      if (kindOf(node) === 'netns' || made) checkPortFlags(ctx, name, node, ifname, made, path);
    }
  }
  checkLinkPorts(ctx);
}

/** What only a bridge port has: its flags and VLANs. */
const PORT_FLAGS = ['hairpin', 'isolated', 'learning', 'flood', 'access', 'trunk', 'native'] as const;

/** Port flags belong to a bridge port: an interface with a bridge as master, or a port a link makes. */
function checkPortFlags(ctx: Ctx, name: string, node: NodeSpec, ifname: string, made: Claim | undefined, path: Path): void {
  const iface = node.interfaces![ifname]!;
  const isPort = made?.kind === 'port' || (iface.master !== undefined && own(node.bridges, iface.master));
  for (const flag of PORT_FLAGS) {
    if (iface[flag] === undefined || isPort) continue;
    if (flag === 'learning' && iface.kind === 'vxlan') continue; // the VXLAN's own learning
    report(ctx, [...path, flag], `${flag} of ${ifname}: ${ifname} is no bridge port (it has no bridge as master)`, 'add master: BRIDGE, or set the flag in the port: of the link that makes the port', 'key');
  }
}

/** A link's port: needs a bridge end, which is the port it sets. */
function checkLinkPorts(ctx: Ctx): void {
  for (const link of ctx.layout.links) {
    const written = ctx.spec.links?.[link.index];
    if (!written || Array.isArray(written) || written.port === undefined) continue;
    if (link.ends.some((end) => isResolved(end) && end.bridge !== undefined)) continue;
    if (!link.ends.every(isResolved)) continue; // the ends are reported
    report(ctx, ['links', link.index, 'port'], `link ${written.endpoints.join(' - ')} makes no bridge port: neither end is a bridge`, 'remove port:, or end the link on a bridge (NODE:BRIDGE)', 'key');
  }
}

/** The key of `interfaces` names something this node will have. */
function checkInterfaceName(ctx: Ctx, name: string, node: NodeSpec, ifname: string, made: Claim | undefined, path: Path): void {
  if (own(node.bridges, ifname)) {
    report(
      ctx,
      path,
      `${ifname} is both a bridge and an interface of node ${name}`,
      `put the bridge's settings under nodes.${name}.bridges.${ifname}`,
      'key',
    );
    return;
  }
  if (ctx.topology.rejected.has(deviceKey(name, ifname))) return;
  if (node.interfaces![ifname]!.kind !== undefined) {
    checkIfname(ctx, ifname, path, ` (node ${name})`, 'key');
    return; // made by the node itself (virtual.ts checks its kind)
  }
  if (kindOf(node) !== 'netns' || ifnameProblem(ifname) !== undefined || ifname === 'lo') {
    checkIfname(ctx, ifname, path, ` (node ${name})`, 'key');
    if (kindOf(node) !== 'netns' && !made) checkExistingInterface(ctx, name, node, ifname, path);
    return;
  }
  if (made) return;
  report(
    ctx,
    path,
    `interface ${ifname} on node ${name} is created by no link`,
    `add a link such as [${name}:${ifname}, OTHER:IFNAME] or remove it`,
    'key',
  );
}

/** In a host or attach node an interface no link creates is the machine's: the lab may add addresses to it, nothing more. */
function checkExistingInterface(ctx: Ctx, name: string, node: NodeSpec, ifname: string, path: Path): void {
  const spec = node.interfaces && Object.hasOwn(node.interfaces, ifname) ? node.interfaces[ifname]! : {};
  for (const key of ['mtu', 'mac', 'master', 'up', ...PORT_FLAGS] as const) {
    if (spec[key] === undefined) continue;
    report(
      ctx,
      [...path, key],
      `${key} of ${ifname}: node ${name} is kind ${kindOf(node)} and no link creates ${ifname}, so it is not the lab's to change`,
      `keep only addresses for an existing interface, or create it with a link`,
      'key',
    );
  }
}

/** The bonds and vrfs a node makes by kind: masters, like its bridges. */
function kindMasters(node: NodeSpec): string[] {
  return Object.entries(node.interfaces ?? {})
    .filter(([, i]) => i.kind !== undefined && (MASTER_KINDS as readonly string[]).includes(i.kind))
    .map(([n]) => n);
}

function checkMaster(ctx: Ctx, name: string, node: NodeSpec, ifname: string, master: string, made: Claim | undefined, path: Path): void {
  if (kindMasters(node).includes(master)) {
    if (master === ifname) report(ctx, path, `${ifname} cannot be its own master`, 'name another bridge, bond or vrf of the node');
    else if (made?.kind === 'port') report(ctx, path, `${ifname} is ${made.label}, so its master is ${made.bridge}, not ${master}`, 'remove master');
    return;
  }
  if (!own(node.bridges, master)) {
    const masters = [...Object.keys(node.bridges ?? {}), ...kindMasters(node)];
    const thing = own(node.interfaces, master)?.kind ?? (own(node.interfaces, master) || ctx.topology.claims.get(name)?.has(master) ? 'interface' : undefined);
    if (thing !== undefined) {
      report(ctx, path, `master ${master} of ${ifname} is ${thing === 'interface' ? 'an interface' : `a ${thing}`}, not a bridge, bond or vrf of node ${name}`, masters.length > 0 ? `name one of ${masters.sort().join(', ')}` : `make ${master} a bridge (nodes.${name}.bridges), or give it kind: bond or kind: vrf`);
      return;
    }
    const owners = nodeEntries(ctx.spec)
      .filter(([, other]) => own(other.bridges, master))
      .map(([other]) => other);
    if (owners.length > 0) {
      report(
        ctx,
        path,
        `master ${master} is no bridge, bond or vrf of node ${name} (${master} is a bridge of node ${owners.join(', ')})`,
        `an interface can only join a bridge of its own node; to connect it, write the link as [${name}:${ifname}, ${owners[0]}:${master}]`,
      );
    } else {
      const has = masters.length > 0 ? `it has: ${masters.join(', ')}` : `node ${name} has no bridges, bonds or vrfs`;
      report(
        ctx,
        path,
        `master ${master} is no bridge, bond or vrf of node ${name} (${has})`,
        `name one of them, or declare ${master} under nodes.${name}.bridges${didYouMean(master, masters)}`,
      );
    }
    return;
  }
  if (made?.kind === 'port' && made.bridge !== master) {
    report(ctx, path, `${ifname} is ${made.label}, so its master is ${made.bridge}, not ${master}`, 'remove master');
  }
}

export function checkMac(ctx: Ctx, mac: string, path: Path): void {
  if (!/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(mac)) {
    report(
      ctx,
      path,
      `mac ${JSON.stringify(mac)} is not a MAC address`,
      'write 6 hex octets separated by ":", e.g. mac: "02:42:ac:12:00:0a"',
    );
    return;
  }
  const first = parseInt(mac.slice(0, 2), 16);
  if (first & 1) {
    const fixed = ((first & 0xfe) | 0x02).toString(16).padStart(2, '0') + mac.slice(2);
    report(
      ctx,
      path,
      `mac ${mac} is a multicast address (the lowest bit of its first octet is set)`,
      `an interface needs a unicast address, e.g. ${fixed.toLowerCase()}`,
    );
  } else if (/^0{2}(:0{2}){5}$/.test(mac)) {
    report(ctx, path, `mac ${mac} is all zeros, which the kernel refuses`, 'use a locally administered address, e.g. 02:00:00:00:00:01');
  }
}
