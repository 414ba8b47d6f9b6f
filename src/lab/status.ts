// What `netlab status` shows of an applied lab: its nodes, their interfaces with addresses, state
// and peer, their routes. Pure: fed the state the engine reads.
import { describeVlans } from '../resources/port-vlans.js';
import { describeRoute } from '../resources/route.js';
import { ruleArgs } from '../resources/rule.js';
import { describeImpair } from '../model/impair.js';
import { formatEndpoint } from '../model/names.js';
import type { LabState, LinkState, NodeState } from '../model/types.js';
import { isVethPairedWith } from '../resources/veth-pairing.js';

export interface InterfaceStatus {
  name: string;
  type: string;
  up: boolean;
  addresses: string[];
  master?: string;
  /** A port of a VLAN-filtering bridge: "VLAN 10 (pvid, untagged)". */
  vlans?: string;
  /** "node:ifname" of the other end of a veth, when it is in the lab; otherwise what the kernel says. */
  peer?: string;
  /** A virtual interface (kind:): its kind, the parent it rides on (when in the same namespace) and its settings as read. */
  kind?: string;
  parent?: string;
  settings?: Record<string, string | number | boolean>;
}

/** A `run:` command of the node: the process apply started for it, and where its output goes. */
export interface RunStatus {
  key: string;
  command: string;
  running: boolean;
  pid?: number;
  log?: string;
}

export interface NodeStatus {
  node: string;
  kind: string;
  netns: string | null;
  exists: boolean;
  interfaces: InterfaceStatus[];
  routes: string[];
  /** Policy routing rules, as ip rule writes them. */
  rules: string[];
  /** Permanent neighbour entries: "192.0.2.2 at 02:00:00:00:00:02 dev eth0". */
  neighbors: string[];
  /** Root qdiscs that are not the kernel's defaults: "eth0 tbf 4d: rate 10mbit". */
  qdiscs: string[];
  /** Static forwarding entries: "02:00:00:00:0c:02 dev c2-eth0 master br0". */
  fdb: string[];
  runs: RunStatus[];
}

/** The other end of a veth: the one lab link that points back at it (`@ifN` and link-netnsid). */
function peerOf(state: LabState, node: NodeState, name: string, link: LinkState): string | undefined {
  const kp = link.kernelPeer;
  if (!kp) return undefined;
  if (kp.peerName) return formatEndpoint({ node: node.node, ifname: kp.peerName });
  const matches: string[] = [];
  for (const other of state.nodes.values()) {
    if (other.node === node.node) continue;
    for (const otherName of other.links.keys()) {
      if (isVethPairedWith(state.nodes, node.node, name, { node: other.node, name: otherName })) matches.push(formatEndpoint({ node: other.node, ifname: otherName }));
    }
  }
  if (matches.length === 1) return matches[0];
  return `ifindex ${kp.peerIfindex ?? '?'} in netnsid ${kp.peerNetnsId ?? '?'}`;
}

export function labStatus(state: LabState): NodeStatus[] {
  return [...state.nodes.values()]
    .sort((a, b) => a.node.localeCompare(b.node))
    .map((node) => ({
      node: node.node,
      kind: node.kind,
      netns: node.netns,
      exists: node.exists,
      interfaces: [...node.links.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((link) => ({
          name: link.name,
          type: link.type,
          up: link.up,
          addresses: link.addresses,
          ...(link.master ? { master: link.master } : {}),
          ...(link.vlans ? { vlans: describeVlans(link.vlans) } : {}),
          ...(link.type === 'veth' ? { peer: peerOf(state, node, link.name, link) } : {}),
          ...(link.virtual ? { kind: link.virtual.kind, ...(link.virtual.parent ? { parent: link.virtual.parent.name } : link.virtual.parentElsewhere ? { parent: 'another namespace' } : {}), settings: link.virtual.settings } : {}),
        })),
      routes: [...node.routes.values()].map(describeRoute),
      rules: [...node.rules.values()].sort((a, b) => a.priority - b.priority).map(ruleArgs),
      neighbors: [...node.neighbors.values()].map((n) => `${n.address} at ${n.mac} dev ${n.dev}`).sort(),
      qdiscs: [...node.qdiscs.values()].map((q) => `${q.dev} ${q.kind} ${q.handle}${q.impair ? ` ${describeImpair(q.impair)}` : ''}`.trim()).sort(),
      fdb: [...node.fdb.values()].map((e) => `${e.mac} dev ${e.dev} ${e.dst !== undefined ? `dst ${e.dst}` : `master ${e.master}${e.vlan !== undefined ? ` vlan ${e.vlan}` : ''}`}`).sort(),
      runs: [...node.runs.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, run]) => ({ key, command: run.command, running: run.alive === true, ...(run.pid ? { pid: run.pid } : {}), ...(run.log ? { log: run.log } : {}) })),
    }));
}

export function renderStatus(lab: string, nodes: NodeStatus[]): string {
  const lines = [`lab ${lab}`];
  for (const n of nodes) {
    const where = n.netns === null ? 'root namespace' : `netns ${n.netns}`;
    lines.push(`  ${n.node} (${n.kind}, ${where})${n.exists ? '' : ': MISSING'}`);
    for (const i of n.interfaces) {
      const settings = Object.entries(i.settings ?? {}).map(([k, v]) => `${k} ${String(v)}`);
      const extra = [i.parent ? `on ${i.parent}` : '', ...settings, i.master ? `master ${i.master}` : '', i.vlans ?? '', i.peer ? `peer ${i.peer}` : ''].filter(Boolean).join(', ');
      lines.push(`    ${i.name.padEnd(15)} ${(i.kind ?? i.type).padEnd(8)} ${(i.up ? 'up' : 'down').padEnd(4)} ${i.addresses.join(' ') || '-'}${extra ? `  (${extra})` : ''}`);
    }
    for (const r of n.routes) lines.push(`    route ${r}`);
    for (const r of n.rules) lines.push(`    rule ${r}`);
    for (const e of n.neighbors) lines.push(`    neighbour ${e}`);
    for (const q of n.qdiscs) lines.push(`    qdisc ${q}`);
    for (const e of n.fdb) lines.push(`    fdb ${e}`);
    for (const r of n.runs) {
      const state = r.running ? `running${r.pid ? ` (pid ${r.pid})` : ''}` : 'exited';
      lines.push(`    run ${state}: ${r.command}${r.log ? `  (output: ${r.log})` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
