// A permanent ARP / NDP entry (`neighbors:`): an address reached at a fixed MAC on an interface,
// without asking. Entries the kernel resolves by itself are never permanent, so they are not read.
import { canonicalIp } from '../model/ip.js';
import { formatEndpoint, ROUTE_PROTOCOL } from '../model/names.js';
import { neighborKey, type NeighborState, type NodeState } from '../model/types.js';
import { markedObjects } from './marked.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type NeighborChange = ChangeBase & { kind: 'neighbor'; entry: NeighborState };

/** The fields of `ip -j neigh show` that netlab reads. */
interface IpNeighJson {
  dst?: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
  protocol?: string;
}

function parseNeighbors(answer: unknown[], node: NodeState): void {
  for (const json of answer as IpNeighJson[]) {
    if (!json.dst || !json.dev || !json.lladdr || !json.state?.includes('PERMANENT')) continue;
    const entry: NeighborState = { dev: json.dev, address: canonicalIp(json.dst), mac: json.lladdr.toLowerCase(), protocol: json.protocol };
    node.neighbors.set(neighborKey(entry), entry);
  }
}

const describe = (e: NeighborState) => `${e.address} at ${e.mac}`;

export const neighborResource: NodeResource<NeighborChange> = {
  kind: 'neighbor',
  plural: 'neighbour entries',
  id: (c) => `neighbor/${c.node}:${neighborKey(c.entry).replace(' ', '/')}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands: (c) => [
    {
      tool: 'ip',
      line:
        c.action === 'delete'
          ? `neigh del ${c.entry.address} dev ${c.entry.dev}`
          : `neigh replace ${c.entry.address} lladdr ${c.entry.mac} dev ${c.entry.dev} nud permanent proto ${ROUTE_PROTOCOL}`,
    },
  ],
  summary: (c) => `neighbour ${describe(c.entry)} on ${formatEndpoint({ node: c.node, ifname: c.entry.dev })}`,
  waitsForBeforeUp: true,
  dependsOn: (c, index) => [index.linkMade(c.node, c.entry.dev)],
  ipRead: { line: 'neigh show nud permanent', parse: parseNeighbors },

  labsOwn(want, have, recorded) {
    const { mine, conflicts } = markedObjects(have.neighbors, want.neighbors, recorded, (e) => `neighbour ${e.address} on ${have.node}:${e.dev} already exists and is not the lab's — remove it (ip neigh del ${e.address} dev ${e.dev}) or from the file`);
    return { view: { neighbors: mine }, conflicts };
  },
  recordKey: (c) => (c.action === 'delete' ? undefined : neighborKey(c.entry)),
  recordKeys: (want) => [...want.neighbors.keys()].sort(),

  /** A link made again loses its entries: they are set again. */
  diff(n: NodeDiff) {
    const base = { node: n.want.node, netns: n.want.netns, kind: 'neighbor' as const };
    for (const key of [...n.want.neighbors.keys()].sort()) {
      const entry = n.want.neighbors.get(key)!;
      const have = n.current.neighbors.get(key);
      if (have && have.mac === entry.mac && !n.links.gone.has(entry.dev)) continue;
      const reason = !have ? `neighbour ${describe(entry)} missing` : have.mac !== entry.mac ? `neighbour ${entry.address} is at ${have.mac}, the file says ${entry.mac}` : `goes with ${entry.dev}, made again; set again`;
      n.emit({ ...base, action: have ? 'update' : 'create', entry, reason });
    }
    for (const key of [...n.current.neighbors.keys()].sort()) {
      const entry = n.current.neighbors.get(key)!;
      // An entry on a link being deleted goes with it.
      if (n.want.neighbors.has(key) || n.links.gone.has(entry.dev)) continue;
      n.emit({ ...base, action: 'delete', entry, reason: `neighbour ${describe(entry)} is not in the file` });
    }
  },
};
