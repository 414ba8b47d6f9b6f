// A link the lab deletes: one made again, or one the file no longer has. Deleting a veth end
// deletes its peer too, so a pair is deleted once (plan/diff.ts keeps the first of its ends).
import { formatEndpoint } from '../model/names.js';
import { whyMismatch } from './link-fate.js';
import type { ChangeBase, LinkEnd, NodeDiff, NodeResource } from './resource.js';
import { actualPeerEnds } from './veth-pairing.js';

/**
 * peerEnds: the veth ends elsewhere that go with it (a link made again there waits for this).
 * lower: the parent of a virtual interface, whose delete would take this one with it: it waits for this.
 */
export type LinkChange = ChangeBase & { kind: 'link'; name: string; peerEnds?: LinkEnd[]; lower?: LinkEnd };

function deleteLink(n: NodeDiff, name: string, reason: string): void {
  const peerEnds = actualPeerEnds(n.actual.nodes, n.current.node, name);
  const parent = n.current.links.get(name)?.virtual?.parent ?? n.want.links.get(name)?.virtual?.parent;
  n.emit({
    node: n.current.node,
    netns: n.current.netns,
    kind: 'link',
    action: 'delete',
    name,
    reason,
    ...(peerEnds.length > 0 ? { peerEnds } : {}),
    ...(parent ? { lower: { node: parent.node, name: parent.name } } : {}),
  });
}

export const linkResource: NodeResource<LinkChange> = {
  kind: 'link',
  plural: 'links to delete',
  id: (c) => `link/${c.node}:${c.name}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands: (c) => [{ tool: 'ip', line: `link del dev ${c.name}` }],
  summary: (c) => `link ${formatEndpoint({ node: c.node, ifname: c.name })}`,
  deletes: (c) => [{ node: c.node, name: c.name }, ...(c.peerEnds ?? [])],
  reachesAcross: true,
  // The kernel deletes a macvlan, vlan or vxlan with its parent: the child's own delete comes first.
  dependsOn: (c, index) => index.all((o) => o.kind === 'link' && o.action === 'delete' && (o.lower as LinkEnd | undefined)?.node === c.node && (o.lower as LinkEnd | undefined)?.name === c.name),

  diff(n: NodeDiff) {
    for (const name of [...n.want.links.keys()].sort()) {
      const existing = n.current.links.get(name);
      if (existing && n.links.recreated.has(name)) deleteLink(n, name, whyMismatch(n.desired, n.actual, existing, n.want.links.get(name)!, n.want.node));
    }
    // Links in the namespace that the file does not declare; an interface that is not the lab's
    // stays (address.ts takes back only the addresses the lab gave it).
    for (const name of [...n.current.links.keys()].sort()) {
      const link = n.current.links.get(name)!;
      if (n.want.links.has(name) || link.type === 'existing') continue;
      deleteLink(n, name, `${link.type} ${name} is not in the file`);
    }
  },
};
