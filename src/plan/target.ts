// --node: a lab narrowed to some of its nodes, for plan, apply, destroy and status. Pure.
//
// The selection is closed: the selected nodes, and the links between two of them. A link from a
// selected node to one outside is left out whole, as containerlab's --node-filter does: its end
// in the selected node is neither made nor removed, nor are the routes through it, since making
// it would need the other node's namespace, which is not to be touched. The narrowing is applied
// alike to the desired state and to the state read, so what is left out is never seen as drift.
import { UserError } from '../errors.js';
import { subnetContains } from '../model/ip.js';
import { formatEndpoint } from '../model/names.js';
import type { LabState, NodeState, RouteState } from '../model/types.js';

/** What of a selected node is left out: its ends of links to nodes outside the selection. */
export interface LeftOutEnds {
  links: Set<string>;
  /** Route keys of the routes through those links (by dev, or by a gateway on their subnets). */
  routes: Set<string>;
  /** Sysctls of those interfaces (net.ipv4.conf.IF.*, net.ipv6.conf.IF.*, *.neigh.IF.*). */
  sysctls: Set<string>;
}

export interface Selection {
  nodes: ReadonlySet<string>;
  ends: ReadonlyMap<string, LeftOutEnds>;
  leftOut: {
    /** Nodes of the file or the record that are not selected. */
    nodes: string[];
    /** Every link not between two selected nodes, as "a:eth1 <-> c:eth0". */
    links: string[];
    /** Of those, the links with one end in the selection. */
    reaching: string[];
  };
}

function linkText(a: string, aIf: string, b: string, bIf: string): string {
  return [formatEndpoint({ node: a, ifname: aIf }), formatEndpoint({ node: b, ifname: bIf })].sort().join(' <-> ');
}

/** Whether a sysctl key names interface `ifname` (dots in a name are written as / in a key). */
function namesInterface(key: string, ifname: string): boolean {
  const parts = key.split('.');
  if (parts.length < 5 || parts[0] !== 'net' || (parts[2] !== 'conf' && parts[2] !== 'neigh')) return false;
  return parts[3] === ifname.replaceAll('.', '/') || parts.slice(3, -1).join('.') === ifname;
}

function throughLinks(route: RouteState, links: Set<string>, node: NodeState): boolean {
  if (route.dev !== undefined && links.has(route.dev)) return true;
  const via = route.via;
  if (via === undefined) return false;
  return [...links].some((name) => (node.links.get(name)?.addresses ?? []).some((cidr) => subnetContains(cidr, via)));
}

/**
 * The selection for `names` in a lab whose file gives `desired` and whose record (or scan) knows
 * `known` nodes. A name in neither is an error that lists the lab's nodes.
 */
export function selectNodes(desired: LabState, known: Iterable<string>, names: readonly string[]): Selection {
  const all = new Set([...desired.nodes.keys(), ...known]);
  const unknown = names.filter((n) => !all.has(n));
  if (unknown.length > 0) {
    const list = [...all].sort().join(', ') || 'none';
    throw new UserError(`--node ${unknown.join(', ')}: no such node in lab ${desired.lab} (its nodes: ${list})`);
  }
  const nodes = new Set(names);
  const ends = new Map<string, LeftOutEnds>();
  const links = new Set<string>();
  const reaching = new Set<string>();
  for (const [name, node] of desired.nodes) {
    for (const link of node.links.values()) {
      if (link.type !== 'veth' || !link.peer || (nodes.has(name) && nodes.has(link.peer.node))) continue;
      const text = linkText(name, link.name, link.peer.node, link.peer.name);
      links.add(text);
      if (!nodes.has(name)) continue;
      reaching.add(text);
      const end = ends.get(name) ?? { links: new Set(), routes: new Set(), sysctls: new Set() };
      end.links.add(link.name);
      ends.set(name, end);
    }
  }
  for (const [name, end] of ends) {
    const node = desired.nodes.get(name)!;
    for (const [key, route] of node.routes) if (throughLinks(route, end.links, node)) end.routes.add(key);
    for (const key of node.sysctls.keys()) if ([...end.links].some((l) => namesInterface(key, l))) end.sysctls.add(key);
  }
  return {
    nodes,
    ends,
    leftOut: { nodes: [...all].filter((n) => !nodes.has(n)).sort(), links: [...links].sort(), reaching: [...reaching].sort() },
  };
}

function without<V>(map: ReadonlyMap<string, V>, drop: (key: string, value: V) => boolean): Map<string, V> {
  return new Map([...map].filter(([k, v]) => !drop(k, v)));
}

/** A state (desired or read) with only the selected nodes, and without what of them is left out. */
export function narrowState(state: LabState, selection: Selection): LabState {
  const nodes = new Map<string, NodeState>();
  for (const [name, node] of state.nodes) {
    if (!selection.nodes.has(name)) continue;
    const end = selection.ends.get(name);
    if (!end) {
      nodes.set(name, node);
      continue;
    }
    nodes.set(name, {
      ...node,
      links: without(node.links, (l) => end.links.has(l)),
      routes: without(node.routes, (key, route) => end.routes.has(key) || (route.dev !== undefined && end.links.has(route.dev))),
      sysctls: without(node.sysctls, (key) => end.sysctls.has(key)),
    });
  }
  return { ...state, nodes };
}

/** The line plan and apply print under a narrowed plan; undefined when nothing is left out. */
export function describeLeftOut(selection: Selection): string | undefined {
  const { nodes, links, reaching } = selection.leftOut;
  if (nodes.length === 0 && links.length === 0) return undefined;
  const parts: string[] = [];
  if (nodes.length > 0) parts.push(`${nodes.length} node(s) (${nodes.join(', ')})`);
  if (links.length > 0) {
    const to = reaching.length > 0 ? `, ${reaching.length} of them to a selected node (${reaching.join(', ')})` : '';
    parts.push(`${links.length} link(s)${to}`);
  }
  return `left out: ${parts.join(' and ')}; run without --node for the whole lab`;
}
