// WireGuard interfaces' peers: each names another wireguard interface of the lab, at most once;
// endpoints are ADDRESS:PORT (the kernel shows no names back), allowed IPs are prefixes that no
// two peers of one interface share (the kernel would quietly give them to the last), and no two
// interfaces of a node listen on one port. A peer that does not list this side back is said.
import { parseEndpoint } from '../../model/names.js';
import { canonicalAllowed, canonicalEndpoint } from '../../model/wireguard.js';
import type { InterfaceSpec } from '../spec.js';
import { didYouMean, nameList } from '../text.js';
import { nodeEntries, own, report, warn, type Ctx } from './context.js';

function wireguardInterfaces(ctx: Ctx): Array<[string, string, InterfaceSpec]> {
  return nodeEntries(ctx.spec).flatMap(([node, spec]) =>
    Object.entries(spec.interfaces ?? {})
      .filter(([, iface]) => iface.kind === 'wireguard')
      .map(([dev, iface]): [string, string, InterfaceSpec] => [node, dev, iface]),
  );
}

export function checkWireguard(ctx: Ctx): void {
  const all = wireguardInterfaces(ctx);
  const names = all.map(([n, d]) => `${n}:${d}`);
  for (const [node, dev, iface] of all) {
    const path = ['nodes', node, 'interfaces', dev];
    const seen = new Map<string, number>();
    const allowedBy = new Map<string, string>();
    (iface.peers ?? []).forEach((p, i) => {
      const at = [...path, 'peers', i];
      checkPeerName(ctx, node, dev, p.peer, [...at, 'peer'], names);
      if (seen.has(p.peer)) report(ctx, [...at, 'peer'], `${node}:${dev} lists peer ${p.peer} twice (also peers[${seen.get(p.peer)}])`, 'list each peer once, with all its allowed prefixes');
      else seen.set(p.peer, i);
      if (p.endpoint !== undefined && canonicalEndpoint(p.endpoint) === undefined) {
        report(ctx, [...at, 'endpoint'], `endpoint ${JSON.stringify(p.endpoint)} of peer ${p.peer} is not ADDRESS:PORT`, 'write an address and a port, e.g. endpoint: "192.0.2.2:51820" or "[2001:db8::2]:51820" (names are not resolved)');
      }
      (p.allowed ?? []).forEach((text, j) => {
        const prefix = canonicalAllowed(text);
        if (prefix === undefined) {
          report(ctx, [...at, 'allowed', j], `allowed ${JSON.stringify(text)} of peer ${p.peer} is not a prefix`, 'write an address with its prefix length, e.g. 10.9.0.0/24 (0.0.0.0/0 for everything)');
          return;
        }
        const other = allowedBy.get(prefix);
        if (other !== undefined && other !== p.peer) {
          report(ctx, [...at, 'allowed', j], `${prefix} is allowed to both ${other} and ${p.peer} on ${node}:${dev}; the kernel would give it to the last one only`, `give ${prefix} to one peer`);
        }
        allowedBy.set(prefix, p.peer);
      });
    });
  }
  checkListenPorts(ctx, all);
  warnOneSided(ctx, all);
}

function checkPeerName(ctx: Ctx, node: string, dev: string, peer: string, path: Array<string | number>, names: readonly string[]): void {
  const end = parseEndpoint(peer);
  if (!end) {
    report(ctx, path, `peer ${JSON.stringify(peer)} of ${node}:${dev} is not NODE:IF`, `name a wireguard interface of the lab, e.g. peer: ${names.find((n) => n !== `${node}:${dev}`) ?? 'r2:wg0'}`);
    return;
  }
  if (end.node === node && end.ifname === dev) {
    report(ctx, path, `${node}:${dev} cannot be its own peer`, 'name the wireguard interface at the other end of the tunnel');
    return;
  }
  const target = own(ctx.spec.nodes, end.node);
  if (!target) {
    report(ctx, path, `peer ${peer} of ${node}:${dev} names node ${end.node}, which the lab does not have`, `name a node of the lab${didYouMean(end.node, Object.keys(ctx.spec.nodes))}`);
    return;
  }
  const iface = own(target.interfaces, end.ifname);
  if (iface?.kind !== 'wireguard') {
    const others = names.filter((n) => n !== `${node}:${dev}`);
    const what = iface ? `is not a wireguard interface` : `is not an interface of node ${end.node}`;
    const hint = others.length > 0 ? `name one of the lab's wireguard interfaces: ${nameList(others)}` : `add ${end.ifname}: {kind: wireguard, ...} to node ${end.node}`;
    report(ctx, path, `peer ${peer} of ${node}:${dev} ${what}`, hint);
  }
}

/** Two wireguard interfaces of one node on one port: the second could not listen. */
function checkListenPorts(ctx: Ctx, all: ReadonlyArray<[string, string, InterfaceSpec]>): void {
  const first = new Map<string, string>();
  for (const [node, dev, iface] of all) {
    if (iface.listen === undefined) continue;
    const other = first.get(`${node}:${iface.listen}`);
    if (other === undefined) first.set(`${node}:${iface.listen}`, dev);
    else report(ctx, ['nodes', node, 'interfaces', dev, 'listen'], `${node}:${dev} and ${node}:${other} both listen on ${iface.listen}`, 'give each wireguard interface of a node a port of its own');
  }
}

/** A tunnel comes up only when each side lists the other. */
function warnOneSided(ctx: Ctx, all: ReadonlyArray<[string, string, InterfaceSpec]>): void {
  const byName = new Map(all.map(([n, d, i]) => [`${n}:${d}`, i]));
  for (const [node, dev, iface] of all) {
    (iface.peers ?? []).forEach((p, i) => {
      const other = byName.get(p.peer);
      if (other && !(other.peers ?? []).some((q) => q.peer === `${node}:${dev}`)) {
        warn(ctx, ['nodes', node, 'interfaces', dev, 'peers', i, 'peer'], `${p.peer} does not list ${node}:${dev} among its peers, so this tunnel cannot come up`, `add {peer: ${node}:${dev}} to the peers of ${p.peer}`);
      }
    });
  }
}
