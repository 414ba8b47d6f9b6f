// A bridge port's flags: hairpin, isolated, learning, flood. Set once the port is enslaved; a
// port made again, or enslaved again, starts from the kernel's defaults and is set again.
import { formatEndpoint } from '../model/names.js';
import { DEFAULT_PORT_FLAGS, type PortFlags } from '../model/types.js';
import { keptLink } from './link-fate.js';
import { settingsDiff } from './link-settings.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type PortChange = ChangeBase & { kind: 'port'; name: string; set: Partial<PortFlags> };

const FLAGS = ['hairpin', 'isolated', 'learning', 'flood'] as const;

function describe(set: Partial<PortFlags>): string {
  return FLAGS.filter((f) => set[f] !== undefined).map((f) => `${f} ${set[f] ? 'on' : 'off'}`).join(', ');
}

export const portResource: NodeResource<PortChange> = {
  kind: 'port',
  plural: 'bridge port flags',
  id: (c) => `port/${c.node}:${c.name}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands: (c) => [{ tool: 'ip', line: `link set dev ${c.name} type bridge_slave ${FLAGS.filter((f) => c.set[f] !== undefined).map((f) => `${f} ${c.set[f] ? 'on' : 'off'}`).join(' ')}` }],
  summary: (c) => `bridge port ${formatEndpoint({ node: c.node, ifname: c.name })}: ${describe(c.set)}`,
  waitsForBeforeUp: true,
  // After the settings that make it a port.
  dependsOn: (c, index) => [index.linkMade(c.node, c.name), ...index.sameNode(c, (o) => o.kind === 'settings' && o.name === c.name)],

  diff(n: NodeDiff) {
    for (const name of [...n.want.links.keys()].sort()) {
      const link = n.want.links.get(name)!;
      if (!link.port) continue;
      const kept = keptLink(n.links, n.current, name);
      // Enslaved anew (made again, or its master set): it has the kernel's defaults.
      const fresh = !kept || settingsDiff(link, kept).master !== undefined || (link.master !== null && n.links.recreated.has(link.master));
      const have = fresh ? DEFAULT_PORT_FLAGS : (kept.port ?? DEFAULT_PORT_FLAGS);
      const set: Partial<PortFlags> = {};
      for (const f of FLAGS) if (link.port[f] !== have[f]) set[f] = link.port[f];
      if (Object.keys(set).length === 0) continue;
      const action = fresh ? 'create' : 'update';
      const reason = fresh ? `new port: ${describe(set)}` : `${name}: ${describe(Object.fromEntries(Object.keys(set).map((f) => [f, have[f as keyof PortFlags]])))} → ${describe(set)}`;
      n.emit({ node: n.want.node, netns: n.want.netns, kind: 'port', action, name, set, reason });
    }
  },
};
