// A Linux bridge in a node's namespace.
import { formatEndpoint } from '../model/names.js';
import { whyMismatch } from './link-fate.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type BridgeChange = ChangeBase & { kind: 'bridge'; name: string };

export const bridgeResource: NodeResource<BridgeChange> = {
  kind: 'bridge',
  plural: 'bridges',
  id: (c) => `bridge/${c.node}:${c.name}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands: (c) => [{ tool: 'ip', line: `link add name ${c.name} type bridge` }],
  summary: (c) => `bridge ${formatEndpoint({ node: c.node, ifname: c.name })}`,
  makes: (c) => [{ node: c.node, name: c.name }],
  waitsForBeforeUp: true,
  dependsOn: (c, index) => [index.linkDeleted(c.node, c.name)],

  diff(n: NodeDiff) {
    for (const name of [...n.links.recreated].sort()) {
      const link = n.want.links.get(name)!;
      if (link.type !== 'bridge') continue;
      const existing = n.current.links.get(name);
      const reason = existing ? whyMismatch(n.desired, n.actual, existing, link) : 'bridge missing';
      n.emit({ node: n.want.node, netns: n.want.netns, kind: 'bridge', action: 'create', name, reason });
    }
  },
};
