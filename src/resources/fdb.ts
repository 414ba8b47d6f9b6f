// Static forwarding entries (`fdb:`): frames to a MAC leave a bridge by a fixed port, or a VXLAN
// device sends them to a fixed remote. The lab writes bridge entries `static` and VXLAN remotes
// `permanent`; what the kernel learns (no state), keeps for itself (the ports' own MACs, which are
// `permanent`, and the multicast addresses listed `self`) is never read as the lab's.
import { canonicalIp } from '../model/ip.js';
import { formatEndpoint } from '../model/names.js';
import { fdbKey, type FdbState, type NodeState } from '../model/types.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type FdbChange = ChangeBase & { kind: 'fdb'; entry: FdbState };

/** The fields of `bridge -j fdb show` that netlab reads. */
interface FdbJson {
  mac?: string;
  ifname?: string;
  master?: string;
  vlan?: number;
  dst?: string;
  flags?: string[];
  state?: string;
}

/** What the lab could have written: a static bridge entry, or a permanent remote of a VXLAN device. */
export function parseFdb(answer: unknown[], node: NodeState): void {
  for (const json of answer as FdbJson[]) {
    if (!json.mac || !json.ifname) continue;
    const mac = json.mac.toLowerCase();
    let entry: FdbState;
    if (json.master !== undefined && json.state === 'static') {
      entry = { dev: json.ifname, mac, master: json.master, ...(json.vlan !== undefined ? { vlan: json.vlan } : {}) };
    } else if (json.master === undefined && json.dst !== undefined && json.state === 'permanent' && (json.flags ?? []).includes('self')) {
      entry = { dev: json.ifname, mac, dst: canonicalIp(json.dst) };
    } else {
      continue;
    }
    node.fdb.set(fdbKey(entry), entry);
  }
}

function describe(e: FdbState): string {
  const vlan = e.vlan !== undefined ? ` in VLAN ${e.vlan}` : '';
  return e.dst !== undefined ? `${e.mac} via ${e.dst}` : `${e.mac}${vlan}`;
}

/** The entry's own selector: the table it is in and what names it there. */
function selector(e: FdbState): string {
  if (e.dst !== undefined) return `${e.mac} dev ${e.dev} dst ${e.dst} self`;
  return `${e.mac} dev ${e.dev} master${e.vlan !== undefined ? ` vlan ${e.vlan}` : ''}`;
}

function command(c: FdbChange): string {
  if (c.action === 'delete') return `fdb del ${selector(c.entry)}`;
  // replace moves a bridge entry to its port in one step; a VXLAN MAC may have several remotes.
  return c.entry.dst !== undefined ? `fdb append ${selector(c.entry)} permanent` : `fdb replace ${selector(c.entry)} static`;
}

const ALL_ZEROS = '00:00:00:00:00:00';

/** The default destination the kernel gives a VXLAN device made with `remote`: the device's, not an entry of the lab's. */
function isDevicesOwnRemote(e: FdbState, node: NodeState): boolean {
  const remote = node.links.get(e.dev)?.virtual?.settings.remote;
  return e.mac === ALL_ZEROS && e.dst !== undefined && remote !== undefined && canonicalIp(String(remote)) === e.dst;
}

export const fdbResource: NodeResource<FdbChange> = {
  kind: 'fdb',
  plural: 'forwarding entries',
  id: (c) => `fdb/${c.node}:${fdbKey(c.entry).replace(/ /g, '/')}`,
  scope: (c) => ({ tool: 'bridge', netns: c.netns }),
  commands: (c) => [{ tool: 'bridge', line: command(c) }],
  summary: (c) => `forwarding entry ${describe(c.entry)} on ${formatEndpoint({ node: c.node, ifname: c.entry.dev })}`,
  // After the port is enslaved (settings) and its VLANs set.
  dependsOn: (c, index) => [
    index.linkMade(c.node, c.entry.dev),
    ...index.sameNode(c, (o) => (o.kind === 'settings' && (o.name === c.entry.dev || o.name === c.entry.master)) || (o.kind === 'vlans' && o.name === c.entry.dev)),
  ],
  bridgeRead: { table: 'fdb', line: 'fdb show', wanted: (want) => want.fdb.size > 0, parse: parseFdb },

  /** Where the lab does not own the namespace, only the entries its record lists are its own. */
  labsOwn(want, have, recorded) {
    const mine = new Map<string, FdbState>();
    const conflicts: string[] = [];
    for (const [key, entry] of have.fdb) {
      if (recorded.has(key)) mine.set(key, entry);
      else if (want.fdb.has(key)) conflicts.push(`forwarding entry ${describe(entry)} on ${have.node}:${entry.dev} already exists and is not the lab's — remove it (bridge fdb del ${selector(entry)}) or from the file`);
    }
    return { view: { fdb: mine }, conflicts };
  },
  recordKey: (c) => (c.action === 'delete' ? undefined : fdbKey(c.entry)),
  recordKeys: (want) => [...want.fdb.keys()].sort(),

  /** A link made again loses its entries: they are set again. */
  diff(n: NodeDiff) {
    const base = { node: n.want.node, netns: n.want.netns, kind: 'fdb' as const };
    const gone = (e: FdbState) => n.links.gone.has(e.dev) || n.links.recreated.has(e.dev) || (e.master !== undefined && n.links.recreated.has(e.master));
    for (const key of [...n.want.fdb.keys()].sort()) {
      const entry = n.want.fdb.get(key)!;
      const have = n.current.fdb.get(key);
      if (have && have.dev === entry.dev && !gone(entry)) continue;
      const reason = !have ? `forwarding entry ${describe(entry)} missing` : have.dev !== entry.dev ? `${entry.mac} is behind ${have.dev}, the file says ${entry.dev}` : `goes with ${entry.dev}, made again; set again`;
      n.emit({ ...base, action: have ? 'update' : 'create', entry, reason });
    }
    for (const key of [...n.current.fdb.keys()].sort()) {
      const entry = n.current.fdb.get(key)!;
      // An entry on a link being deleted goes with it; a VXLAN device made with `remote` has that remote's entry of its own.
      if (n.want.fdb.has(key) || gone(entry) || isDevicesOwnRemote(entry, n.current)) continue;
      n.emit({ ...base, action: 'delete', entry, reason: `forwarding entry ${describe(entry)} on ${entry.dev} is not in the file` });
    }
  },
};
