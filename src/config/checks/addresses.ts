// Addresses of bridges and interfaces: each a valid CIDR, and none used twice on one L2 segment
// (segments found by union-find over the links and bridge ports).
import { bridgePortName } from '../../model/names.js';
import type { Path } from '../problem.js';
import type { NodeSpec } from '../spec.js';
import { deviceKey, lineOf, nodeEntries, own, report, type Ctx } from './context.js';
import { exampleCidr, familyName, maxLength, parseCidr, type Cidr } from './ip.js';

interface PlacedAddress {
  node: string;
  device: string;
  cidr: Cidr;
  path: Path;
}

/** Every address of every bridge and interface, valid ones parsed; invalid ones reported. */
function collectAddresses(ctx: Ctx): PlacedAddress[] {
  const placed: PlacedAddress[] = [];
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const section of ['bridges', 'interfaces'] as const) {
      const devices: Record<string, { addresses?: string[] }> = node[section] ?? {};
      for (const [device, settings] of Object.entries(devices)) {
        (settings.addresses ?? []).forEach((text: string, i: number) => {
          const path = ['nodes', name, section, device, 'addresses', i];
          const cidr = checkAddress(ctx, text, path);
          if (cidr) placed.push({ node: name, device, cidr, path });
        });
      }
    }
  }
  return placed;
}

/** Why the kernel would not keep `cidr` on an interface, if it would not. */
function refusedAddress(cidr: Cidr): string | undefined {
  const { ip } = cidr;
  if (ip.bytes.every((b) => b === 0)) return `${ip.text} is the unspecified address, which no interface can have (the kernel takes ${ip.family === 4 ? 'it and keeps nothing' : 'none'})`;
  if (ip.family === 6 && ip.text === '::1') return '::1 is the loopback address, which only lo has';
  if (ip.family === 6 && ip.bytes[0] === 0xff) return `${ip.text} is a multicast address, which an interface joins but does not have`;
  return undefined;
}

function checkAddress(ctx: Ctx, text: string, path: Path): Cidr | undefined {
  const parsed = parseCidr(text);
  if ('cidr' in parsed) {
    const refused = refusedAddress(parsed.cidr);
    if (refused === undefined) return parsed.cidr;
    report(ctx, path, `address ${text}: ${refused}`, `give the interface a unicast address of its subnet, e.g. ${exampleCidr(parsed.cidr.ip.family)}`);
    return undefined;
  }
  if (parsed.problem === 'no-length' && parsed.ip) {
    report(ctx, path, `address ${text} has no prefix length`, `e.g. ${text}/${parsed.ip.family === 4 ? 24 : 64}`);
  } else if (parsed.problem === 'bad-length') {
    report(
      ctx,
      path,
      `address ${text} has a prefix length out of range for ${familyName(parsed.ip.family)}`,
      `use /0 to /${maxLength(parsed.ip.family)}, e.g. ${parsed.ip.text}/${parsed.ip.family === 4 ? 24 : 64}`,
    );
  } else {
    report(
      ctx,
      path,
      `address ${JSON.stringify(text)} is not an IPv4 or IPv6 address with a prefix length`,
      `e.g. ${exampleCidr(4)} or "${exampleCidr(6)}"`,
    );
  }
  return undefined;
}

/** Union-find over "node\0device": one set per L2 segment. */
function segmentFinder(): { union: (a: string, b: string) => void; find: (a: string) => string } {
  const parent = new Map<string, string>();
  const find = (a: string): string => {
    let root = a;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    for (let x = a; x !== root; ) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const union = (a: string, b: string): void => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra, rb);
  };
  return { union, find };
}

/**
 * The two ends of a veth are one segment; a bridge joins its ports (the ends of links on it and
 * interfaces with master: it) and, through them, their peers.
 */
function segments(ctx: Ctx): (node: string, device: string) => string {
  const { union, find } = segmentFinder();
  for (const link of ctx.topology.links) {
    const [a, b] = link.ends.map((end) => deviceKey(end.node, end.bridge ?? end.ifname));
    union(a!, b!);
    for (const [near, far] of [link.ends, [link.ends[1], link.ends[0]]] as const) {
      if (near.bridge) union(deviceKey(near.node, bridgePortName(far)), deviceKey(near.node, near.bridge));
    }
  }
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [ifname, iface] of Object.entries(node.interfaces ?? {})) {
      if (iface.master !== undefined && own(node.bridges, iface.master)) union(deviceKey(name, ifname), deviceKey(name, iface.master));
    }
  }
  return (node, device) => find(deviceKey(node, device));
}

export function checkAddresses(ctx: Ctx): void {
  const segmentOf = segments(ctx);
  const seen = new Map<string, PlacedAddress>();
  for (const placed of collectAddresses(ctx)) {
    const key = `${segmentOf(placed.node, placed.device)}\0${placed.cidr.ip.text}`;
    const before = seen.get(key);
    if (!before) {
      seen.set(key, placed);
      continue;
    }
    const there = before.node === placed.node && before.device === placed.device ? 'this interface' : `${before.node}:${before.device}`;
    report(
      ctx,
      placed.path,
      `address ${placed.cidr.ip.text} is used twice on one L2 segment: here and on ${there} (line ${lineOf(ctx, before.path)})`,
      'addresses on one segment must differ (isolated segments may reuse them)',
    );
  }
}

export interface NodeAddresses {
  cidrs: Cidr[];
  own: Set<string>;
}

/** A node's valid addresses, those the kernel keeps (checkAddresses reports the others), for routes and tests. */
export function addressesOf(node: NodeSpec): NodeAddresses {
  const cidrs: Cidr[] = [];
  for (const section of [node.interfaces, node.bridges]) {
    for (const settings of Object.values(section ?? {})) {
      for (const text of settings.addresses ?? []) {
        const parsed = parseCidr(text);
        if ('cidr' in parsed && refusedAddress(parsed.cidr) === undefined) cidrs.push(parsed.cidr);
      }
    }
  }
  return { cidrs, own: new Set(cidrs.map((c) => c.ip.text)) };
}
