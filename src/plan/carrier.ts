// Which namespaces apply must read again before a new lab passes traffic. Pure.
import type { LabState, LinkState, NodeState } from '../model/types.js';

/** "node:link": a link this run made, as madeLinks keys it. */
export function linkKey(node: string, link: string): string {
  return `${node}:${link}`;
}

/**
 * Nodes with a link the file wants up that the kernel does not pass traffic on yet.
 *
 * A veth pair: either end seen with carrier will do. The second end to come up raises the carrier
 * of both at once, and the kernel's link watcher handles the two events together. A namespace read
 * at the end of its own batch often saw its end before the far end came up; the far end, read
 * later, tells.
 *
 * A link this run made with link-local IPv6 (`made`): that link itself must have its link-local
 * address, which the kernel adds only once its link watcher has seen the carrier of that very
 * link, and which may come a second later than the far end's. Until then the node cannot
 * forward IPv6 out of it. Bridges too, once a port of theirs is up.
 */
export function waitingForCarrier(desired: LabState, actual: LabState, made: ReadonlySet<string> = new Set()): string[] {
  const pairs: Array<[string, string]> = [];
  const have = (node: string, link: string) => actual.nodes.get(node)?.links.get(link);
  const carrier = (node: string, link: string) => have(node, link)?.carrier;
  const lacksLinkLocal = (node: NodeState, link: LinkState) =>
    made.has(linkKey(node.node, link.name)) && link.linkLocal === true && !ipv6Disabled(node, link.name) && have(node.node, link.name)?.linkLocalUsable !== true;
  for (const [name, node] of desired.nodes) {
    for (const link of node.links.values()) {
      const peer = link.peer;
      const peerUp = peer && desired.nodes.get(peer.node)?.links.get(peer.name)?.up;
      if (link.type === 'veth' && link.up && peerUp) {
        if (lacksLinkLocal(node, link)) pairs.push([name, name]);
        else if (carrier(name, link.name) === false && carrier(peer.node, peer.name) !== true) pairs.push([name, peer.node]);
      }
      if (link.type === 'bridge' && link.up && hasLivePort(desired, node, link.name) && lacksLinkLocal(node, link)) pairs.push([name, name]);
    }
  }
  return fewestCovering(pairs);
}

/** A bridge has carrier once one of its ports does: a veth port that is up with its far end up. */
function hasLivePort(desired: LabState, node: NodeState, bridge: string): boolean {
  return [...node.links.values()].some((l) => l.master === bridge && l.type === 'veth' && l.up && l.peer !== undefined && desired.nodes.get(l.peer.node)?.links.get(l.peer.name)?.up === true);
}

/** A link the file's sysctls keep without IPv6 never gets a link-local address to wait for. */
function ipv6Disabled(node: NodeState, ifname: string): boolean {
  const off = (scope: string) => node.sysctls.get(`net.ipv6.conf.${scope}.disable_ipv6`) === '1';
  return off('all') || off(ifname.replace(/\./g, '/')) || off('default');
}

/** Greedy: the fewest nodes that hold an end of every pair, so a star's hub is read again, not its leaves. */
export function fewestCovering(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  const chosen: string[] = [];
  let left = pairs;
  while (left.length > 0) {
    const count = new Map<string, number>();
    for (const [a, b] of left) for (const n of new Set([a, b])) count.set(n, (count.get(n) ?? 0) + 1);
    const best = [...count].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0]![0];
    chosen.push(best);
    left = left.filter(([a, b]) => a !== best && b !== best);
  }
  return chosen.sort();
}
