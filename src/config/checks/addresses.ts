// Addresses of bridges and interfaces: each a valid CIDR, and none used twice on one L2 segment
// (segments found by union-find over the links and bridge ports).
import { exampleCidr, familyName, maxLength, type Cidr, type CidrResult } from '../../model/ip.js';
import type { PlacedAddress } from '../../model/layout.js';
import type { Path } from '../problem.js';
import { deviceKey, lineOf, nodeEntries, own, report, type Ctx } from './context.js';

/** Per node, its bridges' addresses before its interfaces': the order a reuse is reported in. */
function addressesToCheck(ctx: Ctx): PlacedAddress[] {
  return [...ctx.layout.addresses.values()].flatMap((placed) => [
    ...placed.filter((a) => a.section === 'bridges'),
    ...placed.filter((a) => a.section === 'interfaces'),
  ]);
}

/** Every valid address of every bridge and interface with its cidr; invalid ones reported. */
function collectAddresses(ctx: Ctx): Array<PlacedAddress & { cidr: Cidr }> {
  const valid: Array<PlacedAddress & { cidr: Cidr }> = [];
  for (const placed of addressesToCheck(ctx)) {
    const cidr = checkAddress(ctx, placed.text, placed.parsed, placed.path);
    if (cidr) valid.push({ ...placed, cidr });
  }
  return valid;
}

/** Why the kernel would not keep `cidr` on an interface, if it would not. */
function refusedAddress(cidr: Cidr): string | undefined {
  const { ip } = cidr;
  if (ip.bytes.every((b) => b === 0)) return `${ip.text} is the unspecified address, which no interface can have (the kernel takes ${ip.family === 4 ? 'it and keeps nothing' : 'none'})`;
  if (ip.family === 6 && ip.text === '::1') return '::1 is the loopback address, which only lo has';
  if (ip.family === 6 && ip.bytes[0] === 0xff) return `${ip.text} is a multicast address, which an interface joins but does not have`;
  return undefined;
}

function checkAddress(ctx: Ctx, text: string, parsed: CidrResult, path: Path): Cidr | undefined {
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
    for (const end of link.ends) {
      if (end.bridge !== undefined && end.port !== undefined) union(deviceKey(end.node, end.port), deviceKey(end.node, end.bridge));
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
  const seen = new Map<string, PlacedAddress & { cidr: Cidr }>();
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
export function addressesOf(ctx: Ctx, node: string): NodeAddresses {
  const cidrs: Cidr[] = [];
  for (const { parsed } of ctx.layout.addresses.get(node) ?? []) {
    if ('cidr' in parsed && refusedAddress(parsed.cidr) === undefined) cidrs.push(parsed.cidr);
  }
  return { cidrs, own: new Set(cidrs.map((c) => c.ip.text)) };
}
