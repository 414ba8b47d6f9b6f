// An interface a node makes itself by its `kind:` (macvlan, vxlan, vlan, vrf, bond, dummy, gre,
// ipip): made in its parent's namespace (a macvlan may be made into another node's), changed in
// place where the kernel allows it, else deleted (link.ts) and made again alone.
import { formatEndpoint } from '../model/names.js';
import { addLine, describeSettings, setLine, settingsDelta, type VirtualLink, type VirtualSettings } from '../model/virtual.js';
import { keptLink, whyMismatch } from './link-fate.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

/**
 * create: `link` is what is made; `parentNetns` the namespace its parent is in, where the add
 * runs (with `netns` placing it in its own when that is another). update: `set` changes in place.
 */
export type VirtualChange = ChangeBase & { kind: 'virtual'; name: string; link: VirtualLink; parentNetns?: string | null; set?: VirtualSettings };

function madeElsewhere(c: VirtualChange): boolean {
  return c.parentNetns !== undefined && c.parentNetns !== c.netns;
}

export const virtualResource: NodeResource<VirtualChange> = {
  kind: 'virtual',
  plural: 'virtual interfaces',
  id: (c) => `virtual/${c.node}:${c.name}`,
  scope: (c) => ({ tool: 'ip', netns: c.action === 'create' && madeElsewhere(c) ? c.parentNetns! : c.netns }),
  commands: (c) => [
    {
      tool: 'ip',
      line: c.action === 'update' ? setLine(c.name, c.link.kind, c.set!) : addLine(c.name, c.link, madeElsewhere(c) ? c.netns! : undefined),
    },
  ],
  summary: (c) =>
    `${c.link.kind} ${formatEndpoint({ node: c.node, ifname: c.name })}${c.link.parent ? ` on ${c.link.parent.node === c.node ? c.link.parent.name : formatEndpoint({ node: c.link.parent.node, ifname: c.link.parent.name })}` : ''}${
      c.action === 'update' ? `: ${describeSettings(c.set!)}` : Object.keys(c.link.settings).length > 0 ? ` (${describeSettings(c.link.settings)})` : ''
    }`,
  makes: (c) => (c.action === 'create' ? [{ node: c.node, name: c.name }] : []),
  // A macvlan made into another node's namespace reaches into it.
  reachesAcross: true,
  waitsForBeforeUp: true,
  dependsOn: (c, index) => [
    index.linkDeleted(c.node, c.name),
    ...(c.link.parent ? [index.linkMade(c.link.parent.node, c.link.parent.name), index.namespaceMade(c.link.parent.node)] : []),
  ],

  // Every kind is a kernel feature of its own, often a module (macvlan, vxlan, 8021q, vrf, ...).
  needs: (want) =>
    [...want.links.values()]
      .filter((l) => l.virtual !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((l) => ({ feature: l.virtual!.kind, object: formatEndpoint({ node: want.node, ifname: l.name }), key: `kind ${l.virtual!.kind}` })),

  diff(n: NodeDiff) {
    for (const name of [...n.want.links.keys()].sort()) {
      const link = n.want.links.get(name)!;
      if (link.type !== 'virtual') continue;
      const base = { node: n.want.node, netns: n.want.netns, kind: 'virtual' as const, name, link: link.virtual! };
      const kept = keptLink(n.links, n.current, name);
      if (!kept) {
        const existing = n.current.links.get(name);
        const parentNetns = link.virtual!.parent ? n.desired.nodes.get(link.virtual!.parent.node)?.netns : undefined;
        const reason = existing ? whyMismatch(n.desired, n.actual, existing, link, n.want.node) : `${link.virtual!.kind} missing`;
        n.emit({ ...base, action: 'create', ...(parentNetns !== undefined ? { parentNetns } : {}), reason });
        continue;
      }
      const have = kept.virtual!.settings;
      const { inPlace } = settingsDelta(link.virtual!.kind, link.virtual!.settings, have);
      if (Object.keys(inPlace).length === 0) continue;
      const before = Object.fromEntries(Object.keys(inPlace).map((k) => [k, have[k] ?? 'unset']));
      n.emit({ ...base, action: 'update', set: inPlace, reason: `${name}: ${describeSettings(before)} → ${describeSettings(inPlace)}` });
    }
  },
};
