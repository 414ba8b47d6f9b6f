// A WireGuard interface's keys, listen port and peers, set with `wg set` once its interface is made
// (virtual.ts makes it). There is nothing to delete: they go with the interface. Drift is set right
// in place, peers the file does not list taken away.
import { formatEndpoint } from '../model/names.js';
import { describeWireguard, peersToRemove, wireguardDifferences, type WireguardState } from '../model/wireguard.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type WireguardChange = ChangeBase & {
  kind: 'wireguard';
  /** The file's, with the public keys known so far. */
  wireguard: WireguardState;
  /** Public keys of the peers there that the file does not list. */
  remove: string[];
};

export const wireguardResource: NodeResource<WireguardChange> = {
  kind: 'wireguard',
  plural: 'WireGuard keys and peers',
  id: (c) => `wireguard/${c.node}:${c.wireguard.dev}`,
  scope: (c) => ({ tool: 'wg', netns: c.netns }),
  commands: (c) => [{ tool: 'wg', wireguard: c.wireguard, remove: c.remove }],
  summary: (c) => `wireguard ${formatEndpoint({ node: c.node, ifname: c.wireguard.dev })}: ${describeWireguard(c.wireguard)}`,
  dependsOn: (c, index) => [index.linkMade(c.node, c.wireguard.dev)],

  diff(n: NodeDiff) {
    const base = { node: n.want.node, netns: n.want.netns, kind: 'wireguard' as const };
    for (const dev of [...n.want.wireguard.keys()].sort()) {
      const wireguard = n.want.wireguard.get(dev)!;
      const have = n.links.recreated.has(dev) ? undefined : n.current.wireguard.get(dev);
      if (!have) {
        const reason = n.links.recreated.has(dev) && n.present.has(dev) ? `goes with ${dev}, made again; set again` : `${dev}'s keys and peers not set`;
        n.emit({ ...base, action: 'create', wireguard, remove: [], reason });
        continue;
      }
      const differences = wireguardDifferences(wireguard, have);
      if (differences.length === 0) continue;
      n.emit({ ...base, action: 'update', wireguard, remove: peersToRemove(wireguard, have), reason: differences.join('; ') });
    }
  },
};
