// A veth pair, made from the root namespace with each end placed in its node's namespace.
import { formatEndpoint } from '../model/names.js';
import { whyMismatch } from './link-fate.js';
import type { ChangeBase, LinkEnd, NodeDiff, NodeResource } from './resource.js';

export type VethChange = ChangeBase & { kind: 'veth'; name: string; peer: { node: string; netns: string | null; name: string } };

/** `netns X` places a veth end in a namespace; without it the end stays where ip runs: the root. */
function placeIn(netns: string | null): string {
  return netns === null ? '' : ` netns ${netns}`;
}

/** One id per pair, the same from either end: the plan holds each pair once. */
function pairId(a: LinkEnd, b: LinkEnd): string {
  return [a, b].map((e) => formatEndpoint({ node: e.node, ifname: e.name })).sort().join('=');
}

export const vethResource: NodeResource<VethChange> = {
  kind: 'veth',
  plural: 'veth pairs',
  id: (c) => `veth/${pairId({ node: c.node, name: c.name }, c.peer)}`,
  scope: () => ({ tool: 'ip', netns: null }),
  commands: (c) => [{ tool: 'ip', line: `link add name ${c.name}${placeIn(c.netns)} type veth peer name ${c.peer.name}${placeIn(c.peer.netns)}` }],
  summary: (c) => `veth ${formatEndpoint({ node: c.node, ifname: c.name })} <-> ${formatEndpoint({ node: c.peer.node, ifname: c.peer.name })}`,
  makes: (c) => [{ node: c.node, name: c.name }, { node: c.peer.node, name: c.peer.name }],
  reachesAcross: true,
  dependsOn: (c, index) => [index.namespaceMade(c.peer.node), index.linkDeleted(c.node, c.name), index.linkDeleted(c.peer.node, c.peer.name)],

  /** Each end of a pair made again asks for it; the plan keeps the first (plan/diff.ts). */
  diff(n: NodeDiff) {
    for (const name of [...n.links.recreated].sort()) {
      const link = n.want.links.get(name)!;
      if (link.type !== 'veth' || !link.peer) continue;
      const existing = n.current.links.get(name);
      const peerNetns = n.desired.nodes.get(link.peer.node)!.netns;
      n.emit({
        node: n.want.node,
        netns: n.want.netns,
        kind: 'veth',
        action: 'create',
        name,
        peer: { node: link.peer.node, netns: peerNetns, name: link.peer.name },
        reason: existing ? whyMismatch(n.desired, n.actual, existing, link) : 'veth pair missing',
      });
    }
  },
};
