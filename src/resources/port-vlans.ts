// The VLANs of a port of a VLAN-filtering bridge (`vlans: true`): `access: 10` makes it an
// untagged member of VLAN 10 (its pvid), `trunk: [10, 20]` a tagged member of each, `native` the
// VLAN its untagged frames belong to. A new port starts with the kernel's VLAN 1 (pvid, untagged).
import type { FeatureNeed } from '../model/features.js';
import { formatEndpoint } from '../model/names.js';
import { defaultPortVlans, type NodeState, type PortVlans, type VlanMembership } from '../model/types.js';
import { keptLink } from './link-fate.js';
import { settingsDiff } from './link-settings.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type VlansChange = ChangeBase & {
  kind: 'vlans';
  name: string;
  /** Memberships to add or change, by VLAN id. */
  add: Array<[number, VlanMembership]>;
  /** VLAN ids to leave. */
  remove: number[];
};

/** The fields of `bridge -j vlan show` that netlab reads. */
interface VlanJson {
  ifname?: string;
  vlans?: Array<{ vlan?: number; vlanEnd?: number; flags?: string[] }>;
}

/** A port of a filtering bridge that the answer leaves out is in no VLAN at all. */
export function parseVlans(answer: unknown[], node: NodeState): void {
  for (const link of node.links.values()) if (link.master !== null && node.links.get(link.master)?.vlanFiltering) link.vlans = new Map();
  for (const json of answer as VlanJson[]) {
    const link = json.ifname === undefined ? undefined : node.links.get(json.ifname);
    if (!link || link.master === null) continue; // the bridge's own memberships are not the lab's
    const vlans: PortVlans = new Map();
    for (const v of json.vlans ?? []) {
      if (v.vlan === undefined) continue;
      const flags = v.flags ?? [];
      for (let vid = v.vlan; vid <= (v.vlanEnd ?? v.vlan); vid++) vlans.set(vid, { pvid: flags.includes('PVID'), untagged: flags.includes('Egress Untagged') });
    }
    link.vlans = vlans;
  }
}

/** "10 (pvid, untagged)", "20 (tagged)". */
function describeMembership(vid: number, m: VlanMembership): string {
  const flags = [...(m.pvid ? ['pvid'] : []), m.untagged ? 'untagged' : 'tagged'];
  return `${vid} (${flags.join(', ')})`;
}

export function describeVlans(vlans: PortVlans): string {
  const ids = [...vlans.keys()].sort((a, b) => a - b);
  return ids.length === 0 ? 'no VLAN' : `VLAN ${ids.map((vid) => describeMembership(vid, vlans.get(vid)!)).join(', ')}`;
}

function sameMembership(a: VlanMembership | undefined, b: VlanMembership): boolean {
  return a !== undefined && a.pvid === b.pvid && a.untagged === b.untagged;
}

/** Leaving first: a pvid moving to another VLAN is then never on two. */
function lines(c: VlansChange): string[] {
  return [
    ...c.remove.map((vid) => `vlan del vid ${vid} dev ${c.name}`),
    ...c.add.map(([vid, m]) => `vlan add vid ${vid} dev ${c.name}${m.pvid ? ' pvid' : ''}${m.untagged ? ' untagged' : ''}`),
  ];
}

export const vlansResource: NodeResource<VlansChange> = {
  kind: 'vlans',
  plural: 'port VLANs',
  id: (c) => `vlans/${c.node}:${c.name}`,
  scope: (c) => ({ tool: 'bridge', netns: c.netns }),
  commands: (c) => lines(c).map((line) => ({ tool: 'bridge', line })),
  summary: (c) => `port VLANs ${formatEndpoint({ node: c.node, ifname: c.name })}: ${[...c.add.map(([vid, m]) => `+${describeMembership(vid, m)}`), ...c.remove.map((vid) => `-${vid}`)].join(' ')}`,
  // Once the port is enslaved to its bridge, and the bridge filters.
  dependsOn: (c, index) => [index.linkMade(c.node, c.name), ...index.sameNode(c, (o) => o.kind === 'settings')],
  bridgeRead: { table: 'vlan', line: 'vlan show', wanted: (want) => [...want.links.values()].some((l) => l.vlanFiltering), parse: parseVlans },

  needs(want: NodeState): FeatureNeed[] {
    return [...want.links.values()].filter((l) => l.vlanFiltering).map((l) => ({ feature: 'vlan-filtering', object: `${want.node}:${l.name}`, key: 'vlans: true' }));
  },

  diff(n: NodeDiff) {
    for (const name of [...n.want.links.keys()].sort()) {
      const link = n.want.links.get(name)!;
      if (!link.vlans) continue;
      const kept = keptLink(n.links, n.current, name);
      // Enslaved anew (made again, or its master set): it has the kernel's VLAN 1.
      const fresh = !kept || settingsDiff(link, kept).master !== undefined || (link.master !== null && n.links.recreated.has(link.master));
      const have = fresh || !kept.vlans ? defaultPortVlans() : kept.vlans;
      const add = [...link.vlans].filter(([vid, m]) => !sameMembership(have.get(vid), m)).sort(([a], [b]) => a - b);
      const remove = [...have.keys()].filter((vid) => !link.vlans!.has(vid)).sort((a, b) => a - b);
      if (add.length === 0 && remove.length === 0) continue;
      const reason = fresh ? `new port: ${describeVlans(link.vlans)}` : `${name}: ${describeVlans(have)} → ${describeVlans(link.vlans)}`;
      n.emit({ node: n.want.node, netns: n.want.netns, kind: 'vlans', action: fresh ? 'create' : 'update', name, add, remove, reason });
    }
  },
};
