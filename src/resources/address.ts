// An IPv4 or IPv6 address on a link.
import { formatEndpoint } from '../model/names.js';
import { keptLink } from './link-fate.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type AddressChange = ChangeBase & { kind: 'address'; dev: string; cidr: string };

type Emit = NodeDiff['emit'];

function deleteAddress(n: NodeDiff, dev: string, cidr: string, emit: Emit): void {
  emit({ node: n.current.node, netns: n.current.netns, kind: 'address', action: 'delete', dev, cidr, reason: `address ${cidr} on ${n.current.node}:${dev} is not in the file` });
}

export const addressResource: NodeResource<AddressChange> = {
  kind: 'address',
  plural: 'addresses',
  id: (c) => `address/${c.node}:${c.dev}/${c.cidr}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands(c) {
    if (c.action === 'delete') return [{ tool: 'ip', line: `addr del ${c.cidr} dev ${c.dev}` }];
    // nodad: a lab's IPv6 addresses answer at once instead of after duplicate detection; the
    // file's addresses are checked for duplicates per segment by validation.
    const nodad = c.cidr.includes(':') ? ' nodad' : '';
    return [{ tool: 'ip', line: `addr replace ${c.cidr} dev ${c.dev}${nodad}` }];
  },
  summary: (c) => `address ${c.cidr} on ${formatEndpoint({ node: c.node, ifname: c.dev })}`,
  waitsForBeforeUp: true,
  dependsOn(c, index) {
    const d = [index.linkMade(c.node, c.dev)];
    if (c.action === 'create') d.push(...index.sameNode(c, (o) => o.kind === 'address' && o.action === 'delete'));
    // A route goes before the address: the kernel flushes every route through an interface with its last IPv4 address.
    if (c.action === 'delete') d.push(...index.sameNode(c, (o) => o.kind === 'route' && o.action === 'delete'));
    return d;
  },

  diff(n: NodeDiff) {
    for (const name of [...n.want.links.keys()].sort()) {
      const link = n.want.links.get(name)!;
      const have = keptLink(n.links, n.current, name)?.addresses ?? [];
      const haveSet = new Set(have);
      const wanted = new Set(link.addresses);
      for (const cidr of link.addresses) {
        if (!haveSet.has(cidr)) n.emit({ node: n.want.node, netns: n.want.netns, kind: 'address', action: 'create', dev: name, cidr, reason: `address ${cidr} missing on ${n.want.node}:${name}` });
      }
      for (const cidr of have) if (!wanted.has(cidr)) deleteAddress(n, name, cidr, n.emit);
    }
    // An interface that is not the lab's, dropped from the file: only the addresses the lab gave it go.
    for (const name of [...n.current.links.keys()].sort()) {
      const link = n.current.links.get(name)!;
      if (n.want.links.has(name) || link.type !== 'existing') continue;
      for (const cidr of link.addresses) deleteAddress(n, name, cidr, n.emit);
    }
  },
};
