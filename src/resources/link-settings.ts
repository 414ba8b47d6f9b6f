// What is set on a link the lab keeps or makes: mtu, mac, master, stp, link-local IPv6, up, and
// the lab's mark on a link it made in a namespace it does not own.
import { formatEndpoint, ownerMark } from '../model/names.js';
import { ownsWholeNamespace, type LinkState } from '../model/types.js';
import { keptLink } from './link-fate.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export interface LinkSettings {
  /** The lab's mark on a link it made in a namespace it does not own. */
  alias?: string;
  mtu?: number;
  mac?: string;
  master?: string | null;
  up?: boolean;
  stp?: boolean;
  /** A bridge's VLAN filtering. */
  vlanFiltering?: boolean;
  /** Only ever false: off with `addrgenmode none` before the link is up. On again needs a new link. */
  linkLocal?: boolean;
  /** The master is a bond, which takes only a member that is down: set down first, enslaved, then up. */
  bondMember?: boolean;
}

export type SettingsChange = ChangeBase & { kind: 'settings'; name: string; set: LinkSettings };

/** What must be set on a link for it to match; everything when the link is new. */
export function settingsDiff(want: LinkState, have: LinkState | undefined): LinkSettings {
  const set: LinkSettings = {};
  if (want.type === 'existing') return set;
  if (want.mtu !== undefined && want.mtu !== have?.mtu) set.mtu = want.mtu;
  if (want.mac !== undefined && want.mac !== have?.mac) set.mac = want.mac;
  if (have ? want.master !== have.master : want.master !== null) set.master = want.master;
  if (want.type === 'bridge' && want.stp !== undefined && want.stp !== have?.stp) set.stp = want.stp;
  if (want.type === 'bridge' && (want.vlanFiltering ?? false) !== (have?.vlanFiltering ?? false)) set.vlanFiltering = want.vlanFiltering ?? false;
  if (have ? want.up !== have.up : want.up) set.up = want.up;
  // A new link has link-local IPv6 unless told otherwise; turning it on again needs a new link (link-fate.ts).
  if (want.linkLocal === false && (have ? have.linkLocal === true : true)) set.linkLocal = false;
  return set;
}

/** What a link has now, of the settings a change sets: the "before" of its reason. */
function currentSettings(have: LinkState, set: LinkSettings): LinkSettings {
  const before: LinkSettings = {};
  if (set.mtu !== undefined) before.mtu = have.mtu;
  if (set.mac !== undefined) before.mac = have.mac;
  if (set.master !== undefined) before.master = have.master;
  if (set.stp !== undefined) before.stp = have.stp;
  if (set.vlanFiltering !== undefined) before.vlanFiltering = have.vlanFiltering ?? false;
  if (set.up !== undefined) before.up = have.up;
  if (set.linkLocal !== undefined) before.linkLocal = have.linkLocal;
  return before;
}

function describeSettings(set: LinkSettings): string {
  const parts: string[] = [];
  if (set.master !== undefined) parts.push(set.master === null ? 'no master' : `master ${set.master}`);
  if (set.mtu !== undefined) parts.push(`mtu ${set.mtu}`);
  if (set.mac !== undefined) parts.push(`mac ${set.mac}`);
  if (set.stp !== undefined) parts.push(`stp ${set.stp ? 'on' : 'off'}`);
  if (set.vlanFiltering !== undefined) parts.push(`vlan filtering ${set.vlanFiltering ? 'on' : 'off'}`);
  if (set.linkLocal !== undefined) parts.push(`link-local IPv6 ${set.linkLocal ? 'on' : 'off'}`);
  if (set.up !== undefined) parts.push(set.up ? 'up' : 'down');
  return parts.join(', ');
}

function settingsLines(name: string, set: LinkSettings, update: boolean): string[] {
  const lines: string[] = [];
  // Before `up`, which would start the address's duplicate detection and solicitations; on a link
  // that has one already, that address goes too (a lab's own addresses are never scope link).
  if (set.linkLocal === false) lines.push(`link set dev ${name} addrgenmode none`, ...(update ? [`addr flush dev ${name} scope link`] : []));
  const args: string[] = [];
  if (set.mtu !== undefined) args.push('mtu', String(set.mtu));
  if (set.mac !== undefined) args.push('address', set.mac);
  if (set.master !== undefined) args.push(...(set.master === null ? ['nomaster'] : ['master', set.master]));
  if (set.alias !== undefined) args.push('alias', set.alias);
  if (set.stp !== undefined) lines.push(`link set dev ${name} type bridge stp_state ${set.stp ? 1 : 0}`);
  if (set.vlanFiltering !== undefined) lines.push(`link set dev ${name} type bridge vlan_filtering ${set.vlanFiltering ? 1 : 0}`);
  // The kernel sets a link up before it enslaves it, and a bond refuses a member that is up.
  if (set.bondMember) {
    if (update) lines.push(`link set dev ${name} down`);
    lines.push(`link set dev ${name} ${args.join(' ')}`);
    lines.push(`link set dev ${name} up`);
    return lines;
  }
  if (set.up !== undefined) args.push(set.up ? 'up' : 'down');
  if (args.length > 0) lines.push(`link set dev ${name} ${args.join(' ')}`);
  return lines;
}

export const settingsResource: NodeResource<SettingsChange> = {
  kind: 'settings',
  plural: 'link settings',
  id: (c) => `settings/${c.node}:${c.name}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands: (c) => settingsLines(c.name, c.set, c.action === 'update').map((line) => ({ tool: 'ip', line })),
  summary: (c) =>
    `link ${formatEndpoint({ node: c.node, ifname: c.name })}: ${Object.entries(c.set)
      .filter(([k]) => k !== 'bondMember')
      .map(([k, v]) => (k === 'up' ? (v ? 'up' : 'down') : k === 'master' && v === null ? 'no master' : `${k} ${String(v)}`))
      .join(', ')}`,
  waitsForBeforeUp: true,
  dependsOn(c, index) {
    const d = [index.linkMade(c.node, c.name)];
    // A link set down takes its routes with it: the lab's own route deletes go first.
    if (c.set.up === false) d.push(...index.sameNode(c, (o) => o.kind === 'route' && o.action === 'delete'));
    if (c.set.master) d.push(index.linkMade(c.node, c.set.master));
    return d;
  },

  diff(n: NodeDiff) {
    for (const name of [...n.want.links.keys()].sort()) {
      const link = n.want.links.get(name)!;
      const current = keptLink(n.links, n.current, name);
      const set = settingsDiff(link, current);
      // A port of a bridge made again is enslaved again.
      if (current && link.master !== null && n.links.recreated.has(link.master)) set.master = link.master;
      // In a namespace the lab does not own, what it makes carries its mark.
      if (!ownsWholeNamespace(n.want.kind) && link.type !== 'existing' && current?.owner !== n.lab) set.alias = ownerMark(n.lab);
      if (Object.keys(set).length === 0) continue;
      if (set.master && n.want.links.get(set.master)?.virtual?.kind === 'bond' && link.up) set.bondMember = true;
      n.emit({
        node: n.want.node,
        netns: n.want.netns,
        kind: 'settings',
        action: current ? 'update' : 'create',
        name,
        set,
        reason: current ? `${name}: ${describeSettings(currentSettings(current, set))} → ${describeSettings(set)}` : `new ${link.virtual?.kind ?? link.type}: ${describeSettings(set)}`,
      });
    }
  },
};
