// Which namespaces apply must read again before a new lab passes traffic. Pure.
import type { LabState } from '../model/types.js';

/**
 * Nodes with a veth the file wants up that the kernel does not pass traffic on yet. Either end
 * seen with carrier will do: the second end to come up raises the carrier of both at once, and the
 * kernel's link watcher handles the two events together. A namespace read at the end of its own
 * batch often saw its end before the far end came up; the far end, read later, tells.
 */
export function waitingForCarrier(desired: LabState, actual: LabState): string[] {
  const pairs: Array<[string, string]> = [];
  const carrier = (node: string, link: string) => actual.nodes.get(node)?.links.get(link)?.carrier;
  for (const [name, node] of desired.nodes) {
    for (const link of node.links.values()) {
      const peer = link.peer;
      const peerUp = peer && desired.nodes.get(peer.node)?.links.get(peer.name)?.up;
      if (link.type === 'veth' && link.up && peerUp && carrier(name, link.name) === false && carrier(peer.node, peer.name) !== true) pairs.push([name, peer.node]);
    }
  }
  return fewestCovering(pairs);
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
