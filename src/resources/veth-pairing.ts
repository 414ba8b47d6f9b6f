// Which veth ends the kernel joins, told from what `ip -d -j link` shows of each end. Pure.
import type { NodeState } from '../model/types.js';
import type { LinkEnd } from './resource.js';

/**
 * Whether the veth `name` in `node` is joined to the veth `peer`: both ends must point at each
 * other's ifindex (across namespaces) or name each other (in one namespace). Ifindexes repeat
 * across namespaces (every namespace's first veth is 2), so where the read found them ambiguous
 * (ambiguousVethNodes) the netns id must also name the other end's namespace. Where they are not,
 * each end is the other's only match among the lab's namespaces, and no lookup is paid.
 */
export function isVethPairedWith(nodes: ReadonlyMap<string, NodeState>, node: string, name: string, peer: LinkEnd): boolean {
  const [nearNode, farNode] = [nodes.get(node), nodes.get(peer.node)];
  const near = nearNode?.links.get(name);
  const far = farNode?.links.get(peer.name);
  if (near?.type !== 'veth' || far?.type !== 'veth' || !near.kernelPeer || !far.kernelPeer) return false;
  if (node === peer.node) return near.kernelPeer.peerName === peer.name && far.kernelPeer.peerName === name;
  const a = near.kernelPeer;
  const b = far.kernelPeer;
  return (
    a.peerNetnsId !== undefined &&
    b.peerNetnsId !== undefined &&
    a.peerIfindex === b.ifindex &&
    b.peerIfindex === a.ifindex &&
    namesNamespaceOf(nearNode!, a.peerNetnsId, farNode!) &&
    namesNamespaceOf(farNode!, b.peerNetnsId, nearNode!)
  );
}

/** Whether `from`'s netns id names `to`'s namespace; true when its ids were not looked up. No name: the root namespace. */
function namesNamespaceOf(from: NodeState, nsid: number, to: NodeState): boolean {
  if (!from.peerNamespaces) return true;
  return (from.peerNamespaces.get(nsid) ?? null) === to.netns;
}

function signature(ifindex: number | undefined, peerIfindex: number | undefined): string {
  return `${ifindex}>${peerIfindex}`;
}

/**
 * The nodes with a veth that ifindexes alone would join to ends in more than one other node (as
 * [a,b],[c,d] made again as [a,c],[b,d] looks the same): their netns ids must be looked up.
 */
export function ambiguousVethNodes(states: readonly NodeState[]): Set<string> {
  const crossing = (s: NodeState) => [...s.links.values()].flatMap((l) => (l.type === 'veth' && l.kernelPeer?.peerNetnsId !== undefined ? [l.kernelPeer] : []));
  const nodesBySignature = new Map<string, string[]>();
  for (const s of states) {
    for (const kp of crossing(s)) {
      const key = signature(kp.ifindex, kp.peerIfindex);
      nodesBySignature.set(key, [...(nodesBySignature.get(key) ?? []), s.node]);
    }
  }
  const ambiguous = new Set<string>();
  for (const s of states) {
    for (const kp of crossing(s)) {
      const matches = (nodesBySignature.get(signature(kp.peerIfindex, kp.ifindex)) ?? []).filter((n) => n !== s.node);
      if (matches.length > 1) ambiguous.add(s.node);
    }
  }
  return ambiguous;
}

/** The actual veth ends joined to node:name, which deleting it deletes too. */
export function actualPeerEnds(actual: ReadonlyMap<string, NodeState>, node: string, name: string): LinkEnd[] {
  if (actual.get(node)?.links.get(name)?.type !== 'veth') return [];
  const ends: LinkEnd[] = [];
  for (const other of actual.values()) {
    for (const [otherName, otherLink] of other.links) {
      if (otherLink.type === 'veth' && isVethPairedWith(actual, node, name, { node: other.node, name: otherName })) ends.push({ node: other.node, name: otherName });
    }
  }
  return ends;
}
